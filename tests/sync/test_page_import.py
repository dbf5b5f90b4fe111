"""A page of orders imported together: a bounded number of statements whatever its size,
reservations exact per (product, warehouse), a refused record reported while the rest of
the page goes on, and what one order after the other would record — on SQLite and
PostgreSQL (the ``shop`` fixture runs on both)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select

from tests.sync.conftest import Shop
from tradewind.connectors.records import AddressRecord, OrderLineRecord, OrderRecord
from tradewind.core.customers.models import Customer
from tradewind.core.inventory import service as inventory
from tradewind.core.inventory.models import Reservation
from tradewind.core.orders.models import Order, OrderActivity, OrderLine
from tradewind.core.orders.schemas import MAX_IMPORTED_LINES
from tradewind.core.plugins import service as plugins
from tradewind.events import OrderCreated, peek_pending
from tradewind.monitoring.notifications import Notification, NotificationKind
from tradewind.sync import decisions
from tradewind.sync.batch import Job
from tradewind.sync.decisions import ImportDecision
from tradewind.sync.handlers.orders import import_all
from tradewind.sync.models import SyncWork, WorkKind
from tradewind.sync.runtime import CallBuffer, open_connector
from tradewind.vocabulary import FinancialStatus, OrderStatus

ADDRESS = AddressRecord(
    first_name="Bo",
    last_name="Ek",
    address1="1 Quay",
    city="Oslo",
    postal_code="0150",
    country_code="NO",
)


def _record(
    number: int, lines: Sequence[tuple[str, int]], *, email: str = "", **fields: Any
) -> OrderRecord:
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return OrderRecord(
        external_id=str(number),
        number=f"#{number}",
        financial_status=FinancialStatus.PAID,
        placed_at=moment,
        updated_at=moment,
        currency="EUR",
        email=email or f"buyer{number}@example.com",
        lines=tuple(
            OrderLineRecord(external_id=f"{number}-{n}", sku=sku, quantity=quantity)
            for n, (sku, quantity) in enumerate(lines)
        ),
        location_ref="loc-1",
        shipping_address=ADDRESS,
        **fields,
    )


def _page(start: int, count: int) -> list[OrderRecord]:
    return [
        _record(number, [("MUG", 1 + number % 3), ("PLATE", 1)] if number % 2 else [("MUG", 2)])
        for number in range(start, start + count)
    ]


def _job(shop: Shop) -> Job:
    with shop.hub.db.read() as session:
        plugin = plugins.get_plugin(session, shop.plugin_id)
    calls = CallBuffer()
    row = SyncWork(plugin_id=shop.plugin_id, kind=WorkKind.POLL_ORDERS, key="orders")
    return Job(shop.hub, plugin, open_connector(shop.hub, plugin, calls), calls, "test", [row])


@contextmanager
def _counted(shop: Shop) -> Iterator[list[str]]:
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    engine = shop.hub.db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _import(shop: Shop, records: Sequence[OrderRecord]) -> Job:
    job = _job(shop)
    with shop.hub.db.unit_of_work() as session:
        import_all(session, job, records)
    return job


def test_a_page_costs_the_same_statements_whatever_its_size(shop: Shop) -> None:
    _import(shop, _page(1, 5))  # the first import reads what later ones find in place
    with _counted(shop) as small:
        _import(shop, _page(100, 50))
    with _counted(shop) as large:
        _import(shop, _page(1000, 200))
    with shop.hub.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 255
    # Every statement of the unit of work, its triggers and commit included: a handful
    # per page, none per order (one by one it was over 20 an order).
    assert len(large) - len(small) <= 2, (len(small), len(large))
    assert len(large) < 60


def test_the_reservations_of_a_page_are_exact(shop: Shop) -> None:
    records = _page(1, 40)
    job = _import(shop, records)
    assert all(result.endswith("imported") for result in job.results)
    ordered = {"MUG": 0, "PLATE": 0}
    for record in records:
        for line in record.lines:
            ordered[line.sku] += line.quantity
    with shop.hub.db.read() as session:
        for sku, product_id in shop.products.items():
            level = inventory.level(session, product_id, shop.warehouse_id)
            assert level is not None
            assert (level.on_hand, level.reserved) == (20, ordered[sku])
        held = {
            holder: quantity
            for holder, quantity in session.execute(
                select(Reservation.holder, Reservation.quantity)
            )
        }
        lines = session.scalars(select(OrderLine)).all()
        assert held == {line.holder: line.quantity for line in lines}
        assert all(line.product_id is not None for line in lines)
    # The same page again changes nothing; one order cancelled releases its units only.
    cancelled = records[0].model_copy(
        update={
            "status": OrderStatus.CANCELLED,
            "updated_at": records[0].updated_at + dt.timedelta(minutes=1),
        }
    )
    again = _import(shop, [cancelled, *records[1:]])
    assert sum(result.endswith("unchanged") for result in again.results) == 39
    with shop.hub.db.read() as session:
        mug = inventory.level(session, shop.products["MUG"], shop.warehouse_id)
        plate = inventory.level(session, shop.products["PLATE"], shop.warehouse_id)
        assert mug is not None and plate is not None
        assert mug.reserved == ordered["MUG"] - records[0].lines[0].quantity
        assert plate.reserved == ordered["PLATE"] - records[0].lines[1].quantity


def test_a_page_records_what_one_order_after_the_other_would(shop: Shop) -> None:
    """Two orders of one new buyer: one customer, made by the first, its blanks filled by
    the second; each order's timeline and events as an import of its own writes them."""
    first = _record(1, [("MUG", 1)], email="ada@example.com")
    second = _record(2, [("GONE", 1)], email="ADA@example.com")
    job = _job(shop)
    with shop.hub.db.unit_of_work() as session:
        import_all(session, job, [first, second, _record(3, [("PLATE", 2)])])
        pending = peek_pending(session)
        orders = {o.number: o.id for o in session.scalars(select(Order))}
        created = [e.order_id for e in pending if isinstance(e, OrderCreated)]
        assert created == [orders["#1"], orders["#2"], orders["#3"]]
        names = [e.name for e in pending]
        # The buyer's creation comes before the first order, as when imported alone.
        assert names.index("customer.created") < names.index("order.created")
    with shop.hub.db.read() as session:
        customers = session.scalars(
            select(Customer).where(Customer.email_key == "ada@example.com")
        ).all()
        assert len(customers) == 1
        by_number = {o.number: o for o in session.scalars(select(Order))}
        assert by_number["#1"].customer_id == by_number["#2"].customer_id == customers[0].id
        timeline = session.execute(
            select(OrderActivity.kind)
            .where(OrderActivity.order_id == by_number["#2"].id)
            .order_by(OrderActivity.occurred_at, OrderActivity.id)
        ).scalars()
        assert list(timeline) == ["created", "missing_product"]
        assert by_number["#2"].missing_product
        gone = session.scalar(
            select(Notification).where(
                Notification.kind == NotificationKind.MISSING_PRODUCT,
                Notification.subject == "SKU GONE",
            )
        )
        assert gone is not None


