"""Export Orders (issue 5, point 8): an order made in Tradewind for the plugin's channel is
created in the store and linked, so its webhooks and polls update it and never import it
a second time, even when the store's answer to the creation is lost."""

from __future__ import annotations

import threading
from decimal import Decimal

import httpx2
from sqlalchemy import func, select, update

from tests.integrations.shopify.conftest import World
from tradewind.core.catalog import service as catalog
from tradewind.core.customers.schemas import Address, CustomerIn
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.core.orders.schemas import OrderIn, OrderLineIn
from tradewind.core.plugins import service as plugins
from tradewind.core.shipments import service as shipments
from tradewind.core.shipments.schemas import ShipmentIn, ShipmentLineIn
from tradewind.db import utcnow
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync import ledger
from tradewind.sync.exports import origin_ref
from tradewind.sync.models import SyncWork, WorkKind, WorkState
from tradewind.vocabulary import FinancialStatus, OrderSource, OrderStatus, Toggle


def _switch(world: World, toggle: Toggle, on: bool = True) -> None:
    with world.hub.db.unit_of_work() as session:
        plugins.set_toggle(session, ShopifyConnector.info, world.plugin_id, toggle, on)


def _manual_order(
    world: World,
    *,
    email: str = "ada@example.com",
    paid: FinancialStatus = FinancialStatus.PENDING,
) -> Order:
    with world.hub.db.unit_of_work() as session:
        mug = catalog.find_by_sku(session, "MUG")
        assert mug is not None
        return orders.create_manual_order(
            session,
            world.channel_id,
            OrderIn(
                lines=[
                    OrderLineIn(product_id=mug.id, quantity=2, unit_price=Decimal("11.00")),
                    OrderLineIn(title="Gift wrap", quantity=1, unit_price=Decimal("2.50")),
                ],
                customer=CustomerIn(email=email, first_name="Ada", last_name="Lovelace"),
                email=email,
                shipping_address=Address(
                    first_name="Ada",
                    last_name="Lovelace",
                    address1="12 St James's Square",
                    city="London",
                    country_code="GB",
                ),
                shipping_total=Decimal("4.00"),
                note="wholesale, net 30",
                financial_status=paid,
            ),
        )


def _order(world: World, order_id: int) -> Order:
    with world.hub.db.read() as session:
        return orders.get_order(session, order_id)


def _count(world: World) -> int:
    with world.hub.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Order)) or 0)


def _store_orders(world: World, ref: str) -> list[dict[str, object]]:
    return [
        o
        for o in world.sandbox.state(world.shop)["orders"]
        if o.get("source_identifier") == ref and o.get("source_name") == "tradewind"
    ]


def _poll(world: World) -> None:
    with world.hub.db.unit_of_work() as session:
        ledger.enqueue(session, world.plugin_id, WorkKind.POLL_ORDERS, "orders")
    world.settle()


