"""Fixtures for the EasyPost sandbox tests: a running sandbox with a test key, an HTTP
client holding it, and a local webhook receiver that records exactly what it was sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tradewind.sandbox.easypost import EasyPostSandbox

FIXTURES = Path(__file__).parent / "fixtures"
TEST_KEY = "EZTKtestkey0000000000000000000001"
PRODUCTION_KEY = "EZAKlivekey0000000000000000000001"
VECTOR_SECRET = "sécret"  # EasyPost's signature test vector's secret


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_bytes())


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next status of ``statuses`` (then 200)."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with state.arrived:
                status = state.statuses.pop(0) if state.statuses else 200
                state.received.append(Received(self.path, dict(self.headers.items()), body))
                state.arrived.notify_all()
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/easypost"
    yield state
    server.shutdown()
    server.server_close()


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