def test_a_refused_record_amid_a_page_is_reported_and_the_rest_imported(shop: Shop) -> None:
    records = _page(1, 10)
    too_long = _record(5, [("MUG", 1)] * (MAX_IMPORTED_LINES + 1), email="long@example.com")
    records[4] = too_long
    job = _import(shop, records)
    with shop.hub.db.read() as session:
        held = set(session.scalars(select(Order.external_id)))
        assert held == {record.external_id for record in records} - {"5"}
        # Nothing of the refused order stays: not its buyer, nor its reservation.
        assert session.scalar(select(Customer).where(Customer.email == "long@example.com")) is None
        reserved = session.scalar(select(func.sum(Reservation.quantity)))
        assert reserved == sum(
            line.quantity for record in records if record is not too_long for line in record.lines
        )
        decision = session.scalar(
            select(ImportDecision).where(
                ImportDecision.plugin_id == shop.plugin_id, ImportDecision.external_id == "5"
            )
        )
        assert decision is not None
        assert decision.decision is decisions.Decision.FAILED
        assert "at most" in decision.reason
        rejected = session.scalar(
            select(Notification).where(
                Notification.kind == NotificationKind.RECORD_REJECTED,
                Notification.subject == "order #5",
            )
        )
        assert rejected is not None
    assert sum(result.endswith("imported") for result in job.results) == 9
