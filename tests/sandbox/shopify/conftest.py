"""Fixtures for the Shopify sandbox tests: a running sandbox with one shop, and a local
webhook receiver that records exactly what it was sent."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2
import pytest

from tradewind.sandbox.shopify import ShopifySandbox

SHOP = "acme"
TOKEN = "shpat_acme_test"
APP_KEY = "acme-app"
APP_SECRET = "acme-secret"


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
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.01)
        with self.lock:
            return list(self.received)

    def topics(self) -> list[str]:
        with self.lock:
            return [r.headers["x-shopify-topic"] for r in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with state.lock:
                state.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                status = state.statuses.pop(0) if state.statuses else 200
            if state.delay:
                time.sleep(state.delay)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def sandbox() -> Iterator[ShopifySandbox]:
    with ShopifySandbox(time_scale=100_000) as running:
        running.create_shop(SHOP, token=TOKEN, app_key=APP_KEY, app_secret=APP_SECRET)
        yield running


@pytest.fixture
def client(sandbox: ShopifySandbox) -> Iterator[httpx2.Client]:
    """A plain HTTP client holding the shop's Admin API token."""
    with httpx2.Client(
        base_url=sandbox.base_url, headers={"X-Shopify-Access-Token": TOKEN}, timeout=10
    ) as http:
        yield http


def subscribe(client: httpx2.Client, topic: str, address: str, version: str = "2025-07") -> int:
    response = client.post(
        f"/admin/api/{version}/webhooks.json",
        json={"webhook": {"topic": topic, "address": address, "format": "json"}},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["webhook"]["id"])


def catalog(sandbox: ShopifySandbox, stock: int = 10) -> dict[str, Any]:
    """Two products; returns the first one's REST document."""
    first = sandbox.add_product(
        SHOP, "Enamel mug", [{"sku": "MUG-1", "price": "12.00", "available": stock}]
    )
    sandbox.add_product(
        SHOP, "Canvas tote", [{"sku": "TOTE-1", "price": "20.00", "available": stock}]
    )
    return first