def test_a_manual_order_is_created_in_the_store_linked_and_never_imported_again(
    world: World,
) -> None:
    _switch(world, Toggle.EXPORT_ORDERS)
    made = _manual_order(world)
    world.settle(lambda: _order(world, made.id).external_id is not None)
    order = _order(world, made.id)
    (stored,) = _store_orders(world, origin_ref(made.id))
    assert order.external_id == str(stored["id"]) and order.plugin_id == world.plugin_id
    lines = stored["line_items"]
    assert isinstance(lines, list)
    assert [(li["sku"], li["quantity"], li["price"]) for li in lines] == [
        ("MUG", 2, "11.00"),
        ("", 1, "2.50"),
    ]
    mug_variant = world.sandbox.state(world.shop)["products"][0]["variants"][0]["id"]
    assert lines[0]["variant_id"] == mug_variant  # the linked product, not a custom line
    assert stored["email"] == "ada@example.com"
    assert stored["note_attributes"] == [{"name": "Tradewind order", "value": made.number}]
    assert stored["financial_status"] == "pending"
    assert sorted(line.external_id or "" for line in order.lines) == sorted(
        str(li["id"]) for li in lines
    )

    world.settle()  # orders/create came back
    _poll(world)
    assert _count(world) == 1
    order = _order(world, made.id)
    assert order.number == made.number and order.source is OrderSource.MANUAL
    assert order.email == "ada@example.com" and order.note == "wholesale, net 30"
    assert order.shipping_address is not None and order.shipping_address["city"] == "London"

    # What happens in the store flows back into the same order.
    world.sandbox.advance_payment(world.shop, int(str(stored["id"])), "paid")
    world.settle(lambda: _order(world, made.id).financial_status is FinancialStatus.PAID)
    assert _count(world) == 1

    # And a shipment made here becomes the store's fulfillment of it (Export Tracking).
    mug_line = next(line for line in order.lines if line.sku == "MUG")
    with world.hub.db.unit_of_work() as session:
        shipments.create_shipment(
            session,
            made.id,
            ShipmentIn(
                lines=[ShipmentLineIn(order_line_id=mug_line.id, quantity=2)],
                carrier="UPS",
                tracking_number="1Z-EXPORTED",
            ),
        )

    def fulfilled() -> bool:
        (again,) = _store_orders(world, origin_ref(made.id))
        return again.get("fulfillment_status") == "partial"

    world.settle(fulfilled)
    world.settle()
    assert _count(world) == 1


def mutates(request: httpx2.Request, field: str) -> bool:
    """Whether ``request`` is a GraphQL document naming the mutation ``field``."""
    return request.url.path.endswith("/graphql.json") and field.encode() in request.content


class LoseAnswers(httpx2.BaseTransport):
    """The store gets the mutation and acts on it; its answer never arrives."""

    def __init__(self, field: str) -> None:
        self.inner = httpx2.HTTPTransport()
        self.field = field
        self.lost = 0
        self._lock = threading.Lock()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self.inner.handle_request(request)
        with self._lock:
            lose = mutates(request, self.field)
            lose = lose and self.lost == 0
            if lose:
                self.lost += 1
        if lose:
            response.read()
            response.close()
            raise httpx2.ReadTimeout("the answer was lost", request=request)
        return response

    def close(self) -> None:  # shared by every connector of the hub: kept open
        return None


def _retry_now(world: World) -> None:
    with world.hub.db.unit_of_work() as session:
        session.execute(
            update(SyncWork)
            .where(SyncWork.plugin_id == world.plugin_id, SyncWork.state == WorkState.PENDING)
            .values(not_before=utcnow())
        )


def test_a_lost_answer_is_found_again_not_created_twice(world: World) -> None:
    _switch(world, Toggle.EXPORT_ORDERS)
    lossy = LoseAnswers("orderCreate")
    world.hub.transport = lossy
    world.sandbox.inject_fault(world.shop, "drop_webhooks", count=None)  # only the retry
    try:
        made = _manual_order(world)
        world.settle()
        assert lossy.lost == 1
        assert len(_store_orders(world, origin_ref(made.id))) == 1  # created, answer lost
        assert _order(world, made.id).external_id is None
        _retry_now(world)
        world.settle(lambda: _order(world, made.id).external_id is not None)
    finally:
        world.hub.transport = None
        world.sandbox.clear_faults(world.shop)
    (stored,) = _store_orders(world, origin_ref(made.id))
    assert _order(world, made.id).external_id == str(stored["id"])
    _poll(world)
    assert _count(world) == 1


def test_an_unlinked_copy_coming_back_by_webhook_is_recognised(world: World) -> None:
    _switch(world, Toggle.EXPORT_ORDERS)
    lossy = LoseAnswers("orderCreate")
    world.hub.transport = lossy
    try:
        # Paid, so that the store's copy passes the import filters: only being recognised
        # keeps it from becoming a second order.
        made = _manual_order(world, paid=FinancialStatus.PAID)
        world.settle(lambda: _order(world, made.id).external_id is not None)  # by its webhook
    finally:
        world.hub.transport = None
    assert lossy.lost == 1
    order = _order(world, made.id)
    (stored,) = _store_orders(world, origin_ref(made.id))
    assert order.external_id == str(stored["id"]) and order.exported_at is not None
    _retry_now(world)  # the export's retry finds the order linked: nothing more is made
    world.settle()
    _poll(world)
    assert len(_store_orders(world, origin_ref(made.id))) == 1
    assert _count(world) == 1


