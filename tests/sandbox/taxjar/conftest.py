"""Fixtures for the TaxJar sandbox tests: one running sandbox per module, a fresh account
per test, and the documentation's example payloads."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tradewind.sandbox.taxjar import TaxJarSandbox

FIXTURES = Path(__file__).parent / "fixtures"
SCENARIOS = (
    "taxes_us_ca_destination",
    "taxes_no_nexus",
    "taxes_shipping_exemption",
    "taxes_origin_based",
    "taxes_canada",
    "taxes_clothing_exemption",
)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def same_json(got: Any, want: Any, where: str = "") -> list[str]:
    """Where ``got`` differs from ``want``, including a number's JSON form (``15`` is not
    ``15.0``), as a list of paths; empty when identical."""
    if isinstance(want, dict) and isinstance(got, dict):
        out: list[str] = []
        for key in sorted(set(want) | set(got)):
            if key not in got or key not in want:
                out.append(f"{where}.{key} present in only one")
            else:
                out += same_json(got[key], want[key], f"{where}.{key}")
        return out
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return [f"{where} length {len(got)} != {len(want)}"]
        return [
            d
            for i, (g, w) in enumerate(zip(got, want, strict=True))
            for d in same_json(g, w, f"{where}[{i}]")
        ]
    if type(got) is not type(want) or got != want:
        return [f"{where}: {got!r} != {want!r}"]
    return []


@pytest.fixture(scope="module")
def sandbox() -> Iterator[TaxJarSandbox]:
    with TaxJarSandbox() as running:
        yield running


@pytest.fixture
def token(sandbox: TaxJarSandbox) -> str:
    """A new account's token: each test has its own nexus, transactions and faults."""
    return sandbox.create_account(f"tok_{uuid.uuid4().hex}").token


@pytest.fixture
def http(sandbox: TaxJarSandbox, token: str) -> Iterator[httpx2.Client]:
    with httpx2.Client(
        base_url=sandbox.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:
        yield client


@pytest.fixture
def anonymous(sandbox: TaxJarSandbox) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=sandbox.base_url, timeout=10) as client:
        yield client
