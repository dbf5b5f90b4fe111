"""api.order_lines (issue 10 item 7): seconds to create an order of 1,000 lines through
the real API (``tradewind run`` over HTTP, a read-write token, every line a stocked
product, so each one is matched and reserves stock), on SQLite and on PostgreSQL, and the
slowest read-only GET answered while such an order is being written (a GET once waited
13 s behind one, to record its token's last use).
"""

from __future__ import annotations

import contextlib
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx2

from benchmarks.harness import Figure, Reported, measured
from benchmarks.support import bench_hub, postgres_database, tradewind_server
from tradewind.auth import service as auth
from tradewind.auth.models import TokenScope
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.channels import service as channels
from tradewind.core.inventory import service as inventory
from tradewind.hub import Hub

LINES = 1_000
ROUNDS = 3
TARGET_SECONDS = 1.0


def run() -> Iterator[Reported]:
    yield from measured("api.order_lines", _metrics("sqlite"), lambda: _order_lines("sqlite", None))
    yield from measured("api.order_lines", _metrics("postgresql"), _on_postgresql)


def _metrics(backend: str) -> list[str]:
    return [f"seconds_{backend}", f"slowest_get_during_write_ms_{backend}"]


def _on_postgresql() -> Iterator[Figure]:
    with postgres_database() as url:
        yield from _order_lines("postgresql", url)


def _order_lines(backend: str, database_url: str | None) -> Iterator[Figure]:
    with bench_hub(database_url) as hub, tempfile.TemporaryDirectory() as extra:
        channel_id, token = _catalog(hub)
        with tradewind_server(hub, Path(extra)) as base:
            headers = {"Authorization": f"Bearer {token}"}
            with httpx2.Client(base_url=base, headers=headers, timeout=300) as client:
                _create(client, channel_id, 10)  # warm: first compiles and connections
                seconds = [_create(client, channel_id, LINES) for _ in range(ROUNDS)]
                # Then once more with reads going on, on a token not used yet (its first
                # GET has a last use to record).
                reader = {"Authorization": f"Bearer {_token(hub, TokenScope.READ)}"}
                reads: list[float] = []
                with _reading(base, reader, reads):
                    during = _create(client, channel_id, LINES)
    note = f"{backend}, {LINES} lines of stocked products, median of {ROUNDS}"
    yield Figure(
        bench="api.order_lines",
        metric=f"seconds_{backend}",
        value=round(statistics.median(seconds), 3),
        unit="s",
        target=TARGET_SECONDS,
        note=note,
    )
    yield Figure(
        bench="api.order_lines",
        metric=f"slowest_get_during_write_ms_{backend}",
        value=round(max(reads) * 1000, 1) if reads else float("nan"),
        unit="ms",
        note=f"{len(reads)} GET /api/v1/channels one after another while a {LINES}-line "
        f"order took {during:.2f} s, on a read-only token used for the first time",
    )


def _catalog(hub: Hub) -> tuple[int, str]:
    with hub.db.unit_of_work() as session:
        channel = channels.create_channel(session, "Wholesale")
        warehouse = inventory.create_warehouse(session, "MAIN")
        for number in range(LINES):
            product = catalog.create_product(
                session, ProductIn(sku=f"SKU-{number}", title=f"Product {number}", price=1)
            )
            inventory.receive(session, product.id, warehouse.id, 1_000_000)
        channel_id = channel.id
    return channel_id, _token(hub, TokenScope.READ_WRITE)


def _token(hub: Hub, scope: TokenScope) -> str:
    with hub.db.unit_of_work() as session:
        return auth.create_token(session, f"bench-{uuid.uuid4().hex[:8]}", scope).secret


def _create(client: httpx2.Client, channel_id: int, lines: int) -> float:
    body = {
        "channel_id": channel_id,
        "email": "buyer@example.com",
        "lines": [
            {"sku": f"SKU-{number}", "quantity": 1, "unit_price": str(Decimal("1.50"))}
            for number in range(lines)
        ],
    }
    started = time.perf_counter()
    response = client.post("/api/v1/orders", json=body)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


@contextlib.contextmanager
def _reading(base: str, headers: dict[str, str], latencies: list[float]) -> Iterator[None]:
    """GETs one after another on a fresh read-only token while the block runs."""
    done = threading.Event()

    def read() -> None:
        with httpx2.Client(base_url=base, headers=headers, timeout=300) as client:
            while not done.is_set():
                started = time.perf_counter()
                client.get("/api/v1/channels").raise_for_status()
                latencies.append(time.perf_counter() - started)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        yield
    finally:
        done.set()
        reader.join()
