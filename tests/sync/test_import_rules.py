"""Order rules that had no test (issue 10, point 13): the order-status and fulfilment
-status filters, and the default location that new orders ship from. Each test fails
when its behaviour is removed."""

from __future__ import annotations

from typing import Any

from tests.sync.conftest import Shop
from tradewind.core.inventory import service as inventory
from tradewind.core.links import service as links
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.sync import ledger
from tradewind.sync.models import WorkKind


def _poll(shop: Shop) -> None:
    with shop.hub.db.unit_of_work() as session:
        ledger.enqueue(session, shop.plugin_id, WorkKind.POLL_ORDERS, "orders")
    shop.harness.run(shop.plugin_id)


def _imported(shop: Shop) -> dict[str, Order]:
    with shop.hub.db.read() as session:
        return {
            order.external_id or "": order
            for order in orders.list_orders(session)
            if order.plugin_id == shop.plugin_id
        }


def _rules(shop: Shop, **changes: Any) -> None:
    with shop.hub.db.unit_of_work() as session:
        plugins.update_import_rules(session, shop.plugin_id, changes)


def test_only_orders_in_the_chosen_statuses_import(shop: Shop) -> None:
    shop.market.add_order("open")
    shop.market.add_order("cancelled", status="cancelled")
    shop.market.add_order("closed", status="closed")
    _poll(shop)
    assert sorted(_imported(shop)) == ["open"]  # the default: open orders only
    _rules(shop, statuses=["open", "closed"])
    _poll(shop)
    assert sorted(_imported(shop)) == ["closed", "open"]


def test_only_orders_in_the_chosen_fulfilment_statuses_import(shop: Shop) -> None:
    shop.market.add_order("unfulfilled")
    shop.market.add_order("partial", fulfillment_status="partially_fulfilled")
    shop.market.add_order("shipped", fulfillment_status="fulfilled")
    _poll(shop)
    assert sorted(_imported(shop)) == ["partial", "unfulfilled"]  # shipped elsewhere: not
    _rules(shop, fulfillment_statuses=["unfulfilled"])
    shop.market.add_order("partial-2", fulfillment_status="partially_fulfilled")
    _poll(shop)
    assert "partial-2" not in _imported(shop)
    _rules(shop, fulfillment_statuses=["fulfilled", "unfulfilled"])
    _poll(shop)
    assert "shipped" in _imported(shop)


def test_a_new_order_from_an_unmapped_location_ships_from_the_default_one(shop: Shop) -> None:
    """loc-1 (MAIN) is the plugin's default; an order placed at loc-2 (not mapped) or at a
    location the platform never listed reserves in MAIN, not in Tradewind's own default
    warehouse (EAST), and one at a mapped location reserves where that is mapped."""
    with shop.hub.db.unit_of_work() as session:
        east = inventory.create_warehouse(session, "EAST", is_default=True)
        inventory.receive(session, shop.products["MUG"], east.id, 5)
        links.sync_locations(
            session, shop.plugin_id, [("loc-1", "Main"), ("loc-2", "Popup"), ("loc-3", "East")]
        )
        links.map_location(session, shop.plugin_id, "loc-3", warehouse_id=east.id)
    shop.market.add_order("popup", location="loc-2")
    shop.market.add_order("nowhere", location="")
    shop.market.add_order("east", location="loc-3")
    _poll(shop)
    imported = _imported(shop)
    assert imported["popup"].warehouse_id == shop.warehouse_id
    assert imported["nowhere"].warehouse_id == shop.warehouse_id
    assert imported["east"].warehouse_id == east.id
    with shop.hub.db.read() as session:
        main = inventory.level(session, shop.products["MUG"], shop.warehouse_id)
        assert main is not None and main.reserved == 2