def test_export_only_plugins_keep_their_orders_and_import_no_others(world: World) -> None:
    _switch(world, Toggle.IMPORT_ORDERS, on=False)
    _switch(world, Toggle.EXPORT_ORDERS)
    made = _manual_order(world)
    world.settle(lambda: _order(world, made.id).external_id is not None)
    web = world.sandbox.place_order(world.shop, [("PLATE", 1)])
    (stored,) = _store_orders(world, origin_ref(made.id))
    world.sandbox.advance_payment(world.shop, int(str(stored["id"])), "paid")
    world.settle(lambda: _order(world, made.id).financial_status is FinancialStatus.PAID)
    with world.hub.db.read() as session:
        assert orders.find_imported(session, world.plugin_id, str(web["id"])) is None
        assert not notifications.open_notifications(
            session, plugin_id=world.plugin_id, kind=NotificationKind.RECORD_REJECTED
        )
    assert _count(world) == 1


def test_a_store_that_withholds_customer_data_keeps_the_buyer_made_here(world: World) -> None:
    world.sandbox.withhold_customer_data(world.shop)
    _switch(world, Toggle.EXPORT_ORDERS)
    made = _manual_order(world, email="private@example.com")
    world.settle(lambda: _order(world, made.id).external_id is not None)
    world.settle()
    order = _order(world, made.id)
    assert order.email == "private@example.com" and order.customer_id == made.customer_id
    assert order.shipping_address is not None and order.shipping_address["address1"]
    assert order.missing_customer_fields == []
    assert order.status is OrderStatus.OPEN


def test_two_plugins_exporting_one_channel_send_the_order_nowhere(world: World) -> None:
    _switch(world, Toggle.EXPORT_ORDERS)
    twin_shop = world.shop + "-b"
    made_shop = world.sandbox.create_shop(twin_shop, token=f"shpat_{twin_shop}")
    with world.hub.db.unit_of_work() as session:
        twin = plugins.add_plugin(
            session,
            world.hub.vault,
            ShopifyConnector.info,
            name=twin_shop,
            config={
                "store_url": f"https://{twin_shop}.myshopify.com",
                "access_token": made_shop.token,
                "sandbox_url": world.sandbox.base_url,
            },
        )
        plugins.attach(session, twin.id, world.channel_id)
        plugins.set_toggle(session, ShopifyConnector.info, twin.id, Toggle.EXPORT_ORDERS, True)
        plugins.activate(session, twin.id)
    made = _manual_order(world)
    world.settle()
    assert _order(world, made.id).external_id is None
    assert _store_orders(world, origin_ref(made.id)) == []
    with world.hub.db.read() as session:
        (note,) = notifications.open_notifications(session, kind=NotificationKind.CONFIGURATION)
        assert made.number in note.message and twin_shop in note.message
    # The merchant leaves Export Orders on for one plugin: the held order goes out there
    # and its notice closes by itself.
    with world.hub.db.unit_of_work() as session:
        plugins.set_toggle(session, ShopifyConnector.info, twin.id, Toggle.EXPORT_ORDERS, False)
    world.settle(lambda: _order(world, made.id).external_id is not None)
    assert len(_store_orders(world, origin_ref(made.id))) == 1
    with world.hub.db.read() as session:
        assert notifications.open_notifications(session, kind=NotificationKind.CONFIGURATION) == []


def _cancel_work(world: World) -> list[SyncWork]:
    with world.hub.db.read() as session:
        return list(session.scalars(select(SyncWork).where(SyncWork.kind == WorkKind.CANCEL_ORDER)))


