"""ui.page_ms (issue 16): server time of the pages a merchant opens all day — the
dashboard, the orders list (unfiltered, filtered, searched, sorted), an order, a plugin
page — p50 and p95 over repeated requests, and the CSV export's rows per second, with
10,000 orders and 1,000 customers in SQLite. In process (Starlette's TestClient, signed
in through the real form): what is timed is the app, not a network.

Targets (the issue): p95 ≤ 150 ms per page, export ≥ 5,000 rows/s.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import statistics
import time
from collections.abc import Iterator
from decimal import Decimal

from sqlalchemy import insert
from starlette.testclient import TestClient

from benchmarks.harness import Figure
from benchmarks.support import bench_hub, null_plugins
from tradewind.auth import service as auth
from tradewind.auth.models import Role
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.customers.models import Customer
from tradewind.core.orders.models import Order, OrderLine
from tradewind.hub import Hub
from tradewind.server import create_app
from tradewind.vocabulary import FinancialStatus, FulfillmentStatus, OrderSource, OrderStatus

ORDERS = 10_000
CUSTOMERS = 1_000
ROUNDS = 30
TARGET_P95_MS = 150.0
TARGET_ROWS_PER_S = 5_000.0
PASSWORD = "bench password 1"  # noqa: S105 - a throwaway user of a throwaway database


def run() -> Iterator[Figure]:
    with bench_hub() as hub:
        plugin_id, order_id = _seed(hub)
        with TestClient(create_app(hub)) as client:
            _sign_in(client)
            pages = {
                "dashboard": "/",
                "orders": "/orders",
                "orders_filtered": "/orders?status=open&placed=7d&flagged=any",
                "orders_search": "/orders?q=buyer42",
                "orders_by_total": "/orders?sort=-total&page=20",
                "order": f"/orders/{order_id}",
                "plugin": f"/plugins/{plugin_id}",
            }
            for name, path in pages.items():
                yield from _page(client, name, path)
            yield from _export(client)


def _seed(hub: Hub) -> tuple[int, int]:
    """10,000 orders of one plugin over the last 60 days, 1,000 customers, a line each
    (one in ten matching no product), written in bulk (the rows the services would
    write; the benchmark times reading them)."""
    (plugin_id,) = null_plugins(hub, 1)
    rng = random.Random(16)
    now = dt.datetime.now(dt.UTC)
    with hub.db.unit_of_work() as session:
        auth.create_user(session, "bench", PASSWORD, Role.ADMIN)
        product = catalog.create_product(session, ProductIn(sku="MUG", title="Mug", price=12))
        from tradewind.core.plugins import service as plugins

        channel_id = plugins.get_plugin(session, plugin_id).channel_ids[0]
        session.execute(
            insert(Customer),
            [
                {
                    "id": number + 1,
                    "email": f"buyer{number}@example.com",
                    "email_key": f"buyer{number}@example.com",
                    "first_name": f"First{number}",
                    "last_name": f"Last{number}",
                }
                for number in range(CUSTOMERS)
            ],
        )
        statuses = [OrderStatus.OPEN] * 8 + [OrderStatus.CLOSED, OrderStatus.CANCELLED]
        rows = []
        for number in range(ORDERS):
            customer = rng.randrange(CUSTOMERS)
            total = Decimal(rng.randrange(500, 50_000)) / 100
            guest = number % 10 == 0
            rows.append(
                {
                    "id": number + 1,
                    "channel_id": channel_id,
                    "plugin_id": plugin_id,
                    "external_id": f"ext-{number}",
                    "number": f"#{1000 + number}",
                    "status": rng.choice(statuses),
                    "financial_status": rng.choice(list(FinancialStatus)),
                    "fulfillment_status": FulfillmentStatus.UNFULFILLED,
                    "source": OrderSource.WEB,
                    "placed_at": now - dt.timedelta(seconds=rng.randrange(60 * 86400)),
                    "currency": "USD",
                    "customer_id": None if guest else customer + 1,
                    "email": f"buyer{customer}@example.com",
                    "subtotal": total,
                    "total": total,
                    "missing_product": number % 10 == 3,
                    "missing_customer_fields": ["email"] if guest else [],
                    "tags": [],
                }
            )
        session.execute(insert(Order), rows)
        session.execute(
            insert(OrderLine),
            [
                {
                    "order_id": number + 1,
                    "product_id": None if number % 10 == 3 else product.id,
                    "sku": f"LOST-{number}" if number % 10 == 3 else "MUG",
                    "sku_key": f"lost-{number}" if number % 10 == 3 else "mug",
                    "quantity": 1,
                    "unit_price": rows[number]["total"],
                }
                for number in range(ORDERS)
            ],
        )
    return plugin_id, ORDERS // 2


def _sign_in(client: TestClient) -> None:
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    answer = client.post(
        "/login",
        data={"username": "bench", "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]


def _load() -> str:
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"


def _page(client: TestClient, name: str, path: str) -> Iterator[Figure]:
    """Wall time, and the process's CPU time per request (the app's own cost, which a
    machine busy with other work does not inflate; the client's share is small)."""
    assert client.get(path).status_code == 200, path  # warm: templates, statements
    wall, cpu = [], []
    for _ in range(ROUNDS):
        started, used = time.perf_counter(), time.process_time()
        answer = client.get(path)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
        assert answer.status_code == 200, path
    note = (
        f"GET {path}, {ROUNDS} requests, {ORDERS:,} orders, {CUSTOMERS:,} customers, "
        f"SQLite, {_load()}"
    )
    yield Figure("ui.page_ms", f"{name}_p50", round(statistics.median(wall), 1), "ms", note=note)
    yield Figure(
        "ui.page_ms", f"{name}_p95", round(_p95(wall), 1), "ms", target=TARGET_P95_MS, note=note
    )
    yield Figure(
        "ui.page_ms",
        f"{name}_cpu_p95",
        round(_p95(cpu), 1),
        "ms",
        target=TARGET_P95_MS,
        note=note,
    )


def _export(client: TestClient) -> Iterator[Figure]:
    started, used = time.perf_counter(), time.process_time()
    rows = 0
    with client.stream("GET", "/orders/export.csv") as answer:
        assert answer.status_code == 200
        for line in answer.iter_lines():
            rows += 1 if line else 0
    seconds, cpu = time.perf_counter() - started, time.process_time() - used
    rows -= 1  # the header
    assert rows == ORDERS, rows
    note = f"GET /orders/export.csv, every one of {rows:,} orders, streamed, {_load()}"
    yield Figure(
        "ui.page_ms",
        "export_rows_per_s",
        round(rows / seconds),
        "rows/s",
        target=TARGET_ROWS_PER_S,
        note=f"{note}, {seconds:.2f} s",
    )
    yield Figure(
        "ui.page_ms",
        "export_rows_per_cpu_s",
        round(rows / cpu),
        "rows/s",
        target=TARGET_ROWS_PER_S,
        note=f"{note}, {cpu:.2f} s of CPU",
    )
