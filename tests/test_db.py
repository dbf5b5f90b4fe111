"""The unit of work: events leave only after commit; SQLite transactions are immediate."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tradewind.core.inventory.models import Warehouse
from tradewind.db import Database, FairLock, conflict, prepared
from tradewind.events import DomainEvent, InventoryUpdated, ProductCreated, record


def test_after_commit_subscribers_see_events_only_once_committed(db: Database) -> None:
    seen: list[DomainEvent] = []
    committed_rows: list[int] = []

    def after(events: Sequence[DomainEvent]) -> None:
        seen.extend(events)
        with db.read() as session:  # the change is visible to a new session by now
            committed_rows.append(len(session.query(Warehouse).all()))

    db.bus.after_commit(after)
    with db.unit_of_work() as session:
        session.add(Warehouse(code="A", name="A"))
        record(session, InventoryUpdated(product_id=1, warehouse_id=1))
        record(session, InventoryUpdated(product_id=1, warehouse_id=1))  # a repeat
        record(session, InventoryUpdated(product_id=2, warehouse_id=1))
        assert seen == []
    assert seen == [
        InventoryUpdated(product_id=1, warehouse_id=1),
        InventoryUpdated(product_id=2, warehouse_id=1),
    ]
    assert committed_rows == [1]


def test_rolled_back_work_publishes_nothing(db: Database) -> None:
    seen: list[DomainEvent] = []
    db.bus.after_commit(seen.extend)
    with pytest.raises(RuntimeError), db.unit_of_work() as session:
        session.add(Warehouse(code="A", name="A"))
        record(session, InventoryUpdated(product_id=1, warehouse_id=1))
        raise RuntimeError("boom")
    with db.unit_of_work() as session:
        pass
    assert seen == []
    with db.read() as session:
        assert session.query(Warehouse).count() == 0


def test_before_commit_handlers_write_in_the_same_transaction(db: Database) -> None:
    def before(session: Session, events: Sequence[DomainEvent]) -> None:
        for item in events:
            assert isinstance(item, ProductCreated)
            session.add(Warehouse(code=f"for-{item.sku}", name="made in the same transaction"))

    db.bus.before_commit(before, types=[ProductCreated])
    with pytest.raises(RuntimeError), db.unit_of_work() as session:
        record(session, ProductCreated(product_id=1, sku="X"))
        session.flush()
        raise RuntimeError("rolled back together")
    with db.read() as session:
        assert session.query(Warehouse).count() == 0
    with db.unit_of_work() as session:
        record(session, ProductCreated(product_id=1, sku="X"))
    with db.read() as session:
        assert [w.code for w in session.query(Warehouse)] == ["for-X"]


def test_a_failing_after_commit_subscriber_does_not_undo_or_raise(db: Database) -> None:
    def broken(events: Sequence[DomainEvent]) -> None:
        raise ValueError("subscriber bug")

    later: list[DomainEvent] = []
    db.bus.after_commit(broken)
    db.bus.after_commit(later.extend)
    with db.unit_of_work() as session:
        session.add(Warehouse(code="A", name="A"))
        record(session, InventoryUpdated(product_id=1, warehouse_id=1))
    assert len(later) == 1
    with db.read() as session:
        assert session.query(Warehouse).count() == 1


def test_sqlite_write_transactions_begin_immediate(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    statements: list[str] = []
    event.listen(
        db.engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *args: statements.append(statement),
    )
    with db.unit_of_work() as session:
        session.execute(text("select 1"))
    with db.read() as session:
        session.execute(text("select 1"))
    db.dispose()
    begins = [s for s in statements if s.startswith("BEGIN")]
    assert begins == ["BEGIN IMMEDIATE", "BEGIN"]


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    with db.read() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    db.dispose()


def test_a_prepared_statement_is_built_once_per_name_and_dialect(db: Database) -> None:
    built: list[str] = []

    def build(insert: Any) -> Any:
        built.append("x")
        return insert(Warehouse.__table__).on_conflict_do_nothing(index_elements=["code"])

    with db.unit_of_work() as session:
        first = prepared(session, "test-warehouse", build)
        again = prepared(session, "test-warehouse", build)
        session.execute(first, [{"code": "A", "name": "A", "is_default": False, "active": True}])
        session.execute(again, [{"code": "A", "name": "A", "is_default": False, "active": True}])
    assert first is again and built == ["x"]
    with db.read() as session:
        assert session.scalar(text("SELECT count(*) FROM warehouses")) == 1


def test_a_transaction_that_loses_a_deadlock_runs_again(db: Database) -> None:
    """#10 item 20: two transactions lock two rows in opposite orders; PostgreSQL aborts
    one of them. ``transaction`` runs the loser again at once, and both changes land —
    the deadlock costs a retry, not an error."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite has one writer: its transactions cannot deadlock")
    with db.unit_of_work() as session:
        first, second = Warehouse(code="A", name="A"), Warehouse(code="B", name="B")
        session.add_all([first, second])
        session.flush()
        ids = (first.id, second.id)
    both_hold_one = threading.Barrier(2, timeout=30)
    runs: list[str] = []
    errors: list[BaseException] = []

    def work(name: str, order: tuple[int, int]) -> None:
        def change(session: Session) -> None:
            runs.append(name)
            for position, warehouse_id in enumerate(order):
                warehouse = session.get(Warehouse, warehouse_id, with_for_update=True)
                assert warehouse is not None
                warehouse.name += name
                session.flush()
                if position == 0 and runs.count(name) == 1:
                    both_hold_one.wait()  # first run only: now each wants the other's row

        try:
            db.transaction(change)
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=("1", ids)),
        threading.Thread(target=work, args=("2", ids[::-1])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(runs) == ["1", "1", "2"] or sorted(runs) == ["1", "2", "2"]
    with db.read() as session:
        names = sorted(session.get(Warehouse, i).name for i in ids)  # type: ignore[union-attr]
    assert [sorted(name[1:]) for name in names] == [["1", "2"], ["1", "2"]]  # each once


def test_conflicts_are_deadlocks_and_serialization_failures_only() -> None:
    class Orig(Exception):
        def __init__(self, sqlstate: str) -> None:
            self.sqlstate = sqlstate

    def error(sqlstate: str) -> OperationalError:
        return OperationalError("UPDATE …", {}, Orig(sqlstate))

    assert conflict(error("40P01")) and conflict(error("40001"))
    assert not conflict(error("08006"))  # the connection: an outage, not a conflict
    assert not conflict(error("23505"))  # a unique violation: a real error
    assert not conflict(ValueError("40P01"))


def _queued(lock: FairLock, count: int) -> None:
    """Until ``count`` threads wait for ``lock`` (they block in it: nothing to join)."""
    deadline = time.monotonic() + 30
    while lock.waiting < count and time.monotonic() < deadline:
        time.sleep(0.001)
    assert lock.waiting == count


def test_the_writer_lock_is_handed_over_in_the_order_it_was_asked_for() -> None:
    """A thread that lets the one writer go and asks again at once (a loop of
    transactions) comes after those already waiting, not before them."""
    lock = FairLock()
    order: list[str] = []

    def take(name: str) -> None:
        with lock:
            order.append(name)

    with lock:
        with lock:  # reentrant: the inner exit keeps it
            first = threading.Thread(target=take, args=("first",))
            first.start()
            _queued(lock, 1)
        assert order == []
        second = threading.Thread(target=take, args=("second",))
        second.start()
        _queued(lock, 2)
    with lock:  # asked again at once, behind the two
        order.append("again")
    first.join(timeout=30)
    second.join(timeout=30)
    assert order == ["first", "second", "again"]
    assert lock.waiting == 0
