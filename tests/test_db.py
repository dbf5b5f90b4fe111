"""The unit of work: events leave only after commit; SQLite transactions are immediate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from tradewind.core.inventory.models import Warehouse
from tradewind.db import Database, prepared
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
