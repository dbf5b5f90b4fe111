"""Shipments take stock out of on-hand and reserved together; returns come back in."""

from __future__ import annotations

import pytest

from tests import factories
from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import FulfillmentStatus
from tradewind.core.returns import service as returns
from tradewind.core.returns.models import ReturnStatus
from tradewind.core.returns.schemas import ReturnIn, ReturnLineIn
from tradewind.core.shipments import service as shipments
from tradewind.core.shipments.schemas import ShipmentIn, ShipmentLineIn
from tradewind.errors import Invalid
from tradewind.events import DomainEvent, ShipmentCreated
from tradewind.hub import Hub


@pytest.fixture
def order(hub: Hub) -> dict[str, int]:
    with hub.db.unit_of_work() as session:
        channel = factories.channel(session)
        plugin = factories.plugin(hub, session, channel_id=channel.id)
        warehouse = factories.warehouse(session)
        mug = factories.product(session, "MUG")
        inventory.receive(session, mug.id, warehouse.id, 10)
        created = orders.import_order(
            session, plugin.id, factories.order_in("2001", ("MUG", 3), ("GHOST", 1))
        ).order
    return {
        "order": created.id,
        "warehouse": warehouse.id,
        "mug": mug.id,
        "mug_line": created.lines[0].id,
        "ghost_line": created.lines[1].id,
    }


def _mug(hub: Hub, ids: dict[str, int]) -> tuple[int, int]:
    with hub.db.read() as session:
        level = inventory.level(session, ids["mug"], ids["warehouse"])
        assert level is not None
        return level.on_hand, level.reserved


def test_partial_then_full_shipment_moves_stock_and_fulfillment(
    hub: Hub, order: dict[str, int]
) -> None:
    seen: list[DomainEvent] = []
    hub.bus.after_commit(seen.extend, types=[ShipmentCreated])
    assert _mug(hub, order) == (10, 3)
    with hub.db.unit_of_work() as session:
        first = shipments.create_shipment(
            session,
            order["order"],
            ShipmentIn(
                lines=[ShipmentLineIn(order_line_id=order["mug_line"], quantity=2)],
                carrier="DHL",
                tracking_number="JD0001",
                tracking_url="https://t.example/JD0001",
            ),
        )
        assert orders.get_order(session, order["order"]).fulfillment_status is (
            FulfillmentStatus.PARTIALLY_FULFILLED
        )
    assert _mug(hub, order) == (8, 1)
    assert seen == [ShipmentCreated(shipment_id=first.id, order_id=order["order"])]
    with pytest.raises(Invalid, match="has 1 left to ship, not 2"), hub.db.unit_of_work() as s:
        shipments.create_shipment(
            s,
            order["order"],
            ShipmentIn(lines=[ShipmentLineIn(order_line_id=order["mug_line"], quantity=2)]),
        )
    with hub.db.unit_of_work() as session:
        shipments.create_shipment(
            session,
            order["order"],
            ShipmentIn(lines=[ShipmentLineIn(order_line_id=order["mug_line"], quantity=1)]),
        )
    assert _mug(hub, order) == (7, 0)


def test_an_unmatched_line_cannot_ship(hub: Hub, order: dict[str, int]) -> None:
    with pytest.raises(Invalid, match="not matched to a product"), hub.db.unit_of_work() as s:
        shipments.create_shipment(
            s,
            order["order"],
            ShipmentIn(lines=[ShipmentLineIn(order_line_id=order["ghost_line"], quantity=1)]),
        )
    with pytest.raises(Invalid, match="not matched"), hub.db.unit_of_work() as s:
        shipments.create_shipment(s, order["order"], ShipmentIn())  # "ship everything"
    assert _mug(hub, order) == (10, 3)


def test_shipping_more_than_on_hand_is_refused(hub: Hub, order: dict[str, int]) -> None:
    with hub.db.unit_of_work() as session:
        inventory.adjust(session, order["mug"], order["warehouse"], -9, reason="flood")
    with pytest.raises(Invalid, match="only 1 on hand"), hub.db.unit_of_work() as s:
        shipments.create_shipment(
            s,
            order["order"],
            ShipmentIn(lines=[ShipmentLineIn(order_line_id=order["mug_line"], quantity=3)]),
        )
    assert _mug(hub, order) == (1, 3)


def test_return_lifecycle_restocks_on_receipt(hub: Hub, order: dict[str, int]) -> None:
    with hub.db.unit_of_work() as session:
        shipments.create_shipment(
            session,
            order["order"],
            ShipmentIn(lines=[ShipmentLineIn(order_line_id=order["mug_line"], quantity=3)]),
        )
    with pytest.raises(Invalid, match="3 unit\\(s\\) can be returned"), hub.db.unit_of_work() as s:
        returns.request_return(
            s,
            order["order"],
            ReturnIn(lines=[ReturnLineIn(order_line_id=order["mug_line"], quantity=4)]),
        )
    with hub.db.unit_of_work() as session:
        created = returns.request_return(
            session,
            order["order"],
            ReturnIn(
                lines=[ReturnLineIn(order_line_id=order["mug_line"], quantity=2)], reason="broken"
            ),
        )
    assert _mug(hub, order) == (7, 0)
    with pytest.raises(Invalid, match="only to received"), hub.db.unit_of_work() as s:
        returns.advance_return(s, created.id, ReturnStatus.CLOSED)
    with hub.db.unit_of_work() as session:
        returns.advance_return(session, created.id, ReturnStatus.RECEIVED)
    assert _mug(hub, order) == (9, 0)
    with hub.db.unit_of_work() as session:
        closed = returns.advance_return(session, created.id, ReturnStatus.CLOSED)
        assert closed.closed_at is not None
    with pytest.raises(Invalid, match="no further"), hub.db.unit_of_work() as s:
        returns.advance_return(s, created.id, ReturnStatus.CLOSED)
    with pytest.raises(Invalid, match="1 unit\\(s\\) can be returned"), hub.db.unit_of_work() as s:
        returns.request_return(
            s,
            order["order"],
            ReturnIn(lines=[ReturnLineIn(order_line_id=order["mug_line"], quantity=2)]),
        )


def test_a_return_without_restock_leaves_stock_alone(hub: Hub, order: dict[str, int]) -> None:
    with hub.db.unit_of_work() as session:
        shipments.create_shipment(
            session,
            order["order"],
            ShipmentIn(lines=[ShipmentLineIn(order_line_id=order["mug_line"], quantity=1)]),
        )
        created = returns.request_return(
            session,
            order["order"],
            ReturnIn(
                lines=[ReturnLineIn(order_line_id=order["mug_line"], quantity=1)], restock=False
            ),
        )
        returns.advance_return(session, created.id, ReturnStatus.RECEIVED)
    assert _mug(hub, order) == (9, 2)
