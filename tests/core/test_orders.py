"""Orders: imported once, updated in place, reserving and releasing stock, kept when a
line matches nothing, refused while the plugin is in import conflict."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests import factories
from tests.fakes import FakeConnector
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import FinancialStatus, Order, OrderSource, OrderStatus
from tradewind.core.orders.schemas import ImportOptions, OrderIn, OrderLineIn
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.service import ImportConflict
from tradewind.errors import Invalid
from tradewind.hub import Hub
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind

T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def shop(hub: Hub) -> dict[str, int]:
    """A channel with an importing plugin, a warehouse and two stocked products."""
    with hub.db.unit_of_work() as session:
        channel = factories.channel(session)
        plugin = factories.plugin(hub, session, channel_id=channel.id)
        warehouse = factories.warehouse(session)
        mug = factories.product(session, "MUG")
        plate = factories.product(session, "PLATE", barcode="5012345678900")
        inventory.receive(session, mug.id, warehouse.id, 10)
        inventory.receive(session, plate.id, warehouse.id, 10)
    return {
        "channel": channel.id,
        "plugin": plugin.id,
        "warehouse": warehouse.id,
        "mug": mug.id,
        "plate": plate.id,
    }


def _levels(hub: Hub, shop: dict[str, int]) -> dict[str, tuple[int, int]]:
    with hub.db.read() as session:
        return {
            name: (level.on_hand, level.reserved)
            for name in ("mug", "plate")
            if (level := inventory.level(session, shop[name], shop["warehouse"])) is not None
        }


def test_import_creates_the_order_once_and_reserves_matched_lines(
    hub: Hub, shop: dict[str, int]
) -> None:
    data = factories.order_in("1001", ("MUG", 2), ("PLATE", 1), remote_updated_at=T0)
    with hub.db.unit_of_work() as session:
        result = orders.import_order(session, shop["plugin"], data)
        assert result.created and result.changed
        order = result.order
        assert order.channel_id == shop["channel"]
        assert order.customer_id is not None
        assert order.total == Decimal("30.0000")
    for _ in range(3):  # a webhook delivered again, a poll seeing it again
        with hub.db.unit_of_work() as session:
            again = orders.import_order(session, shop["plugin"], data)
            assert not again.created and not again.changed
            assert again.order.id == order.id
    with hub.db.read() as session:
        assert session.scalars(select(Order)).all().__len__() == 1
        kinds = [a.kind for a in orders.activities(session, order.id)]
        assert kinds == ["created"]
    assert _levels(hub, shop) == {"mug": (10, 2), "plate": (10, 1)}


def test_updates_flow_in_and_stale_copies_change_nothing(hub: Hub, shop: dict[str, int]) -> None:
    first = factories.order_in("1002", ("MUG", 2), remote_updated_at=T0)
    paid = first.model_copy(
        update={
            "financial_status": FinancialStatus.PAID,
            "remote_updated_at": T0 + dt.timedelta(minutes=5),
            "lines": [OrderLineIn(external_id="1002-0", sku="MUG", quantity=3)],
        }
    )
    with hub.db.unit_of_work() as session:
        order_id = orders.import_order(session, shop["plugin"], first).order.id
    with hub.db.unit_of_work() as session:
        assert orders.import_order(session, shop["plugin"], paid).changed
    with hub.db.unit_of_work() as session:  # the older copy arrives late
        assert not orders.import_order(session, shop["plugin"], first).changed
    with hub.db.read() as session:
        order = orders.get_order(session, order_id)
        assert order.financial_status is FinancialStatus.PAID
        assert order.lines[0].quantity == 3
    assert _levels(hub, shop)["mug"] == (10, 3)


def test_cancelling_releases_reservations(hub: Hub, shop: dict[str, int]) -> None:
    data = factories.order_in("1003", ("MUG", 4), remote_updated_at=T0)
    with hub.db.unit_of_work() as session:
        order_id = orders.import_order(session, shop["plugin"], data).order.id
    cancelled = data.model_copy(
        update={
            "status": OrderStatus.CANCELLED,
            "remote_updated_at": T0 + dt.timedelta(hours=1),
            "cancel_reason": "customer",
        }
    )
    with hub.db.unit_of_work() as session:
        orders.import_order(session, shop["plugin"], cancelled)
    assert _levels(hub, shop)["mug"] == (10, 0)
    with hub.db.read() as session:
        order = orders.get_order(session, order_id)
        assert order.status is OrderStatus.CANCELLED and order.cancelled_at is not None
        assert "cancelled" in [a.kind for a in orders.activities(session, order_id)]


def test_an_unknown_sku_keeps_the_order_and_is_matched_once_the_product_exists(
    hub: Hub, shop: dict[str, int]
) -> None:
    data = factories.order_in("1004", ("MUG", 1), ("LAMP-9", 2))
    with hub.db.unit_of_work() as session:
        order = orders.import_order(session, shop["plugin"], data).order
        assert order.missing_product
        assert [line.product_id is None for line in order.lines] == [False, True]
    with hub.db.read() as session:
        (note,) = notifications.open_notifications(session, kind=NotificationKind.MISSING_PRODUCT)
        assert note.subject == "SKU LAMP-9" and note.plugin_id == shop["plugin"]
        assert "Order #1004" in note.message
    with hub.db.unit_of_work() as session:
        lamp = catalog.create_product(session, ProductIn(sku="lamp-9", title="Lamp"))
        inventory.receive(session, lamp.id, shop["warehouse"], 5)
    with hub.db.read() as session:
        order = orders.get_order(session, order.id)
        assert not order.missing_product
        assert order.lines[1].product_id == lamp.id
        level = inventory.level(session, lamp.id, shop["warehouse"])
        assert level is not None and level.reserved == 2
        assert (
            notifications.open_notifications(session, kind=NotificationKind.MISSING_PRODUCT) == []
        )
        assert "line_matched" in [a.kind for a in orders.activities(session, order.id)]


def test_a_line_can_be_matched_by_barcode_when_the_plugin_says_so(
    hub: Hub, shop: dict[str, int]
) -> None:
    data = factories.order_in("1005", ("UNKNOWN", 1))
    data.lines[0].barcode = "5012345678900"
    with hub.db.unit_of_work() as session:
        order = orders.import_order(session, shop["plugin"], data).order
        assert order.lines[0].product_id == shop["plate"]
    only_sku = factories.order_in("1006", ("UNKNOWN", 1))
    only_sku.lines[0].barcode = "5012345678900"
    with hub.db.unit_of_work() as session:
        result = orders.import_order(
            session, shop["plugin"], only_sku, ImportOptions(match_by=("sku",))
        )
        assert result.order.missing_product


def test_import_is_refused_while_the_plugin_is_in_import_conflict(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        uk = factories.channel(session, "UK")
        eu = factories.channel(session, "EU")
        plugin = factories.plugin(hub, session, channel_id=uk.id)
        plugins.attach(session, plugin.id, eu.id)
        factories.product(session, "MUG")
    with pytest.raises(ImportConflict, match="'UK', 'EU'"), hub.db.unit_of_work() as session:
        orders.import_order(session, plugin.id, factories.order_in("1", ("MUG", 1)))
    with hub.db.read() as session:
        assert session.scalars(select(Order)).all() == []
        (note,) = notifications.open_notifications(session, kind=NotificationKind.IMPORT_CONFLICT)
        assert "remove all but one channel" in note.message
    with hub.db.unit_of_work() as session:
        answer = plugins.detach(session, plugin.id, eu.id)
        assert answer.import_conflict is None
        orders.import_order(session, plugin.id, factories.order_in("1", ("MUG", 1)))
    with hub.db.read() as session:
        assert (
            notifications.open_notifications(session, kind=NotificationKind.IMPORT_CONFLICT) == []
        )
        assert len(session.scalars(select(Order)).all()) == 1


def test_import_needs_import_orders_on(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        channel = factories.channel(session)
        plugin = factories.plugin(hub, session, channel_id=channel.id, import_orders=False)
    with pytest.raises(Invalid, match="does not have Import Orders on"), hub.db.unit_of_work() as s:
        orders.import_order(s, plugin.id, factories.order_in("1", ("X", 1)))


def test_missing_customer_fields_keep_the_order_and_raise_a_notification(
    hub: Hub, shop: dict[str, int]
) -> None:
    data = factories.order_in("1007", ("MUG", 1), email="", shipping_address=None)
    with hub.db.unit_of_work() as session:
        order = orders.import_order(session, shop["plugin"], data).order
        assert order.customer_id is None
        assert order.missing_customer_fields == ["email", "shipping_address"]
    with hub.db.read() as session:
        (note,) = notifications.open_notifications(
            session, kind=NotificationKind.MISSING_CUSTOMER_FIELDS
        )
        assert note.subject == "order #1007"
    fixed = data.model_copy(
        update={"email": "late@example.com", "shipping_address": factories.ADDRESS}
    )
    with hub.db.unit_of_work() as session:
        order = orders.import_order(session, shop["plugin"], fixed).order
        assert order.missing_customer_fields == []
    with hub.db.read() as session:
        assert (
            notifications.open_notifications(session, kind=NotificationKind.MISSING_CUSTOMER_FIELDS)
            == []
        )


def test_a_manual_order_goes_through_the_same_rules(hub: Hub, shop: dict[str, int]) -> None:
    wizard = OrderIn(
        lines=[OrderLineIn(product_id=shop["mug"], quantity=2, unit_price=Decimal("9.5"))],
        email="wholesale@example.com",
        shipping_address=factories.ADDRESS,
        currency="eur",
        shipping_total=Decimal("5"),
    )
    with hub.db.unit_of_work() as session:
        order = orders.create_manual_order(session, shop["channel"], wizard)
        assert order.source is OrderSource.MANUAL
        assert order.number == f"TW{1000 + order.id}"
        assert order.plugin_id is None and order.currency == "EUR"
        assert order.total == Decimal("24.0000")
        assert order.warehouse_id == shop["warehouse"]
    assert _levels(hub, shop)["mug"] == (10, 2)
    with hub.db.unit_of_work() as session:
        orders.close_order(session, order.id)
    assert _levels(hub, shop)["mug"] == (10, 0)


def test_bad_order_input_is_refused_with_a_clear_message() -> None:
    with pytest.raises(
        ValueError, match="a line needs a product, a SKU, a barcode or at least a title"
    ):
        OrderLineIn(quantity=1)
    with pytest.raises(ValueError, match="timezone"):
        factories.order_in("1", ("A", 1), placed_at=dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="at least 1 item"):
        OrderIn(external_id="1", lines=[])
    assert FakeConnector.info.key == "fake"


def test_a_custom_line_without_sku_is_kept_and_is_not_a_missing_product(
    hub: Hub, shop: dict[str, int]
) -> None:
    data = factories.order_in("1008", ("MUG", 1))
    data.lines.append(OrderLineIn(external_id="gift", title="Gift wrap", quantity=1))
    with hub.db.unit_of_work() as session:
        order = orders.import_order(session, shop["plugin"], data).order
        assert not order.missing_product
        assert [line.title for line in order.lines] == ["Product MUG", "Gift wrap"]
    with hub.db.read() as session:
        assert (
            notifications.open_notifications(session, kind=NotificationKind.MISSING_PRODUCT) == []
        )


def test_the_timeline_names_the_product_each_line_was_matched_to(
    hub: Hub, shop: dict[str, int]
) -> None:
    """Two products created in one transaction: each waiting line's timeline entry names
    its own product, not the last one created (#10 item 14)."""
    data = factories.order_in("1009", ("LAMP-1", 1), ("LAMP-2", 1))
    with hub.db.unit_of_work() as session:
        order_id = orders.import_order(session, shop["plugin"], data).order.id
    with hub.db.unit_of_work() as session:
        catalog.create_product(session, ProductIn(sku="LAMP-1", title="Lamp one"))
        catalog.create_product(session, ProductIn(sku="LAMP-2", title="Lamp two"))
    with hub.db.read() as session:
        matched = [
            a.message for a in orders.activities(session, order_id) if a.kind == "line_matched"
        ]
    assert sorted(matched) == [
        "Line LAMP-1 matched to product LAMP-1; stock reserved.",
        "Line LAMP-2 matched to product LAMP-2; stock reserved.",
    ]


@pytest.mark.parametrize("how", ["here", "by the platform"])
def test_cancelling_the_only_order_waiting_for_a_sku_resolves_its_missing_product(
    hub: Hub, shop: dict[str, int], how: str
) -> None:
    data = factories.order_in("1010", ("MUG", 1), ("LAMP-9", 2), remote_updated_at=T0)
    other = factories.order_in("1011", ("LAMP-9", 1), remote_updated_at=T0)
    with hub.db.unit_of_work() as session:
        order_id = orders.import_order(session, shop["plugin"], data).order.id
        other_id = orders.import_order(session, shop["plugin"], other).order.id

    def cancel(order_id: int, source: OrderIn) -> None:
        with hub.db.unit_of_work() as session:
            if how == "here":
                orders.cancel_order(session, order_id, "customer")
            else:
                cancelled = source.model_copy(
                    update={
                        "status": OrderStatus.CANCELLED,
                        "remote_updated_at": T0 + dt.timedelta(hours=1),
                    }
                )
                orders.import_order(session, shop["plugin"], cancelled)

    def open_subjects() -> list[str]:
        with hub.db.read() as session:
            return [
                note.subject
                for note in notifications.open_notifications(
                    session, kind=NotificationKind.MISSING_PRODUCT
                )
            ]

    cancel(order_id, data)
    assert open_subjects() == ["SKU LAMP-9"]  # order 1011 still waits for it
    cancel(other_id, other)
    assert open_subjects() == []


def test_an_order_has_a_limited_number_of_lines(hub: Hub, shop: dict[str, int]) -> None:
    """Made in Tradewind: at most MAX_LINES; imported: at most MAX_IMPORTED_LINES. Above,
    the refusal names the limit (#10 item 7)."""
    from tradewind.core.orders.schemas import MAX_IMPORTED_LINES, MAX_LINES

    def lines(count: int) -> list[OrderLineIn]:
        return [OrderLineIn(sku="MUG", quantity=1)] * count

    refused = f"at most {MAX_LINES:,} lines; this one has 1,001"
    with pytest.raises(Invalid, match=refused), hub.db.unit_of_work() as session:
        orders.create_manual_order(session, shop["channel"], OrderIn(lines=lines(1001)))
    big = factories.order_in("1012", ("MUG", 1)).model_copy(
        update={"lines": lines(MAX_IMPORTED_LINES + 1)}
    )
    with (
        pytest.raises(Invalid, match=f"at most {MAX_IMPORTED_LINES:,} lines"),
        hub.db.unit_of_work() as session,
    ):
        orders.import_order(session, shop["plugin"], big)
    with hub.db.unit_of_work() as session:
        order = orders.create_manual_order(
            session, shop["channel"], OrderIn(lines=lines(MAX_LINES))
        )
        assert len(order.lines) == MAX_LINES
    with hub.db.read() as session:
        assert session.scalars(select(Order)).all().__len__() == 1


def test_orders_are_listed_newest_first_and_pages_go_on_where_they_stopped(
    hub: Hub, shop: dict[str, int]
) -> None:
    """Newest by when placed (a backfilled old order sorts among the old), ties by id;
    a page continues after the last order of the one before (#10 item 17)."""
    placed = {
        "noon": T0,
        "one": T0 + dt.timedelta(hours=1),
        "one-again": T0 + dt.timedelta(hours=1),
        "yesterday": T0 - dt.timedelta(days=1),  # imported last, placed first
    }
    with hub.db.unit_of_work() as session:
        for name, moment in placed.items():
            data = factories.order_in(name, ("MUG", 1), placed_at=moment)
            orders.import_order(session, shop["plugin"], data)
    newest_first = ["one-again", "one", "noon", "yesterday"]
    with hub.db.read() as session:
        assert [o.external_id for o in orders.list_orders(session)] == newest_first
        seen: list[str | None] = []
        after = None
        while page := orders.list_orders(session, after=after, limit=1):
            seen += [o.external_id for o in page]
            after = orders.Position.of(page[-1])
    assert seen == newest_first


def test_a_line_without_a_price_costs_what_its_product_costs(
    hub: Hub, shop: dict[str, int]
) -> None:
    """A line given no unit price (the wizard's blank, an API line without one) is priced
    from the catalog, never at 0 by accident; one matching no product stays at 0 (#10
    item 16)."""
    with hub.db.unit_of_work() as session:
        catalog.update_product(session, shop["mug"], {"price": Decimal("12.50")})
        order = orders.create_manual_order(
            session,
            shop["channel"],
            OrderIn(
                lines=[
                    OrderLineIn(sku="MUG", quantity=2),
                    OrderLineIn(sku="PLATE", quantity=1, unit_price=Decimal("3")),
                    OrderLineIn(sku="LAMP-404", quantity=1),
                ]
            ),
        )
        assert [line.unit_price for line in order.lines] == [
            Decimal("12.50"),
            Decimal("3"),
            Decimal("0"),
        ]
        assert order.subtotal == Decimal("28.00")
