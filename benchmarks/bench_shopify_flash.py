"""shopify.flash_sale (issue 17 part 6): orders placed at a steady rate on the standard
plan (REST 2 calls/s), webhooks on, through the real engine (webhook intake over HTTP,
queue, drainer, connector; the sandbox in its own process). Reported: webhook→order p95
(from the order's placement to its row in Tradewind; target 10 s), orders imported and
how many times, the store's and Tradewind's stock disagreeing at the end, and the REST
calls the import made (floor: none but the probe's).

Defaults as the issue says: 5,000 orders in 10 minutes. ``FLASH_ORDERS`` and
``FLASH_SECONDS`` (environment) make a smaller run for development.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Iterator

import uvicorn
from sqlalchemy import func, select
from starlette.responses import Response

from benchmarks.bench_shopify import ADDRESS, SHOP, Setup, _calls, _engine, _settled, _setup, _wait
from benchmarks.harness import Figure
from benchmarks.support import free_port
from tradewind.api.app import WebhookIntake
from tradewind.core.inventory import service as inventory
from tradewind.core.orders.models import Order
from tradewind.db import utcnow
from tradewind.hub import Hub
from tradewind.sandbox.shopify import control as c
from tradewind.sync.inbox import GroupCommit, Inbox

ORDERS = int(os.environ.get("FLASH_ORDERS", "5000"))
SECONDS = float(os.environ.get("FLASH_SECONDS", "600"))
SKUS = 20
STOCK = 1_000  # per SKU: the sale never runs out
TARGET_P95 = 10.0
APP_SECRET = "sandbox-secret"  # noqa: S105 - the sandbox's default app secret


def run() -> Iterator[Figure]:
    yield from _flash_sale()


@contextlib.contextmanager
def _intake(hub: Hub, port: int) -> Iterator[None]:
    """The hub's webhook endpoint on 127.0.0.1:``port``, in a thread of this process."""
    inbox = Inbox(hub)
    server = uvicorn.Server(
        uvicorn.Config(
            WebhookIntake(Response(status_code=404), inbox=inbox, writer=GroupCommit(inbox)),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _wait(lambda: bool(server.started), 10)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        inbox.close()


class Watch:
    """When each order first shows in Tradewind (polled by its row id, 4 times a second)."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.seen: dict[str, float] = {}
        self.rows = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last = 0
        while not self._stop.is_set():
            with self.setup.hub.db.read() as session:
                found = session.execute(
                    select(Order.id, Order.external_id)
                    .where(Order.plugin_id == self.setup.plugin_id, Order.id > last)
                    .order_by(Order.id)
                ).all()
            now = time.perf_counter()
            for row_id, external_id in found:
                last = max(last, row_id)
                self.rows += 1
                self.seen.setdefault(str(external_id), now)
            self._stop.wait(0.25)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def _place(setup: Setup, count: int, seconds: float) -> dict[str, float]:
    """Orders at a steady rate through the sandbox's control API, as shoppers check out;
    each one's id → when it was placed."""
    placed: dict[str, float] = {}
    skus = sorted(setup.products)
    started = time.perf_counter()
    for number in range(count):
        due = started + number * seconds / count
        time.sleep(max(0.0, due - time.perf_counter()))
        at = time.perf_counter()
        spec = c.OrderSpec(
            lines=[c.LineSpec(sku=skus[number % len(skus)], quantity=1)],
            customer=c.CustomerSpec(email=f"buyer{number % 500}@example.com"),
            shipping_address=ADDRESS,
        )
        answer = setup.shop.client.post(f"/shops/{SHOP}/orders", json=spec.model_dump())
        answer.raise_for_status()
        placed[str(answer.json()["id"])] = at
    return placed


def _disagreements(setup: Setup) -> int:
    """SKUs whose available differs between the store and Tradewind."""
    store = {
        int(level["inventory_item_id"]): int(level["available"])
        for level in setup.shop.state()["inventory_levels"]
        if int(level["location_id"]) == setup.location_id
    }
    differ = 0
    with setup.hub.db.read() as session:
        for sku, product_id in setup.products.items():
            level = inventory.level(session, product_id, setup.warehouse_id)
            ours = level.available if level is not None else 0
            differ += store.get(setup.items[sku]) != ours
    return differ


def _flash_sale() -> Iterator[Figure]:
    port = free_port()
    with _setup(
        SKUS,
        stock=STOCK,
        config={"client_secret": APP_SECRET},
        settings={"base_url": f"http://127.0.0.1:{port}"},
    ) as setup:
        with _engine(setup) as engine, _intake(setup.hub, port):
            engine.kick(setup.plugin_id)
            _wait(lambda: _settled(setup), 120, every=0.5)  # subscriptions in place
            began = utcnow()
            watch = Watch(setup)
            placed = _place(setup, ORDERS, SECONDS)
            with contextlib.suppress(RuntimeError):  # reported below, not raised
                _wait(lambda: set(placed) <= set(watch.seen), 300, every=0.5)
            with contextlib.suppress(RuntimeError):
                _wait(lambda: _settled(setup) and _disagreements(setup) == 0, 120, every=1)
            watch.stop()
        with setup.hub.db.read() as session:
            rows = session.scalar(
                select(func.count()).select_from(Order).where(Order.plugin_id == setup.plugin_id)
            )
        disagree = _disagreements(setup)
        single = len(_calls(setup, "orders.get", since=began))
        many = len(_calls(setup, "orders.get_many", since=began))
        lists = len(_calls(setup, "orders.list", since=began))
    latencies = sorted(
        watch.seen[ident] - at for ident, at in placed.items() if ident in watch.seen
    )
    missing = len(placed) - len(latencies)
    p95 = latencies[max(0, math.ceil(0.95 * len(latencies)) - 1)] if latencies else float("nan")
    note = (
        f"{ORDERS} orders in {SECONDS:.0f} s ({ORDERS / SECONDS:.1f}/s), {SKUS} SKUs, standard "
        f"plan, webhooks on; {missing} never arrived; REST: {single} single-order reads, "
        f"{many} batched re-reads, {lists} lists (probe/poll); SQLite, embedded queue, "
        "2 worker threads, sandbox in its own process"
    )
    bench = "shopify.flash_sale"
    yield Figure(bench, "webhook_to_order_p95", round(p95, 2), "s", target=TARGET_P95, note=note)
    yield Figure(bench, "orders_imported", int(rows or 0), "orders", target=ORDERS, note=note)
    yield Figure(
        bench, "rest_reads_per_order", round((single + many) / ORDERS, 4), "calls", note=note
    )
    yield Figure(bench, "stock_disagreements", disagree, "SKUs", target=0, note=note)
