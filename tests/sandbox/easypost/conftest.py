"""Fixtures for the EasyPost sandbox tests: a running sandbox with a test key, an HTTP
client holding it, and a local webhook receiver that records exactly what it was sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.sandbox.receiver import Receiver, receiving
from tradewind.sandbox.easypost import EasyPostSandbox

FIXTURES = Path(__file__).parent / "fixtures"
TEST_KEY = "EZTKtestkey0000000000000000000001"
PRODUCTION_KEY = "EZAKlivekey0000000000000000000001"
VECTOR_SECRET = "sécret"  # EasyPost's signature test vector's secret


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_bytes())


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving("/easypost") as listening:
        yield listening


@pytest.fixture
def sandbox() -> Iterator[EasyPostSandbox]:
    with EasyPostSandbox(time_scale=100_000) as running:
        running.add_key("test", TEST_KEY)
        running.add_key("production", PRODUCTION_KEY)
        yield running


@pytest.fixture
def client(sandbox: EasyPostSandbox) -> Iterator[httpx2.Client]:
    """A plain HTTP client authenticating as curl does: the key as Basic username."""
    with httpx2.Client(base_url=sandbox.api_base, auth=(TEST_KEY, ""), timeout=10) as http:
        yield http


def shipment_body(weight: object = 65.9, **extra: Any) -> dict[str, Any]:
    """The docs' create-shipment request, with the parcel weight chosen."""
    body: dict[str, Any] = fixture("shipments-create.request.json")
    body["shipment"].pop("customs_info")
    body["shipment"]["parcel"]["weight"] = weight
    body["shipment"].update(extra)
    return body


def create_shipment(client: httpx2.Client, weight: object = 65.9, **extra: Any) -> Any:
    response = client.post("/shipments", json=shipment_body(weight, **extra))
    assert response.status_code == 201, response.text
    return response.json()


def subscribe(client: httpx2.Client, url: str, secret: str | None = VECTOR_SECRET) -> Any:
    webhook: dict[str, Any] = {"url": url}
    if secret is not None:
        webhook["webhook_secret"] = secret
    response = client.post("/webhooks", json={"webhook": webhook})
    assert response.status_code == 201, response.text
    return response.json()
