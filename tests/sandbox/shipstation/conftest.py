"""Fixtures for the ShipStation sandbox tests: a running sandbox on a clock the test
moves, an account, an HTTP client holding its Basic credentials, and a local webhook
receiver that records exactly what it was sent."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import pytest

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
    state.url = f"http://127.0.0.1:{server.server_address[1]}/shipstation?token=t0k"
    yield state
    server.shutdown()
    server.server_close()


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
