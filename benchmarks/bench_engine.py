"""engine.ledger_throughput, engine.webhook_intake and engine.stock_coalescing (issue 3).

ledger_throughput: units of work claimed, executed and completed per second, through the
real queue and drainers, with a connector that costs nothing — once embedded (SQLite +
SqliteHuey, one process) and once at scale (PostgreSQL + Redis, two worker processes).

webhook_intake: signed deliveries per second accepted by ``tradewind run`` over real HTTP
(size cap, signature check, inbox write and work row, all before the 200), with the p99
acknowledgement time seen by the sender, and a count that nothing was lost.

stock_coalescing: 10,000 stock changes on 500 products of one plugin, made within its
window, through the embedded engine: how many pushes went out (the floor is one per 250
levels) and how long after the first change the first push left (target: window + 2 s).
"""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import func, select

from benchmarks import bare
from benchmarks.harness import Figure, Reported, measured
from benchmarks.support import (
    NullConnector,
    bench_hub,
    child_env,
    entry_point_dir,
    null_plugins,
    postgres_database,
    sign,
    tradewind_server,
)
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.inventory import service as inventory
from tradewind.core.links import service as links
from tradewind.core.plugins import service as plugins
from tradewind.hub import Hub
from tradewind.sync import ledger
from tradewind.sync.models import InboxDelivery, SyncWork, WorkKind, WorkState
from tradewind.sync.worker import Engine
from tradewind.vocabulary import StockMode

ITEMS = 20_000
PLUGINS = 4
DELIVERIES = 5_000
CONCURRENCY = 16


REDIS = "redis://127.0.0.1:6379/0"

COALESCE_PRODUCTS = 500
COALESCE_CHANGES = 10_000
COALESCE_WINDOW = 10


def run() -> Iterator[Reported]:
    yield from measured(
        "engine.ledger_throughput", ["items_per_second_embedded"], lambda: [_embedded_throughput()]
    )
    yield from measured(
        "engine.ledger_throughput",
        ["items_per_second_postgres_redis"],
        lambda: [_scaled_throughput()],
    )
    yield from measured(
        "engine.webhook_intake", ["deliveries_per_second", "p99_ack_ms"], _webhook_intake
    )
    yield from measured(
        "engine.stock_coalescing", ["pushes", "first_push_seconds"], _stock_coalescing
    )


def _queue(hub: Hub, plugins: list[int]) -> None:
    per = ITEMS // len(plugins)
    with hub.db.unit_of_work() as session:
        for plugin in plugins:
            ledger.enqueue_many(
                session, plugin, WorkKind.IMPORT_ORDER, [f"{plugin}-{n}" for n in range(per)]
            )


def _wait_done(hub: Hub, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with hub.db.read() as session:
            left = session.scalar(
                select(func.count()).select_from(SyncWork).where(SyncWork.state != WorkState.DONE)
            )
        if left == 0:
            return
        time.sleep(0.1)
    raise RuntimeError("work did not finish")


def _embedded_throughput() -> Figure:
    floor = bare.huey_items_per_second(ITEMS)
    with bench_hub() as hub:
        plugins = null_plugins(hub, PLUGINS)
        _queue(hub, plugins)
        engine = Engine(hub)
        started = time.perf_counter()
        engine.start(workers=PLUGINS)
        for plugin in plugins:
            engine.kick(plugin)
        try:
            _wait_done(hub)
        finally:
            engine.stop()
        elapsed = time.perf_counter() - started
    return Figure(
        bench="engine.ledger_throughput",
        metric="items_per_second_embedded",
        value=round(ITEMS / elapsed),
        unit="items/s",
        floor=round(floor),
        target=1000,
        note=f"SQLite + SqliteHuey, 1 process, {PLUGINS} plugins, {ITEMS} items; floor: bare "
        f"SqliteHuey enqueue + dequeue of as many no-op tasks ({ITEMS / elapsed / floor:.2f}x)",
    )


def _scaled_throughput() -> Figure:
    floor = bare.huey_items_per_second(ITEMS, REDIS)
    queue = f"{REDIS}?name=tw-bench-{uuid.uuid4().hex[:8]}"
    with (
        postgres_database() as url,
        bench_hub(url, queue) as hub,
        tempfile.TemporaryDirectory() as extra,
    ):
        plugins = null_plugins(hub, PLUGINS)
        _queue(hub, plugins)
        env = child_env(hub, entry_point_dir(Path(extra)))
        env["TRADEWIND_RECONCILE_SECONDS"] = "0.2"
        started = time.perf_counter()
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "tradewind", "worker", "--threads", "4"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(2)
        ]
        try:
            _wait_done(hub)
            elapsed = time.perf_counter() - started
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=30)
    return Figure(
        bench="engine.ledger_throughput",
        metric="items_per_second_postgres_redis",
        value=round(ITEMS / elapsed),
        unit="items/s",
        floor=round(floor),
        target=1000,
        note=f"PostgreSQL + RedisHuey, 2 worker processes, {PLUGINS} plugins; floor: bare "
        f"RedisHuey enqueue + dequeue of as many no-op tasks ({ITEMS / elapsed / floor:.2f}x)",
    )


