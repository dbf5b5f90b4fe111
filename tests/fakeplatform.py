"""Fake Market: a tiny platform over real HTTP on loopback, for engine tests.

It keeps orders, stock per (sku, location) and shipments in memory, answers the fake
connector's few endpoints, counts every call, and injects faults on demand (429 with
Retry-After, 503, 401 from a revoked token, latency). It is not the Shopify sandbox: it
exists so the engine can be proven against a connector it knows nothing about.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "fake-token-0001"
WEBHOOK_SECRET = "fake-webhook-secret"


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


@dataclass
class Fault:
    status: int
    remaining: int
    retry_after: float = 1.0
    path_prefix: str = ""


@dataclass
class FakeMarket:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    stock: dict[tuple[str, str], int] = field(default_factory=dict)
    shipments: list[dict[str, Any]] = field(default_factory=list)
    pushes: list[dict[str, Any]] = field(default_factory=list)  # every stock call, in order
    push_times: list[float] = field(default_factory=list)  # time.monotonic() of each
    calls: Counter[str] = field(default_factory=Counter)
    faults: list[Fault] = field(default_factory=list)
    token: str = TOKEN
    latency: float = 0.0
    page_size: int = 50
    lock: threading.RLock = field(default_factory=threading.RLock)

    # ------------------------------------------------------------------------ state

    def add_order(
        self,
        external_id: str,
        *,
        sku: str = "MUG",
        quantity: int = 1,
        placed_at: dt.datetime | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        moment = placed_at or dt.datetime.now(dt.UTC)
        order = {
            "id": external_id,
            "number": f"#{external_id}",
            "status": "open",
            "financial_status": "paid",
            "fulfillment_status": "unfulfilled",
            "source": "web",
            "placed_at": iso(moment),
            "updated_at": iso(moment),
            "currency": "EUR",
            "email": f"buyer{external_id}@example.com",
            "shipping_address": {
                "first_name": "Bo",
                "address1": "1 Quay",
                "city": "Oslo",
                "country_code": "NO",
            },
            "lines": [
                {
                    "id": f"{external_id}-1",
                    "sku": sku,
                    "quantity": quantity,
                    "unit_price": "10.00",
                    "title": sku,
                }
            ],
            "location": "loc-1",
            "test": False,
        }
        order.update(fields)
        with self.lock:
            self.orders[external_id] = order
        return order

    def touch(self, external_id: str, **changes: Any) -> None:
        with self.lock:
            order = self.orders[external_id]
            order.update(changes)
            order["updated_at"] = iso(dt.datetime.now(dt.UTC))

    def fail_next(
        self, status: int, times: int = 1, *, retry_after: float = 1.0, path_prefix: str = ""
    ) -> None:
        with self.lock:
            self.faults.append(Fault(status, times, retry_after, path_prefix))

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    # ---------------------------------------------------------------------- serving

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        if self.latency:
            time.sleep(self.latency)
        with self.lock:
            self.calls[f"{method} {path.split('?')[0]}"] += 1
            for fault in self.faults:
                if fault.remaining > 0 and path.startswith(fault.path_prefix):
                    fault.remaining -= 1
                    extra = {"Retry-After": str(fault.retry_after)} if fault.status == 429 else {}
                    return fault.status, extra, {"error": f"injected {fault.status}"}
            if headers.get("authorization") != f"Bearer {self.token}":
                return 401, {}, {"error": "invalid token"}
            return self._route(method, path, query, body)

    def _route(
        self, method: str, path: str, query: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        parts = [part for part in path.split("/") if part]
        if parts == ["me"]:
            return 200, {}, {"shop": "fake-shop", "scopes": ["orders", "stock"]}
        if parts == ["locations"]:
            return (
                200,
                {},
                {"locations": [{"id": "loc-1", "name": "Main"}, {"id": "loc-2", "name": "Popup"}]},
            )
        if parts == ["orders"] and method == "GET":
            return 200, {}, self._list(query)
        if len(parts) == 2 and parts[0] == "orders" and method == "GET":
            order = self.orders.get(parts[1])
            return (200, {}, {"order": order}) if order else (404, {}, {"error": "not found"})
        if len(parts) == 3 and parts[0] == "orders" and parts[2] == "shipments":
            payload = json.loads(body)
            shipment = {"id": f"S{len(self.shipments) + 1}", "order": parts[1], **payload}
            self.shipments.append(shipment)
            return 201, {}, {"shipment": shipment}
        if parts == ["inventory"] and method == "POST":
            payload = json.loads(body)
            self.pushes.append(payload)
            self.push_times.append(time.monotonic())
            results = []
            for level in payload["levels"]:
                key = (level["sku"], level["location"])
                if level["sku"].startswith("REFUSE"):
                    results.append(
                        {
                            "sku": level["sku"],
                            "location": level["location"],
                            "ok": False,
                            "error": "unknown item",
                        }
                    )
                    continue
                if payload["mode"] == "delta":
                    self.stock[key] = self.stock.get(key, 0) + level["delta"]
                else:
                    self.stock[key] = level["available"]
                results.append(
                    {
                        "sku": level["sku"],
                        "location": level["location"],
                        "ok": True,
                        "quantity": self.stock[key],
                    }
                )
            return 200, {}, {"results": results}
        return 404, {}, {"error": f"no route {method} {path}"}

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        field_name = "placed_at" if query.get("by") == "created_at" else "updated_at"
        since = dt.datetime.fromisoformat(query["since"]) if query.get("since") else None
        until = dt.datetime.fromisoformat(query["until"]) if query.get("until") else None

        def when(order: dict[str, Any]) -> dt.datetime:
            return dt.datetime.fromisoformat(order[field_name])

        selected = sorted(
            (
                o
                for o in self.orders.values()
                if (since is None or when(o) >= since) and (until is None or when(o) < until)
            ),
            key=lambda o: (when(o), o["id"]),
        )
        offset = int(query.get("cursor") or 0)
        page = selected[offset : offset + self.page_size]
        more = offset + self.page_size < len(selected)
        return {"orders": page, "next_cursor": str(offset + self.page_size) if more else None}

    def webhook(
        self,
        order_id: str,
        *,
        delivery: str,
        topic: str = "orders/updated",
        secret: str = WEBHOOK_SECRET,
    ) -> tuple[dict[str, str], bytes]:
        """Headers and body of a webhook the platform would send about ``order_id``."""
        body = json.dumps({"order_id": order_id, "topic": topic}).encode()
        signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
        return (
            {
                "X-Fake-Delivery": delivery,
                "X-Fake-Signature": signature.decode(),
                "X-Fake-Topic": topic,
                "Content-Type": "application/json",
            },
            body,
        )


class _Handler(BaseHTTPRequestHandler):
    market: FakeMarket
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        split = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(split.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        status, extra, payload = self.market.handle(self.command, split.path, query, headers, body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815 (http.server names)

    def log_message(self, format: str, *args: Any) -> None:
        return


class FakeMarketServer:
    """Fake Market on 127.0.0.1, in a background thread."""

    def __init__(self, market: FakeMarket | None = None) -> None:
        self.market = market or FakeMarket()
        handler = type("Handler", (_Handler,), {"market": self.market})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeMarketServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
