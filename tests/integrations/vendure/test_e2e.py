"""End to end against a real Vendure 3.7 server: products made in Vendure are imported,
a customer checks out through the Shop API, the companion plugin and the poll both
report the order and it is imported once, stock received in Tradewind becomes Vendure's
saleable stock, a shipment made in Tradewind becomes a Vendure fulfillment with its
tracking code, and an order cancelled in Vendure releases its reservation in Tradewind.

The Vendure server runs its companion plugin (``vendure-plugin/tradewind-plugin.js``),
which posts over HTTP into Tradewind's real app (``/hooks/1/…``), so the signatures it
makes are checked by the connector as they would be in production.
"""

from __future__ import annotations

from tests.integrations.vendure.conftest import CUP_BARCODE, Store, wait_for
from tradewind.app import actions
from tradewind.core.catalog.models import Product
from tradewind.core.inventory import service as inventory
from tradewind.core.links import service as links
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.core.shipments import service as shipments
from tradewind.core.shipments.schemas import ShipmentIn
from tradewind.sync.models import ProductSync
from tradewind.vocabulary import OrderStatus


def test_vendure_end_to_end(store: Store) -> None:
    peer = store.peer

    # --- products and stock made in Vendure, imported into Tradewind ----------------
    mug = peer.create_product("E2E Mug", [("E2E-MUG", 1250, 10, "")])["E2E-MUG"]
    cup = peer.create_product("E2E Cup", [("E2E-CUP-V", 900, 3, CUP_BARCODE)])["E2E-CUP-V"]
    tee = peer.create_product("E2E Tee", [("E2E-TEE-S", 2000, 1, ""), ("E2E-TEE-L", 2000, 1, "")])
    report = actions.test_connection(store.hub, store.plugin_id)
    assert report.ok, report.detail
    assert report.missing_scopes == ()
    actions.activate(store.hub, store.plugin_id)  # reads Vendure's stock locations
    store.drain()
    with store.hub.db.unit_of_work() as session:
        assert {row.external_id for row in links.location_mappings(session, store.plugin_id)} >= {
            peer.default_location,
            peer.second_location,
        }
        links.map_location(
            session,
            store.plugin_id,
            peer.default_location,
            warehouse_id=store.warehouse_id,
            is_default=True,
        )
    run = actions.sync_products(store.hub, store.plugin_id)
    store.drain()
    with store.hub.db.read() as session:
        finished = session.get(ProductSync, run.id)
        assert finished is not None
        assert finished.state.value == "done"
        assert finished.created >= 3  # the mug and both tees become Tradewind products
        assert not [u for u in finished.unmatched if u["sku"].startswith("E2E")]
        mapped = links.product_links(
            session, store.plugin_id, [store.cup_id, store.product_id("E2E-MUG")]
        )
        # SKU first, then barcode: Vendure's cup (another SKU) maps to CUP-TW by barcode.
        assert mapped[store.cup_id].external_id == cup
        assert mapped[store.product_id("E2E-MUG")].external_id == mug
        tee_s = session.get(Product, store.product_id("E2E-TEE-S"))
        assert tee_s is not None
        assert tee_s.attributes == {"Size": "S"}

    # --- stock received in Tradewind becomes Vendure's saleable stock ----------------
    mug_id = store.product_id("E2E-MUG")
    with store.hub.db.unit_of_work() as session:
        inventory.receive(session, mug_id, store.warehouse_id, 8)
    store.drain()
    assert peer.saleable(mug) == store.available(mug_id) == 8
    assert peer.saleable(cup) == store.available(store.cup_id) == 4
    assert peer.stock(mug).get(peer.second_location, (0, 0)) == (0, 0)  # unmapped: untouched
    assert peer.saleable(tee["E2E-TEE-S"]) == 0  # Tradewind holds none: Vendure sells none

    # --- a customer checks out; the plugin and the poll both report it: one order ----
    placed = peer.place_order([(mug, 2)], "ada@example.com")
    assert placed["state"] == "PaymentSettled"
    wait_for("the plugin's order/placed", lambda: store.deliveries("order/placed"))
    store.drain()
    actions.sync_now(store.hub, store.plugin_id)  # the reconciliation poll sees it too
    store.drain()
    imported = [o for o in store.orders() if o.external_id == placed["id"]]
    assert len(imported) == 1
    order = imported[0]
    assert order.number == placed["code"]
    assert order.email == "ada@example.com"
    assert order.customer_id is not None
    assert order.shipping_address is not None
    assert order.shipping_address["city"] == "London"
    with store.hub.db.read() as session:
        lines = orders.get_order(session, order.id).lines
        assert [(line.product_id, line.quantity) for line in lines] == [(mug_id, 2)]
    assert store.available(mug_id) == 6  # reserved for the order
    # Vendure allocated the same two units: on hand stays 8, and it can sell 6.
    assert peer.stock(mug)[peer.default_location] == (8, 2)
    assert peer.saleable(mug) == store.available(mug_id) == 6

    # --- shipped in Tradewind: a Vendure fulfillment with the tracking code ----------
    with store.hub.db.unit_of_work() as session:
        shipment = shipments.create_shipment(
            session, order.id, ShipmentIn(carrier="UPS", tracking_number="1Z999AA10123456784")
        )
        shipment_id = shipment.id
    store.drain()
    with store.hub.db.read() as session:
        shipped = shipments.get_shipment(session, shipment_id)
        assert shipped.external_id
    remote = peer.admin(
        "query($id: ID!) { order(id: $id) { state fulfillments { id state method trackingCode"
        " lines { quantity } } } }",
        {"id": placed["id"]},
    )["order"]
    assert remote["state"] == "Shipped"
    assert remote["fulfillments"] == [
        {
            "id": shipped.external_id,
            "state": "Shipped",
            "method": "UPS",
            "trackingCode": "1Z999AA10123456784",
            "lines": [{"quantity": 2}],
        }
    ]
    assert peer.stock(mug)[peer.default_location] == (6, 0)  # the sale left both sides
    assert peer.saleable(mug) == store.available(mug_id) == 6

    # --- cancelled in Vendure: the reservation is released in Tradewind --------------
    second = peer.place_order([(mug, 1), (cup, 1)], "grace@example.com")

    def second_imported() -> list[Order]:
        store.drain()
        return [o for o in store.orders() if o.external_id == second["id"]]

    wait_for("the second order imported", second_imported)
    assert store.available(mug_id) == 5
    assert peer.saleable(mug) == 5
    assert store.available(store.cup_id) == 3
    peer.cancel_order(second["id"], reason="customer changed their mind")

    def cancellation_imported() -> list[Order]:
        store.drain()
        return [
            o
            for o in store.orders()
            if o.external_id == second["id"] and o.status is OrderStatus.CANCELLED
        ]

    wait_for("the cancellation imported", cancellation_imported)
    cancelled = next(o for o in store.orders() if o.external_id == second["id"])
    assert cancelled.cancel_reason == "customer changed their mind"
    assert store.available(mug_id) == 6
    assert store.available(store.cup_id) == 4
    store.drain()
    assert peer.saleable(mug) == 6
    assert peer.saleable(cup) == 4

    # --- cancelled in Tradewind (out of stock): with the order rule, Vendure follows ---
    with store.hub.db.unit_of_work() as session:
        plugins.update_import_rules(session, store.plugin_id, {"cancel_on_platform": True})
    third = peer.place_order([(mug, 2)], "alan@example.com")

    def third_imported() -> list[Order]:
        store.drain()
        return [o for o in store.orders() if o.external_id == third["id"]]

    (imported,) = wait_for("the third order imported", third_imported)
    assert store.available(mug_id) == 4
    with store.hub.db.unit_of_work() as session:
        orders.cancel_order(session, imported.id, "out of stock")

    def cancelled_in_vendure() -> bool:
        store.drain()
        state = peer.admin("query($id: ID!) { order(id: $id) { state } }", {"id": third["id"]})
        return bool(state["order"]["state"] == "Cancelled")

    wait_for("the order cancelled in Vendure", cancelled_in_vendure)
    assert store.available(mug_id) == 6
    store.drain()
    assert peer.saleable(mug) == 6  # Vendure released its allocation; levels agree

    # --- stock set by hand in Vendure is put back to Tradewind's number --------------
    peer.admin(
        "mutation($in: [UpdateProductVariantInput!]!) { updateProductVariants(input: $in) { id } }",
        {
            "in": [
                {
                    "id": mug,
                    "stockLevels": [{"stockLocationId": peer.default_location, "stockOnHand": 50}],
                }
            ]
        },
    )

    def level_back() -> bool:
        store.drain()
        return peer.saleable(mug) == 6

    wait_for("Tradewind's level back in Vendure", level_back)
    outcomes = [d.outcome for d in store.deliveries("stock/adjusted")]
    assert any("our own push, ignored" in outcome for outcome in outcomes), outcomes
    assert any("Tradewind's value resent" in outcome for outcome in outcomes), outcomes

    # Everything arrived once, however often it was reported.
    ids = (placed["id"], second["id"], third["id"])
    assert len([o for o in store.orders() if o.external_id in ids]) == 3