def _webhook_intake() -> Iterator[Figure]:
    with tempfile.TemporaryDirectory() as scratch, bare.served("intake", f"{scratch}/d.db") as base:
        floor_latencies, floor_elapsed, floor_statuses = asyncio.run(_send(base, 0))
    if floor_statuses.count(200) != DELIVERIES:
        raise RuntimeError(f"the bare intake answered {set(floor_statuses)}")
    with bench_hub() as hub, tempfile.TemporaryDirectory() as extra:
        (plugin,) = null_plugins(hub, 1)
        with tradewind_server(hub, Path(extra)) as base:
            latencies, elapsed, statuses = asyncio.run(_send(base, plugin))
        with hub.db.read() as session:
            stored = session.scalar(select(func.count()).select_from(InboxDelivery))
            work = session.scalar(select(func.count()).select_from(SyncWork))
    accepted = statuses.count(200)
    lost = DELIVERIES - min(stored or 0, work or 0)
    rate, floor_rate = DELIVERIES / elapsed, DELIVERIES / floor_elapsed
    note = (
        f"{DELIVERIES} deliveries, {CONCURRENCY} concurrent, {accepted} answered 200, lost "
        f"{lost}; floor: a bare ASGI endpoint under the same uvicorn doing the same HMAC check "
        f"and one INSERT ({rate / floor_rate:.2f}x its rate)"
    )
    yield Figure(
        bench="engine.webhook_intake",
        metric="deliveries_per_second",
        value=round(rate),
        unit="deliveries/s",
        floor=round(floor_rate),
        target=1000,
        note=note,
    )
    yield Figure(
        bench="engine.webhook_intake",
        metric="p99_ack_ms",
        value=round(_p99(latencies) * 1000, 1),
        unit="ms",
        floor=round(_p99(floor_latencies) * 1000, 1),
        target=50,
        note=note,
    )


def _p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100)[98]


async def _send(base: str, plugin: int) -> tuple[list[float], float, list[int]]:
    """Send every delivery over ``CONCURRENCY`` keep-alive connections. The requests are
    built (and signed) before the clock starts and spoken as raw HTTP/1.1, so that on a
    2-core machine the sender's own cost stays small beside the server's."""
    host, port = base.removeprefix("http://").split(":")
    requests = []
    for number in range(DELIVERIES):
        body = json.dumps({"order_id": f"o-{number}"}).encode()
        head = (
            f"POST /hooks/{plugin}/orders/create HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"X-Signature: {sign(body)}\r\nX-Delivery: d-{number}\r\n\r\n"
        )
        requests.append(head.encode() + body)
    latencies: list[float] = []
    statuses: list[int] = []
    queue = iter(requests)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for request in queue:
                sent = time.perf_counter()
                writer.write(request)
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - sent)
                statuses.append(int(head.split(b" ", 2)[1]))
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(CONCURRENCY)))
    return latencies, time.perf_counter() - started, statuses


def _stock_coalescing() -> Iterator[Figure]:
    with bench_hub() as hub:
        (plugin,) = null_plugins(hub, 1)
        with hub.db.unit_of_work() as session:
            warehouse = inventory.create_warehouse(session, "MAIN", "Main")
            products = [
                catalog.create_product(session, ProductIn(sku=f"C{n:03d}", title="c")).id
                for n in range(COALESCE_PRODUCTS)
            ]
            links.sync_locations(session, plugin, [("loc-1", "Main")])
            links.map_location(session, plugin, "loc-1", warehouse_id=warehouse.id, is_default=True)
            plugins.set_stock_sync(
                session, plugin, mode=StockMode.ABSOLUTE, window_seconds=COALESCE_WINDOW
            )
        NullConnector.pushed.clear()
        engine = Engine(hub)
        engine.start(workers=2)
        try:
            started = time.monotonic()
            for first in range(0, COALESCE_CHANGES, 100):
                with hub.db.unit_of_work() as session:
                    for change in range(first, first + 100):
                        product = products[change % COALESCE_PRODUCTS]
                        inventory.receive(session, product, warehouse.id, 1)
            making = time.monotonic() - started
            deadline = started + COALESCE_WINDOW + 60
            while _pushed_products() < COALESCE_PRODUCTS and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(2)  # nothing more may follow
        finally:
            engine.stop()
    pushes = NullConnector.pushed
    last = {push.product_id: push.available for _, levels in pushes for push in levels}
    each = COALESCE_CHANGES // COALESCE_PRODUCTS
    right = sum(1 for quantity in last.values() if quantity == each)
    note = (
        f"{COALESCE_CHANGES} changes on {COALESCE_PRODUCTS} products made in {making:.1f} s, "
        f"window {COALESCE_WINDOW} s, embedded engine; {right} of {COALESCE_PRODUCTS} "
        "products pushed with their last value"
    )
    yield Figure(
        bench="engine.stock_coalescing",
        metric="pushes",
        value=len(pushes),
        unit="calls",
        floor=math.ceil(COALESCE_PRODUCTS / NullConnector.stock_batch_size),
        target=math.ceil(COALESCE_PRODUCTS / NullConnector.stock_batch_size),
        note=note,
    )
    yield Figure(
        bench="engine.stock_coalescing",
        metric="first_push_seconds",
        value=round(pushes[0][0] - started, 2) if pushes else float("nan"),
        unit="s",
        floor=COALESCE_WINDOW,
        target=COALESCE_WINDOW + 2,
        note=note,
    )


def _pushed_products() -> int:
    return len({push.product_id for _, levels in NullConnector.pushed for push in levels})
