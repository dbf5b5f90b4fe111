"""Fixing what is flagged where it is flagged (issue 16, part 2): a guest order's buyer
data edited from the order page and from its notification, which then resolves by itself;
"fix all like this" for a plugin's guest orders; a customer's own record edited; read and
unread honoured by the bell and the list; a cancelled order's notifications resolve."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests import factories
from tests.api.conftest import Api, make_token
from tests.web.conftest import Browser
from tradewind.auth.models import TokenScope
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.hub import Hub
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind


def _guests(hub: Hub, count: int) -> tuple[int, list[int]]:
    """A plugin with ``count`` imported guest orders (no email, no address)."""
    with hub.db.unit_of_work() as session:
        channel = factories.channel(session, "Shop")
        factories.product(session, "MUG")
        plugin = factories.plugin(hub, session, "guests", channel_id=channel.id)
        made = [
            orders.import_order(
                session,
                plugin.id,
                factories.order_in(f"G{i}", ("MUG", 1), email="", shipping_address=None),
            ).order.id
            for i in range(count)
        ]
        return plugin.id, made


def _open(hub: Hub) -> list[notifications.Notification]:
    with hub.db.read() as session:
        return notifications.open_notifications(
            session, kind=NotificationKind.MISSING_CUSTOMER_FIELDS
        )


def _order(hub: Hub, order_id: int) -> Order:
    with hub.db.read() as session:
        return orders.get_order(session, order_id)


def test_a_guest_orders_buyer_data_is_fixed_on_the_order_page(admin: Browser, hub: Hub) -> None:
    _, (order_id,) = _guests(hub, 1)
    assert [n.subject for n in _open(hub)] == ["order #G0"]
    page = admin.get(f"/orders/{order_id}").text
    assert 'id="missing-fields"' in page and 'id="edit-contact" open' in page

    # Half done: the email alone leaves the address missing, and says so.
    half = admin.post(f"/orders/{order_id}/contact", {"email": "guest@example.com"})
    assert half.status_code == 303
    assert "still missing: shipping_address" in admin.get(half.headers["location"]).text
    assert len(_open(hub)) == 1

    done = admin.post(
        f"/orders/{order_id}/contact",
        {
            "email": "guest@example.com",
            "ship_first_name": "Grace",
            "ship_last_name": "Hopper",
            "ship_address1": "1 Navy Way",
            "ship_city": "Arlington",
            "ship_postal_code": "22201",
            "ship_country_code": "us",
        },
    )
    assert "its notice is resolved" in admin.get(done.headers["location"]).text
    assert _open(hub) == []
    order = _order(hub, order_id)
    assert order.missing_customer_fields == [] and order.customer_id is not None
    assert order.shipping_address is not None and order.shipping_address["country_code"] == "US"
    assert "Buyer data edited here" in admin.get(f"/orders/{order_id}").text  # the timeline

    refused = admin.post(f"/orders/{order_id}/contact", {"email": "not-an-email"})
    assert "is not an email address" in admin.get(refused.headers["location"]).text


def test_the_notification_fixes_its_order_and_fix_all_serves_the_rest(
    admin: Browser, hub: Hub
) -> None:
    plugin_id, made = _guests(hub, 3)
    listed = admin.get("/notifications").text
    assert "3 × Missing customer fields" in listed
    assert f'action="/orders/{made[0]}/contact"' in listed  # a form on each notification
    assert "Fix all like this: 3 open guest orders" in listed

    fixed = admin.post(
        f"/orders/{made[0]}/contact",
        {
            "back": "notifications",
            "email": "one@example.com",
            "ship_first_name": "Ann",
            "ship_address1": "1 Elm St",
            "ship_city": "Salem",
            "ship_country_code": "US",
        },
    )
    assert fixed.headers["location"] == "/notifications"
    assert {n.subject for n in _open(hub)} == {"order #G1", "order #G2"}

    # Fix all: the two left get the plugin's generic customer; their address still misses.
    answer = admin.post(f"/notifications/guests/{plugin_id}")
    assert "2 guest order(s)" in admin.get(answer.headers["location"]).text
    generic = {_order(hub, i).customer_id for i in made[1:]}
    assert len(generic) == 1 and None not in generic
    assert all(_order(hub, i).missing_customer_fields == ["shipping_address"] for i in made[1:])
    assert "Fix all like this" not in admin.get("/notifications").text  # none left


def test_the_api_fixes_an_orders_buyer_data(app_client: TestClient, hub: Hub) -> None:
    _, (order_id,) = _guests(hub, 1)
    api = Api(app_client, make_token(hub, TokenScope.READ_WRITE))
    answer = api.patch(
        f"/orders/{order_id}/contact",
        json={
            "email": "api@example.com",
            "shipping_address": {
                "first_name": "Api",
                "address1": "2 Oak Ave",
                "city": "Boise",
                "country_code": "US",
            },
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["missing_customer_fields"] == []
    assert _open(hub) == []
    empty = api.patch(f"/orders/{order_id}/contact", json={})
    assert empty.status_code == 422 and "nothing to change" in empty.text


def test_a_customers_own_record_is_edited(admin: Browser, hub: Hub) -> None:
    _, (order_id,) = _guests(hub, 1)
    admin.post(f"/orders/{order_id}/contact", {"email": "kim@example.com"})
    customer_id = _order(hub, order_id).customer_id
    assert customer_id is not None
    saved = admin.post(
        f"/customers/{customer_id}/edit",
        {"email": "kim@example.com", "first_name": "Kim", "last_name": "Lee", "phone": "555"},
    )
    assert "Customer saved." in admin.get(saved.headers["location"]).text
    page = admin.get(f"/customers/{customer_id}").text
    assert "Kim Lee" in page and "555" in page


def test_read_and_unread_are_honoured_by_the_bell_and_the_list(admin: Browser, hub: Hub) -> None:
    _guests(hub, 2)
    bell = admin.get("/fragments/bell").text
    assert 'data-unread="2"' in bell and ">2</span>" in bell
    first = _open(hub)[0]
    admin.post(f"/notifications/{first.id}/read")
    assert 'data-unread="1"' in admin.get("/fragments/bell").text
    listed = admin.get("/notifications").text
    assert "1 unread" in listed
    assert f'data-notification="{first.id}" data-read="yes"' in listed
    admin.post("/notifications/read")
    bell = admin.get("/fragments/bell").text
    assert 'data-unread="0"' in bell and 'data-count="2"' in bell  # read, still open
    assert "Mark all read" not in admin.get("/notifications").text


def test_a_cancelled_orders_notifications_resolve(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        channel = factories.channel(session, "Shop")
        plugin = factories.plugin(hub, session, "guests", channel_id=channel.id)
        order = orders.import_order(
            session,
            plugin.id,
            factories.order_in("C1", ("NOPE", 1), email="", shipping_address=None),
        ).order
    with hub.db.read() as session:
        kinds = {n.kind for n in notifications.open_notifications(session, plugin_id=plugin.id)}
    assert kinds == {NotificationKind.MISSING_CUSTOMER_FIELDS, NotificationKind.MISSING_PRODUCT}
    with hub.db.unit_of_work() as session:
        orders.cancel_order(session, order.id, "customer changed their mind")
    with hub.db.read() as session:
        assert notifications.open_notifications(session, plugin_id=plugin.id) == []
