"""Shopify's compliance webhooks end to end: the sandbox sends each to the app's
compliance URL (the plugin's hook address), the hub checks the signature, answers at
once, and the queued work erases or lists what Tradewind holds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import select

from tests.integrations.shopify.conftest import APP_KEY, World, make_world
from tradewind.core.customers.models import Customer, CustomerAddress
from tradewind.core.links.models import CustomerLink
from tradewind.core.orders.models import Order
from tradewind.monitoring.notifications import Notification, NotificationKind
from tradewind.sandbox.shopify import ShopifySandbox
from tradewind.sync.models import InboxDelivery

ADA = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}
GRACE = {"email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper"}


@pytest.fixture
def private(world: World) -> Iterator[World]:
    url = f"{world.hub.settings.base_url}/hooks/{world.plugin_id}/compliance"
    world.sandbox.set_compliance_urls(APP_KEY, url)
    try:
        yield world
    finally:  # the sandbox and its app are shared by the session
        world.sandbox.set_compliance_urls(APP_KEY, "")


def _order(world: World, external_id: int) -> Order | None:
    with world.hub.db.read() as session:
        found = session.scalar(
            select(Order).where(
                Order.plugin_id == world.plugin_id, Order.external_id == str(external_id)
            )
        )
        if found is not None:
            session.expunge(found)
        return found


def _place(world: World, buyer: dict[str, str]) -> dict[str, Any]:
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)], customer=buyer)
    world.settle(until=lambda: _order(world, placed["id"]) is not None)
    return placed


def _customer_by_email(world: World, email: str) -> int | None:
    with world.hub.db.read() as session:
        return session.scalar(select(Customer.id).where(Customer.email == email))


def _notes(world: World) -> list[str]:
    with world.hub.db.read() as session:
        return list(
            session.scalars(
                select(Notification.message).where(
                    Notification.kind == NotificationKind.PRIVACY_REQUEST,
                    Notification.plugin_id == world.plugin_id,
                )
            )
        )


def test_data_request_lists_what_tradewind_holds(private: World) -> None:
    placed = _place(private, ADA)
    private.sandbox.request_customer_data(private.shop, placed["customer"]["id"])
    private.settle(until=lambda: bool(_notes(private)))
    (message,) = _notes(private)
    assert "ada@example.com" in message and "Ada Lovelace" in message
    assert str(placed["name"]).lstrip("#") in message or str(placed["name"]) in message


def test_customer_redact_erases_the_customer_and_their_orders_personal_data(
    private: World,
) -> None:
    placed = _place(private, ADA)
    kept = _place(private, GRACE)
    before = _order(private, placed["id"])
    assert before is not None and before.email == "ada@example.com"
    ada = _customer_by_email(private, "ada@example.com")
    assert ada is not None
    private.sandbox.redact_customer(private.shop, placed["customer"]["id"])
    private.settle(until=lambda: _customer_by_email(private, "ada@example.com") is None)
    after = _order(private, placed["id"])
    assert after is not None
    assert (after.email, after.billing_address, after.customer_id, after.note) == (
        "",
        None,
        None,
        "",
    )
    assert set(after.shipping_address or {}) <= {
        "country_code",
        "country",
        "province",
        "province_code",
    }
    assert after.total == before.total  # the merchant's books stay
    with private.hub.db.read() as session:
        customer = session.get(Customer, ada)
        assert customer is not None
        personal = (customer.email, customer.first_name, customer.last_name, customer.phone)
        assert personal == (None, "", "", "")
        assert (
            session.scalars(select(CustomerAddress).where(CustomerAddress.customer_id == ada)).all()
            == []
        )
        assert (
            session.scalars(select(CustomerLink).where(CustomerLink.customer_id == ada)).all() == []
        )
        requests = session.scalars(
            select(InboxDelivery).where(
                InboxDelivery.plugin_id == private.plugin_id,
                InboxDelivery.topic == "compliance",
            )
        ).all()
        assert requests and all(b"ada@example.com" not in r.body for r in requests)
    other = _order(private, kept["id"])
    assert other is not None and other.email == "grace@example.com"  # someone else's stays


def test_shop_redact_erases_the_shops_personal_data(private: World) -> None:
    first = _place(private, ADA)
    second = _place(private, GRACE)
    private.sandbox.redact_shop(private.shop, APP_KEY)

    def erased() -> bool:
        orders = [_order(private, p["id"]) for p in (first, second)]
        return all(o is not None and o.email == "" for o in orders)

    private.settle(until=erased)
    assert _customer_by_email(private, "ada@example.com") is None
    assert _customer_by_email(private, "grace@example.com") is None
    with private.hub.db.read() as session:
        bodies = session.scalars(
            select(InboxDelivery.body).where(InboxDelivery.plugin_id == private.plugin_id)
        ).all()
        assert all(b"@example.com" not in body for body in bodies)


def test_a_compliance_webhook_with_a_bad_signature_is_refused(private: World) -> None:
    answer = httpx2.post(
        f"{private.hub.settings.base_url}/hooks/{private.plugin_id}/compliance",
        content=b'{"shop_id":1,"shop_domain":"x.myshopify.com"}',
        headers={
            "X-Shopify-Topic": "shop/redact",
            "X-Shopify-Hmac-Sha256": "bm90IGl0",
            "X-Shopify-Webhook-Id": "forged",
        },
    )
    assert answer.status_code == 401


@pytest.fixture
def alone(sqlite_url: str, tmp_path: Path) -> Iterator[World]:
    """A store in a sandbox of its own: waiting for its deliveries waits for no other
    test's retries (the session's sandbox may still be retrying other shops')."""
    with (
        ShopifySandbox(time_scale=10_000) as sandbox,
        make_world(sandbox, sqlite_url, tmp_path) as world,
    ):
        url = f"{world.hub.settings.base_url}/hooks/{world.plugin_id}/compliance"
        world.sandbox.set_compliance_urls(APP_KEY, url)
        yield world


def test_shop_redact_follows_an_uninstall_and_is_acted_on(alone: World) -> None:
    private = alone
    placed = _place(private, ADA)
    private.sandbox.uninstall(private.shop, APP_KEY)

    def erased() -> bool:
        order = _order(private, placed["id"])
        return order is not None and order.email == ""

    # 48 h at the session sandbox's time scale, while the plugin has lost its authorization
    assert private.sandbox.wait_for_webhooks(timeout=120.0)
    private.settle(until=erased)
    assert _customer_by_email(private, "ada@example.com") is None
