"""Return sync can be switched (issue 18, point 3; seed 002: "you can enable return
sync"): a refund of shipped items made in Shopify becomes a return here only while the
plugin's Sync returns rule is on (the default); off, the order's financial status still
follows the store."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.integrations.shopify.conftest import World
from tests.integrations.shopify.test_catalog_shipping import _exists, _fulfillments, _order
from tradewind.core.plugins import service as plugins
from tradewind.core.returns.models import Return
from tradewind.core.shipments import service as shipments
from tradewind.core.shipments.schemas import ShipmentIn
from tradewind.vocabulary import FinancialStatus


def _returns(world: World) -> list[Return]:
    with world.hub.db.read() as session:
        return list(session.scalars(select(Return)))


@pytest.mark.parametrize("sync_returns", [True, False])
def test_a_store_refund_makes_a_return_only_while_return_sync_is_on(
    world: World, sync_returns: bool
) -> None:
    with world.hub.db.read() as session:
        assert plugins.import_rules(plugins.get_plugin(session, world.plugin_id)).import_returns
    if not sync_returns:
        with world.hub.db.unit_of_work() as session:
            plugins.update_import_rules(session, world.plugin_id, {"import_returns": False})
    placed = world.sandbox.place_order(world.shop, [("MUG", 2)])
    world.settle(lambda: _exists(world, placed["id"]))
    order = _order(world, placed["id"])
    with world.hub.db.unit_of_work() as session:
        shipments.create_shipment(session, order.id, ShipmentIn(tracking_number="R-2"))
    world.settle(lambda: _fulfillments(world, placed["id"]) != [])
    world.admin(
        "POST",
        f"orders/{placed['id']}/refunds",
        {
            "refund": {
                "note": "too small",
                "refund_line_items": [
                    {
                        "line_item_id": placed["line_items"][0]["id"],
                        "quantity": 1,
                        "restock_type": "return",
                        "location_id": world.location_id(),
                    }
                ],
                "transactions": [{"kind": "refund", "amount": "12.00", "gateway": "manual"}],
            }
        },
    )
    world.settle(
        lambda: _order(world, placed["id"]).financial_status is FinancialStatus.PARTIALLY_REFUNDED
    )
    world.settle()
    assert len(_returns(world)) == (1 if sync_returns else 0)
