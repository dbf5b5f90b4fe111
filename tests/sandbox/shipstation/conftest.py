"""Fixtures for the ShipStation sandbox tests: a running sandbox on a clock the test
moves, an account, an HTTP client holding its Basic credentials, and a local webhook
receiver that records exactly what it was sent."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.sandbox.receiver import Receiver, receiving
from tradewind.sandbox.shipstation import ShipStationSandbox

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "0123456789abcdef0123456789abcdef"
SECRET = "fedcba9876543210fedcba9876543210"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_bytes())


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving("/shipstation?token=t0k") as listening:
        yield listening


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[ShipStationSandbox]:
    with ShipStationSandbox(time_scale=100_000, clock=clock) as running:
        running.add_account(KEY, SECRET)
        yield running


@pytest.fixture
def client(sandbox: ShipStationSandbox) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=sandbox.base_url, auth=(KEY, SECRET), timeout=10) as http:
        yield http


def order_body(**changes: Any) -> dict[str, Any]:
    """The docs' create-order request, with fields changed (None removes one)."""
    body: dict[str, Any] = copy.deepcopy(fixture("orders_createorder.request.json"))
    for name, value in changes.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def create_order(client: httpx2.Client, **changes: Any) -> Any:
    response = client.post("/orders/createorder", json=order_body(**changes))
    assert response.status_code == 200, response.text
    return response.json()
