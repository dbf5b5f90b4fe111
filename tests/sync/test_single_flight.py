"""One drainer per plugin at a time, whatever the threads and processes, and transactions
that cannot deadlock each other (#10 item 20). The same against real worker processes on
PostgreSQL + Redis is in test_multiprocess."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from tests import factories
from tests.sync.conftest import Harness, Shop
from tradewind.core.inventory import service as inventory
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import PluginState
from tradewind.db import CONFLICT_ATTEMPTS
from tradewind.events import OrderCreated
from tradewind.monitoring import notifications
from tradewind.sync import ledger
from tradewind.sync.models import PluginLease, SyncWork, WorkKind, WorkState


def _wait_for(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout}s")
        time.sleep(0.02)


def test_two_drains_of_one_process_never_drain_one_plugin_at_once(shop: Shop) -> None:
    """The lease holder is a drain, not a process: a second thread of the same worker
    finds the plugin taken and leaves, even once the batch has outlived a whole lease
    (the heartbeat keeps it), instead of draining beside it."""
    shop.hub.settings = shop.hub.settings.model_copy(
        update={"lease_seconds": 2, "drain_seconds": 30}
    )
    harness = Harness(shop.hub)  # one drainer, one holder name, as in one worker
    shop.market.latency = 0.08  # 60 orders: a first batch of 50 takes 4 s or more
    keys = [f"sf-{n:02d}" for n in range(60)]
    for key in keys:
        shop.market.add_order(key)
    with shop.hub.db.unit_of_work() as session:
        ledger.enqueue_many(session, shop.plugin_id, WorkKind.IMPORT_ORDER, keys)
    first = threading.Thread(target=harness.drainer.drain, args=(shop.plugin_id,))
    started = time.monotonic()
    first.start()
    try:

        def batch_in_flight() -> bool:
            with shop.hub.db.read() as session:
                return (
                    session.scalar(
                        select(SyncWork.id).where(SyncWork.state == WorkState.RUNNING).limit(1)
                    )
                    is not None
                )

        _wait_for(batch_in_flight)
        _wait_for(lambda: time.monotonic() - started > 2.5)  # past the first lease
        assert batch_in_flight()
        assert harness.drainer.drain(shop.plugin_id) == 0
    finally:
        first.join(timeout=120)
    with shop.hub.db.read() as session:
        imported = [str(key) for key in session.scalars(select(Order.external_id))]
        lease = session.get(PluginLease, shop.plugin_id)
        assert lease is not None and lease.holder == ""  # released by the drain that held it
    assert sorted(imported) == keys
    assert harness.run(shop.plugin_id) == 0  # nothing left, nothing done twice


# ------------------------------------------------------------------------- lock order

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.fixture
def stock_locks(shop: Shop) -> Iterator[list[list[tuple[int, int]]]]:
    """The stock rows each transaction locks, in the order it locks them (PostgreSQL:
    ``SELECT … FROM stock_levels … FOR UPDATE`` and the guarded ``UPDATE stock_levels``)."""
    if shop.hub.db.dialect != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serializes writers")
    transactions: list[list[tuple[int, int]]] = []

    def begin(connection: Any) -> None:
        transactions.append([])

    def statement(
        connection: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool
    ) -> None:
        if many or not isinstance(params, dict):
            return
        if "FROM stock_levels" in sql and "FOR UPDATE" in sql:
            where = sql[sql.index("WHERE") :]
            values = [params[name] for name in _PLACEHOLDER.findall(where)]
            transactions[-1].extend(zip(values[::2], values[1::2], strict=True))
        elif sql.startswith("UPDATE stock_levels"):
            transactions[-1].append((params["product"], params["warehouse"]))

    engine = shop.hub.db.engine
    event.listen(engine, "begin", begin)
    event.listen(engine, "before_cursor_execute", statement)
    try:
        yield transactions
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "begin", begin)


def test_a_batch_of_orders_locks_its_stock_rows_in_one_global_order(
    shop: Shop, stock_locks: list[list[tuple[int, int]]]
) -> None:
    """Orders imported together lock every stock row they touch in (product, warehouse)
    order, whatever the order of the orders and of their lines: two batches locking the
    same rows order by order deadlocked (209 times in the drill)."""
    with shop.hub.db.unit_of_work() as session:
        bowl = factories.product(session, "BOWL")
        inventory.receive(session, bowl.id, shop.warehouse_id, 20)
    lines = {
        "o-1": ["PLATE"],
        "o-2": ["BOWL", "MUG"],
        "o-3": ["MUG", "PLATE", "BOWL"],
    }
    for key, skus in lines.items():
        shop.market.add_order(
            key,
            lines=[
                {"id": f"{key}-{n}", "sku": sku, "quantity": 1, "unit_price": "5", "title": sku}
                for n, sku in enumerate(skus)
            ],
        )
    with shop.hub.db.unit_of_work() as session:
        ledger.enqueue_many(session, shop.plugin_id, WorkKind.IMPORT_ORDER, list(lines))
    stock_locks.clear()
    shop.harness.run(shop.plugin_id)
    touched = [locks for locks in stock_locks if locks]
    assert touched, "no transaction locked stock: the import proved nothing"
    for locks in touched:
        first_time = list(dict.fromkeys(locks))  # a row locked again is already held
        assert first_time == sorted(first_time)
    with shop.hub.db.read() as session:
        reserved = {
            level.product_id: level.reserved
            for level in inventory.levels(session, warehouse_ids=[shop.warehouse_id])
        }
    assert reserved == {shop.products["MUG"]: 2, shop.products["PLATE"]: 2, bowl.id: 2}


def test_work_queued_in_one_transaction_is_written_in_one_order(shop: Shop) -> None:
    """Webhooks, triggers and jobs add rows to the same pending work; each transaction
    writes all it queued at commit, sorted by (plugin, kind, key), so two transactions
    never upsert the same rows in opposite orders (the drill's other deadlock)."""
    with shop.hub.db.unit_of_work() as session:
        other = factories.plugin(shop.hub, session, "second-shop").id
    with shop.hub.db.unit_of_work() as session:
        ledger.enqueue(session, shop.plugin_id, WorkKind.PUSH_STOCK, "9")
        ledger.enqueue(session, other, WorkKind.IMPORT_ORDER, "B")
        ledger.enqueue(session, shop.plugin_id, WorkKind.IMPORT_ORDER, "Z")
        ledger.enqueue_many(session, shop.plugin_id, WorkKind.PUSH_STOCK, ["5", "1"])
        ledger.enqueue(session, other, WorkKind.IMPORT_ORDER, "A")
        ledger.enqueue(session, shop.plugin_id, WorkKind.IMPORT_ORDER, "Z", delay=60)
    with shop.hub.db.read() as session:
        rows = session.scalars(select(SyncWork).order_by(SyncWork.id)).all()
    written = [(row.plugin_id, row.kind.value, row.key) for row in rows]
    assert written == sorted(written)
    assert len(written) == 6  # "Z" twice is one row, due at the earlier time
    z = next(row for row in rows if row.key == "Z")
    assert (z.not_before - z.created_at).total_seconds() < 30


def test_work_queued_earlier_in_a_transaction_can_be_claimed_in_it(shop: Shop) -> None:
    with shop.hub.db.unit_of_work() as session:
        ledger.enqueue(session, shop.plugin_id, WorkKind.IMPORT_ORDER, "now")
        token, rows = ledger.claim(session, shop.plugin_id)
        assert [row.key for row in rows] == ["now"]
        ledger.complete(session, [row.id for row in rows], token)
    with shop.hub.db.read() as session:
        assert ledger.next_due(session, shop.plugin_id) is None


# ------------------------------------------------------------------- lost deadlocks


class _Deadlock(Exception):
    sqlstate = "40P01"  # what psycopg's DeadlockDetected carries


def _deadlocks_first(shop: Shop, times: int) -> list[int]:
    """The next ``times`` transactions importing an order lose a deadlock at commit."""
    left = [times]

    def lose(session: Any, events: Any) -> None:
        if left[0] > 0:
            left[0] -= 1
            raise OperationalError("UPDATE stock_levels …", {}, _Deadlock("deadlock detected"))

    shop.hub.db.bus.before_commit(lose, types=[OrderCreated])
    return left


def _import_row(shop: Shop, key: str) -> SyncWork:
    with shop.hub.db.read() as session:
        row = session.scalar(select(SyncWork).where(SyncWork.key == key))
        assert row is not None
        return row


@pytest.mark.parametrize("losses", [1, CONFLICT_ATTEMPTS + 1])
def test_a_lost_deadlock_is_run_again_never_an_outage(shop: Shop, losses: int) -> None:
    """A deadlock is retried at once: a few losses in a row cost a retry of the
    transaction; more put the batch back at once, uncounted. Neither is the platform
    being unavailable (17 false notifications in the drill)."""
    left = _deadlocks_first(shop, losses)
    shop.market.add_order("dl-1")
    with shop.hub.db.unit_of_work() as session:
        ledger.enqueue(session, shop.plugin_id, WorkKind.IMPORT_ORDER, "dl-1")
    shop.harness.run(shop.plugin_id)
    assert left == [0]
    with shop.hub.db.read() as session:
        assert [str(o.external_id) for o in session.scalars(select(Order))] == ["dl-1"]
        plugin = plugins.get_plugin(session, shop.plugin_id)
        assert plugin.state is PluginState.ACTIVE
        assert notifications.open_notifications(session, plugin_id=shop.plugin_id) == []
    row = _import_row(shop, "dl-1")
    assert (row.state, row.attempts, row.throttled) == (WorkState.DONE, 0, 0)
    assert ("conflict" in row.last_error) is (losses > CONFLICT_ATTEMPTS)
    assert shop.market.calls["GET /orders/dl-1"] == (1 if losses <= CONFLICT_ATTEMPTS else 2)
