"""The engine for real: Huey queue, in-process consumer threads, reconciler."""

from __future__ import annotations

import datetime as dt
import math
import signal
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

from tests.sync.conftest import Shop, time_passes
from tradewind.app import actions
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.core.plugins import service as plugins
from tradewind.db import utcnow
from tradewind.hub import Hub
from tradewind.sync import ledger
from tradewind.sync.inbox import Inbox
from tradewind.sync.models import SyncWork, WorkKind, WorkState
from tradewind.sync.worker import Engine, announce_through_queue, make_huey
from tradewind.vocabulary import StockMode

PRODUCTS = 500
CHANGES = 10_000
WINDOW = 3600  # the longest window a plugin may have


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not reached within {timeout}s")
        time.sleep(0.05)
    return time.monotonic() - started


@pytest.fixture
def engine(shop: Shop) -> Iterator[Engine]:
    running = Engine(shop.hub)
    running.start(workers=2)
    try:
        yield running
    finally:
        running.stop()


def test_embedded_consumer_leaves_the_servers_signal_handlers_alone(shop: Shop) -> None:
    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    running = Engine(shop.hub)
    running.start(workers=1)
    try:
        assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
    finally:
        running.stop()


def test_a_webhook_becomes_an_imported_order_through_the_queue(shop: Shop, engine: Engine) -> None:
    shop.market.add_order("q-1")
    answer = Inbox(shop.hub).accept(
        shop.plugin_id, "orders/create", *shop.market.webhook("q-1", delivery="x")
    )
    assert answer.status == 200

    def imported() -> bool:
        with shop.hub.db.read() as session:
            return orders.find_imported(session, shop.plugin_id, "q-1") is not None

    wait_for(imported, timeout=10)


def test_queue_backends_are_chosen_by_url(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert type(make_huey(f"sqlite:///{tmp_path}/q.db")).__name__ == "SqliteHuey"
    redis = make_huey("redis://127.0.0.1:6379/0?name=tw-test")
    assert type(redis).__name__ == "RedisHuey" and redis.name == "tw-test"
    with pytest.raises(ValueError, match="unsupported queue URL"):
        make_huey("amqp://nope")


def test_ten_thousand_changes_on_500_products_coalesce_into_two_pushes(shop: Shop) -> None:
    """Leading edge: each product's push is due one window after its first change, and
    the 19 changes after it never move that back; when the window has passed, the 500
    products leave in two calls. The window is an hour, so however slow this machine is,
    nothing falls due while the changes are made; time then passes by decree. (How soon
    the first push leaves on a real clock is measured by `make bench`,
    engine.stock_coalescing.)"""
    with shop.hub.db.unit_of_work() as session:
        ids = [
            catalog.create_product(session, ProductIn(sku=f"C{n:03d}", title="c")).id
            for n in range(PRODUCTS)
        ]
        plugins.set_stock_sync(
            session, shop.plugin_id, mode=StockMode.ABSOLUTE, window_seconds=WINDOW
        )
    per_transaction = 100
    started = utcnow()
    first_round_done = None
    for start in range(0, CHANGES, per_transaction):
        with shop.hub.db.unit_of_work() as session:
            for change in range(start, start + per_transaction):
                inventory.receive(session, ids[change % PRODUCTS], shop.warehouse_id, 1)
        if start + per_transaction == PRODUCTS:  # every product has had its first change
            first_round_done = utcnow()
    assert first_round_done is not None
    with shop.hub.db.read() as session:
        due = session.scalars(
            select(SyncWork.not_before).where(
                SyncWork.kind == WorkKind.PUSH_STOCK, SyncWork.state == WorkState.PENDING
            )
        ).all()
    assert len(due) == PRODUCTS  # one pending push per product, whatever came after
    window = dt.timedelta(seconds=WINDOW)
    assert started + window <= min(due) and max(due) <= first_round_done + window
    assert shop.harness.run(shop.plugin_id) == 0  # nothing is due before the window ends
    time_passes(shop.hub)
    shop.harness.run(shop.plugin_id)
    assert _pending(shop, WorkKind.PUSH_STOCK) == 0  # nothing more follows
    batch = 250
    assert len(shop.market.pushes) <= math.ceil(PRODUCTS / batch)
    expected = CHANGES // PRODUCTS
    assert {qty for (sku, _), qty in shop.market.stock.items() if sku.startswith("C")} == {expected}


def _pending(shop: Shop, kind: WorkKind) -> int:
    with shop.hub.db.read() as session:
        rows = session.scalars(
            select(SyncWork.id).where(SyncWork.kind == kind, SyncWork.state == WorkState.PENDING)
        )
        return len(list(rows))


def test_a_change_made_where_no_engine_runs_is_announced_and_drained(shop: Shop) -> None:
    """The CLI runs no engine: its stock change is still written as work in the same
    transaction, announced once on the shared queue, and drained by the running worker."""
    actions.set_stock_mode(shop.hub, shop.plugin_id, mode=StockMode.ABSOLUTE, window_seconds=0)
    shop.harness.run(shop.plugin_id)  # the switch's full push
    with Hub(shop.hub.settings, registry=shop.hub.registry) as cli:
        announce_through_queue(cli)
        with cli.db.unit_of_work() as session:
            inventory.receive(session, shop.products["MUG"], shop.warehouse_id, 4)
            inventory.receive(session, shop.products["PLATE"], shop.warehouse_id, 2)
        with cli.db.read() as session:
            assert ledger.depth(session, shop.plugin_id) == {WorkKind.PUSH_STOCK: 2}
        assert make_huey(cli.settings.resolved_queue_url).pending_count() == 1
    assert shop.market.stock[("MUG", "loc-1")] == 20
    running = Engine(shop.hub)
    running.start(workers=1)
    try:
        wait_for(lambda: shop.market.stock[("MUG", "loc-1")] == 24, timeout=10)
        wait_for(lambda: shop.market.stock[("PLATE", "loc-1")] == 22, timeout=10)
    finally:
        running.stop()
    with shop.hub.db.read() as session:
        assert ledger.depth(session, shop.plugin_id) == {}
