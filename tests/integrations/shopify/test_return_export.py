"""Send returns to the store (issue 18, point 3): with the plugin's rule on, a return of
an imported order received in Tradewind becomes exactly one refund of its lines in
Shopify (GraphQL ``refundCreate``), restocked at the order's location, even when the
store's answer is lost; off (the default), nothing is sent; a return that came from a
refund made in the store is never sent back, and the refund Tradewind made is never
imported as a second return."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.integrations.shopify.conftest import World
from tests.integrations.shopify.test_catalog_shipping import _exists, _fulfillments, _order
from tests.integrations.shopify.test_export_orders import _retry_now
from tradewind.app import actions
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.core.returns import service as returns
from tradewind.core.returns.models import Return, ReturnStatus
from tradewind.core.returns.schemas import ReturnIn, ReturnLineIn
from tradewind.core.shipments import service as shipments
from tradewind.core.shipments.schemas import ShipmentIn
from tradewind.sync.models import SyncWork, WorkKind
from tradewind.vocabulary import FinancialStatus, StockMode


def _send_returns(world: World, on: bool = True) -> None:
    with world.hub.db.unit_of_work() as session:
        plugins.update_import_rules(session, world.plugin_id, {"export_returns": on})


def _shipped_order(world: World, quantity: int = 2) -> tuple[dict[str, Any], Order]:
    placed = world.sandbox.place_order(world.shop, [("MUG", quantity)])
    world.settle(lambda: _exists(world, placed["id"]))
    order = _order(world, placed["id"])
    with world.hub.db.unit_of_work() as session:
        shipments.create_shipment(session, order.id, ShipmentIn(tracking_number="RT-1"))
    world.settle(lambda: _fulfillments(world, placed["id"]) != [])
    return placed, _order(world, placed["id"])


def _receive_return(world: World, order: Order, quantity: int = 1, restock: bool = True) -> int:
    with world.hub.db.unit_of_work() as session:
        made = returns.request_return(
            session,
            order.id,
            ReturnIn(
                lines=[ReturnLineIn(order_line_id=order.lines[0].id, quantity=quantity)],
                reason="too small",
                restock=restock,
            ),
        )
        returns.advance_return(session, made.id, ReturnStatus.RECEIVED)
        return made.id


def _store_refunds(world: World, placed: dict[str, Any]) -> list[dict[str, Any]]:
    return list(world.admin("GET", f"orders/{placed['id']}/refunds")["refunds"])


def _returns(world: World) -> list[Return]:
    with world.hub.db.read() as session:
        return list(session.scalars(select(Return).order_by(Return.id)))


def _return(world: World, return_id: int) -> Return:
    with world.hub.db.read() as session:
        return returns.get_return(session, return_id)


def _refund_creates(world: World) -> int:
    return sum(
        "refundCreate" in str((request.body or {}).get("query", ""))
        for request in world.sandbox.requests(world.shop, "graphql.json")
    )


def _store_available(world: World, sku: str) -> int:
    state = world.sandbox.state(world.shop)
    items = {v["sku"]: v["inventory_item_id"] for p in state["products"] for v in p["variants"]}
    (level,) = [
        level
        for level in state["inventory_levels"]
        if level["inventory_item_id"] == items[sku] and level["location_id"] == world.location_id()
    ]
    return int(level["available"])


def _export_work(world: World) -> list[SyncWork]:
    with world.hub.db.read() as session:
        return list(
            session.scalars(select(SyncWork).where(SyncWork.kind == WorkKind.EXPORT_RETURN))
        )


def test_with_the_rule_off_a_received_return_sends_nothing(world: World) -> None:
    assert not plugins.import_rules(world.plugin()).export_returns  # off by default
    placed, order = _shipped_order(world)
    _receive_return(world, order)
    world.settle()
    assert _store_refunds(world, placed) == []
    assert _export_work(world) == []
    assert _refund_creates(world) == 0


def test_a_received_return_becomes_one_refund_restocked_at_the_location(world: World) -> None:
    actions.set_stock_mode(world.hub, world.plugin_id, mode=StockMode.OFF, window_seconds=0)
    _send_returns(world)
    placed, order = _shipped_order(world)
    before = _store_available(world, "MUG")
    return_id = _receive_return(world, order)
    world.settle(lambda: _return(world, return_id).external_id is not None)
    world.settle()
    (refund,) = _store_refunds(world, placed)
    (line,) = refund["refund_line_items"]
    assert line["line_item_id"] == placed["line_items"][0]["id"]
    assert (line["quantity"], line["restock_type"]) == (1, "return")
    assert line["location_id"] == world.location_id()
    assert "[tradewind-return-" in refund["note"] and "too small" in refund["note"]
    assert _store_available(world, "MUG") == before + 1
    sent = _return(world, return_id)
    assert (sent.plugin_id, sent.external_id) == (world.plugin_id, str(refund["id"]))
    # Its refunds/create and orders/updated came back: no second return here.
    assert [r.id for r in _returns(world)] == [return_id]
    assert _order(world, placed["id"]).financial_status in (
        FinancialStatus.PAID,
        FinancialStatus.PARTIALLY_REFUNDED,
    )
    assert "return_sent" in world.activities(order.id)
    assert _refund_creates(world) == 1


def test_a_return_not_restocked_is_refunded_without_restock(world: World) -> None:
    actions.set_stock_mode(world.hub, world.plugin_id, mode=StockMode.OFF, window_seconds=0)
    _send_returns(world)
    placed, order = _shipped_order(world)
    before = _store_available(world, "MUG")
    return_id = _receive_return(world, order, restock=False)
    world.settle(lambda: _return(world, return_id).external_id is not None)
    (refund,) = _store_refunds(world, placed)
    assert refund["refund_line_items"][0]["restock_type"] == "no_restock"
    assert _store_available(world, "MUG") == before


def test_with_stock_sync_on_the_units_are_counted_once(world: World) -> None:
    """Stock of the return's warehouse reaches the store by the stock push: the refund
    does not restock as well (the store would count the units twice)."""
    _send_returns(world)
    placed, order = _shipped_order(world)
    return_id = _receive_return(world, order)
    world.settle(lambda: _return(world, return_id).external_id is not None)
    world.settle()
    (refund,) = _store_refunds(world, placed)
    assert refund["refund_line_items"][0]["restock_type"] == "no_restock"
    assert world.stock_disagreements({"MUG"}) == {}


def test_a_lost_answer_is_found_by_its_marker_not_refunded_twice(world: World) -> None:
    actions.set_stock_mode(world.hub, world.plugin_id, mode=StockMode.OFF, window_seconds=0)
    _send_returns(world)
    placed, order = _shipped_order(world)
    # The answer to the refund is lost, and so are the store's webhooks: only the retry
    # can learn that the refund was made.
    world.sandbox.inject_fault(world.shop, "lose_answer", query_contains="refundCreate")
    world.sandbox.inject_fault(world.shop, "drop_webhooks", count=None)
    return_id = _receive_return(world, order)
    world.settle()
    assert len(_store_refunds(world, placed)) == 1  # made; its answer lost
    assert _return(world, return_id).external_id is None
    _retry_now(world)
    world.settle(lambda: _return(world, return_id).external_id is not None)
    (refund,) = _store_refunds(world, placed)
    assert _return(world, return_id).external_id == str(refund["id"])
    assert _refund_creates(world) == 1  # the retry found it, and made none


def test_a_return_imported_from_the_store_is_not_sent_back(world: World) -> None:
    _send_returns(world)
    placed, _ = _shipped_order(world)
    world.admin(
        "POST",
        f"orders/{placed['id']}/refunds",
        {
            "refund": {
                "note": "damaged",
                "refund_line_items": [
                    {
                        "line_item_id": placed["line_items"][0]["id"],
                        "quantity": 1,
                        "restock_type": "no_restock",
                    }
                ],
            }
        },
    )
    world.settle(lambda: len(_returns(world)) == 1)
    world.settle()
    (imported,) = _returns(world)
    assert imported.status is ReturnStatus.CLOSED  # received, then closed, here
    assert len(_store_refunds(world, placed)) == 1
    assert _export_work(world) == []
    assert _refund_creates(world) == 0


def test_the_refund_coming_back_first_is_tied_to_its_return_not_imported(world: World) -> None:
    """The answer is lost but the store's webhooks come: the order re-read carries the
    refund with the return's marker, which ties it to that return (never a new one), and
    the retry then has nothing to send."""
    actions.set_stock_mode(world.hub, world.plugin_id, mode=StockMode.OFF, window_seconds=0)
    _send_returns(world)
    placed, order = _shipped_order(world, quantity=3)
    world.sandbox.inject_fault(world.shop, "lose_answer", query_contains="refundCreate")
    return_id = _receive_return(world, order)
    world.settle(lambda: _return(world, return_id).external_id is not None)
    (refund,) = _store_refunds(world, placed)
    assert _return(world, return_id).external_id == str(refund["id"])
    assert [r.id for r in _returns(world)] == [return_id]
    _retry_now(world)
    world.settle()
    assert len(_store_refunds(world, placed)) == 1
    assert _refund_creates(world) == 1