def test_an_exported_order_cancelled_here_is_cancelled_in_the_store_once(world: World) -> None:
    _switch(world, Toggle.EXPORT_ORDERS)
    made = _manual_order(world)
    world.settle(lambda: _order(world, made.id).external_id is not None)
    world.settle()  # orders/create came back
    with world.hub.db.unit_of_work() as session:
        orders.cancel_order(session, made.id, "the customer called")

    def cancelled_there() -> bool:
        (stored,) = _store_orders(world, origin_ref(made.id))
        return bool(stored.get("cancelled_at"))

    world.settle(cancelled_there)
    world.settle()  # orders/cancelled came back: recognised, not sent again
    _poll(world)
    (stored,) = _store_orders(world, origin_ref(made.id))
    assert stored["financial_status"] == "pending"  # no refund made on the merchant's behalf
    assert [(w.state, w.attempts) for w in _cancel_work(world)] == [(WorkState.DONE, 0)]
    assert world.activities(made.id).count("cancelled_there") == 1
    order = _order(world, made.id)
    assert order.status is OrderStatus.CANCELLED and order.cancel_reason == "the customer called"
    assert _count(world) == 1
    assert world.stock_disagreements(("MUG",)) == {}


def test_an_order_cancelled_in_the_store_is_not_cancelled_back(world: World) -> None:
    _switch(world, Toggle.EXPORT_ORDERS)
    made = _manual_order(world, paid=FinancialStatus.PAID)
    world.settle(lambda: _order(world, made.id).external_id is not None)
    world.admin("POST", f"orders/{_order(world, made.id).external_id}/cancel", {})
    world.settle(lambda: _order(world, made.id).status is OrderStatus.CANCELLED)
    world.settle()
    assert _cancel_work(world) == []
    assert "cancelled_there" not in world.activities(made.id)


class CancelWhileSending(httpx2.BaseTransport):
    """The merchant cancels the order in Tradewind while its creation is on the wire."""

    def __init__(self, world: World, order_id: int) -> None:
        self.inner = httpx2.HTTPTransport()
        self.world = world
        self.order_id = order_id
        self.cancelled = False

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self.inner.handle_request(request)
        if mutates(request, "orderCreate"):
            with self.world.hub.db.unit_of_work() as session:
                orders.cancel_order(session, self.order_id, "changed their mind")
            self.cancelled = True
        return response

    def close(self) -> None:  # shared by every connector of the hub: kept open
        return None


def test_an_order_cancelled_while_it_is_being_created_is_cancelled_there_after(
    world: World,
) -> None:
    _switch(world, Toggle.EXPORT_ORDERS)
    world.sandbox.inject_fault(world.shop, "drop_webhooks", count=None)
    made = _manual_order(world)  # its export waits for the next drain (settle)
    world.hub.transport = racing = CancelWhileSending(world, made.id)
    try:
        world.settle(lambda: _order(world, made.id).external_id is not None)
        world.settle()
    finally:
        world.hub.transport = None
        world.sandbox.clear_faults(world.shop)
    assert racing.cancelled
    (stored,) = _store_orders(world, origin_ref(made.id))
    assert stored.get("cancelled_at")
    assert [w.state for w in _cancel_work(world)] == [WorkState.DONE]


def test_with_export_orders_off_the_timeline_says_to_cancel_by_hand(world: World) -> None:
    _switch(world, Toggle.EXPORT_ORDERS)
    made = _manual_order(world)
    world.settle(lambda: _order(world, made.id).external_id is not None)
    _switch(world, Toggle.EXPORT_ORDERS, on=False)
    with world.hub.db.unit_of_work() as session:
        orders.cancel_order(session, made.id)
    world.settle()
    assert _cancel_work(world) == []
    assert "not_cancelled_there" in world.activities(made.id)
    (stored,) = _store_orders(world, origin_ref(made.id))
    assert not stored.get("cancelled_at")
