"""Every write of the connector goes over GraphQL, on each API version it supports: the
sandbox answers as Shopify does for that version, and no REST write is ever sent."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx2
import pytest
from pydantic import ValidationError

from tradewind.connectors import (
    AddressRecord,
    CustomerRecord,
    OrderExport,
    OrderExportLine,
    ProductExport,
    Rejected,
    ReturnExport,
    ReturnExportLine,
    ShipmentLineRecord,
    ShipmentRecord,
    Unavailable,
)
from tradewind.connectors.testing import suite_context
from tradewind.integrations.shopify import customers, fulfillments, orders, products, refunds
from tradewind.integrations.shopify.client import ShopifyClient
from tradewind.integrations.shopify.settings import SUPPORTED_VERSIONS, ShopifySettings
from tradewind.sandbox.shopify import ShopifySandbox
from tradewind.sandbox.shopify.core import API_VERSIONS

_names = itertools.count(1)


@pytest.fixture(params=SUPPORTED_VERSIONS)
def client(request: pytest.FixtureRequest, sandbox: ShopifySandbox) -> Iterator[ShopifyClient]:
    """A client of a fresh shop speaking one API version."""
    version = str(request.param)
    shop = f"gqlw{next(_names)}-{version.replace('-', '')}"
    made = sandbox.create_shop(shop, token=f"shpat_{shop}")
    assert made.token is not None
    settings = ShopifySettings(
        store_url=f"https://{shop}.myshopify.com",
        access_token=made.token,
        api_version=version,
        sandbox_url=sandbox.base_url,
    )
    connected = ShopifyClient(settings, suite_context(httpx2.HTTPTransport()))
    try:
        yield connected
    finally:
        connected.close()


def _shop(client: ShopifyClient) -> str:
    return client.settings.shop.removesuffix(".myshopify.com")


def _writes(sandbox: ShopifySandbox, client: ShopifyClient) -> list[tuple[str, str]]:
    """(path, the operation's name) of every request that writes: a GraphQL mutation,
    or any REST request but a read."""
    out = []
    for request in sandbox.requests(_shop(client)):
        assert request.version == client.version
        query = (request.body or {}).get("query", "") if request.path == "graphql.json" else ""
        if request.method != "GET" and not query.lstrip().startswith("query"):
            out.append((request.path, query.split("(")[0].strip()))
    return out


def _read(client: ShopifyClient, path: str) -> dict[str, Any]:
    return dict(client.rest("GET", path, operation="test.read").json())


def _product(**changes: object) -> ProductExport:
    fields: dict[str, object] = {
        "product_id": 1,
        "sku": "TEA-1",
        "title": "Green tea",
        "price": Decimal("4.50"),
        "barcode": "4006381333931",
        "weight_grams": Decimal("250"),
        "description": "<p>Loose leaf</p>",
        "images": ("https://cdn.example.com/tea.png",),
        "published": True,
    }
    fields.update(changes)
    return ProductExport.model_validate(fields)


def test_products_are_created_and_updated_over_graphql(
    sandbox: ShopifySandbox, client: ShopifyClient
) -> None:
    location = str(sandbox.state(_shop(client))["locations"][0]["id"])
    made = products.export(client, _product(locations=(location,)))
    (variant,) = made.variants
    assert (variant.sku, variant.price, variant.barcode) == (
        "TEA-1",
        Decimal("4.50"),
        "4006381333931",
    )
    assert made.published and made.images and made.description == "<p>Loose leaf</p>"
    stored = sandbox.state(_shop(client))
    (doc,) = [p for p in stored["products"] if str(p["id"]) == made.external_id]
    assert (doc["variants"][0]["weight"], doc["variants"][0]["weight_unit"]) == (250.0, "g")
    assert any(
        str(level["inventory_item_id"]) == variant.item_ref for level in stored["inventory_levels"]
    )
    # Sent again without its refs, as after a lost answer: found by SKU, changed in place.
    again = products.export(client, _product(title="Sencha", price=Decimal("5.00"), images=None))
    assert again.external_id == made.external_id and again.title == "Sencha"
    assert again.variants[0].price == Decimal("5.00")
    assert len(sandbox.state(_shop(client))["products"]) == 1
    assert _writes(sandbox, client) == [
        ("graphql.json", "mutation ProductSet"),
        ("graphql.json", "mutation Activate"),
        ("graphql.json", "mutation ProductSet"),
        ("graphql.json", "mutation VariantsUpdate"),
    ]


def _customer(**changes: object) -> CustomerRecord:
    fields: dict[str, object] = {
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "phone": "+14155550123",
        "addresses": (
            AddressRecord(
                first_name="Ada",
                address1="1 Analytical Row",
                city="London",
                postal_code="N1 9GU",
                country_code="GB",
            ),
        ),
    }
    fields.update(changes)
    return CustomerRecord.model_validate(fields)


def test_customers_are_created_and_updated_over_graphql(
    sandbox: ShopifySandbox, client: ShopifyClient
) -> None:
    made = customers.export(client, _customer())
    assert made.external_id and made.addresses[0].city == "London"
    renamed = customers.export(client, _customer(external_id=made.external_id, last_name="King"))
    assert (renamed.external_id, renamed.last_name) == (made.external_id, "King")
    # The store keeps one customer per email: a second create answers with the first.
    again = customers.create(client, _customer(first_name="Augusta"))
    assert again.external_id == made.external_id
    assert len(sandbox.state(_shop(client))["customers"]) == 1
    assert [query for _, query in _writes(sandbox, client)] == [
        "mutation CustomerCreate",
        "mutation CustomerUpdate",
        "mutation CustomerCreate",
    ]


def test_a_refused_customer_says_which_field(client: ShopifyClient) -> None:
    with pytest.raises(Rejected, match=r"customers\.create"):
        customers.create(client, CustomerRecord(email=""))


def _order(origin: str, variant: str | None = None) -> OrderExport:
    return OrderExport(
        origin_ref=origin,
        number="TW-1001",
        currency="USD",
        placed_at=dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC),
        email="ada@example.com",
        customer=_customer(),
        lines=(
            OrderExportLine(
                title="Green tea",
                sku="TEA-1",
                quantity=2,
                unit_price=Decimal("4.50"),
                variant_ref=variant,
            ),
        ),
        shipping_total=Decimal("3.00"),
        tax_total=Decimal("0.90"),
        shipping_address=_customer().addresses[0],
        note="Leave at the door",
        tags=("wholesale",),
    )


def test_orders_are_exported_fulfilled_closed_and_cancelled_over_graphql(
    sandbox: ShopifySandbox, client: ShopifyClient
) -> None:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    made = orders.export(client, _order("tw:order:1"))
    assert made.total == Decimal("12.90") and made.shipping_total == Decimal("3.00")
    assert orders.find(client, "tw:order:1", since) is not None
    (raw,) = [o for o in sandbox.state(_shop(client))["orders"] if str(o["id"]) == made.external_id]
    assert (raw["source_name"], raw["source_identifier"]) == ("tradewind", "tw:order:1")
    assert raw["note_attributes"] == [{"name": "Tradewind order", "value": "TW-1001"}]
    assert raw["shipping_address"]["city"] == "London" and "wholesale" in raw["tags"]
    shipment = ShipmentRecord(
        shipment_id=1,
        order_external_id=made.external_id,
        lines=(ShipmentLineRecord(line_external_id=made.lines[0].external_id, quantity=2),),
        carrier="UPS",
        tracking_number="1Z999",
        tracking_url="https://ups.example/1Z999",
        notify_customer=False,
    )
    shipped = fulfillments.create(client, shipment)
    assert fulfillments.create(client, shipment) == shipped  # found by its number: not twice
    fulfillments.close_order(client, made.external_id)
    fulfillments.cancel(client, shipped)
    fulfillments.cancel(client, shipped)  # cancelled already: done
    (fulfilled,) = _read(client, f"orders/{made.external_id}/fulfillments")["fulfillments"]
    assert (fulfilled["id"], fulfilled["status"]) == (int(shipped), "cancelled")
    assert fulfilled["tracking_number"] == "1Z999" and fulfilled["tracking_company"] == "UPS"
    assert _read(client, f"orders/{made.external_id}")["order"]["closed_at"]
    other = orders.export(client, _order("tw:order:2"))
    orders.cancel(client, other.external_id)
    orders.cancel(client, other.external_id)  # cancelled already: done
    (raw,) = [
        o for o in sandbox.state(_shop(client))["orders"] if str(o["id"]) == other.external_id
    ]
    assert raw["cancelled_at"] and raw["financial_status"] == "pending"  # no money moved
    assert [query for _, query in _writes(sandbox, client)] == [
        "mutation OrderCreate",
        "mutation FulfillmentCreate",
        "mutation OrderClose",
        "mutation FulfillmentCancel",
        "mutation FulfillmentCancel",
        "mutation OrderCreate",
        "mutation OrderCancel",
        "mutation OrderCancel",
    ]


def test_a_lost_order_answer_is_found_again_not_made_twice(
    sandbox: ShopifySandbox, client: ShopifyClient
) -> None:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    sandbox.inject_fault(_shop(client), "lose_answer", query_contains="orderCreate")
    with pytest.raises(Unavailable):
        orders.export(client, _order("tw:order:lost"))
    found = orders.find(client, "tw:order:lost", since)
    assert found is not None
    assert len(sandbox.state(_shop(client))["orders"]) == 1


def test_a_refund_is_made_once_even_when_its_answer_is_lost(
    sandbox: ShopifySandbox, client: ShopifyClient
) -> None:
    """From 2026-04 Shopify runs ``refundCreate`` only with an ``@idempotent`` key."""
    made = orders.export(client, _order("tw:order:refund"))
    refund = ReturnExport(
        order_external_id=made.external_id,
        marker="tw-return-7",
        lines=(ReturnExportLine(line_external_id=made.lines[0].external_id, quantity=1),),
    )
    sandbox.inject_fault(_shop(client), "lose_answer", query_contains="refundCreate")
    with pytest.raises(Unavailable):
        refunds.export(client, refund)
    first = refunds.export(client, refund)
    assert refunds.export(client, refund) == first
    (made_once,) = _read(client, f"orders/{made.external_id}/refunds")["refunds"]
    assert str(made_once["id"]) == first
    sent = [
        (r.body or {}).get("query", "")
        for r in sandbox.requests(_shop(client), "graphql.json")
        if "refundCreate" in (r.body or {}).get("query", "")
    ]
    assert all(("@idempotent" in query) == (client.version >= "2026-04") for query in sent)


def test_the_settings_accept_exactly_the_supported_versions() -> None:
    """Each is one the sandbox serves as asked (not fallen forward to its oldest)."""
    assert SUPPORTED_VERSIONS == API_VERSIONS
    base = {"store_url": "https://acme.myshopify.com", "access_token": "shpat_x"}
    for version in SUPPORTED_VERSIONS:
        assert ShopifySettings.model_validate({**base, "api_version": version}).api_version
    for version in ("2025-04", "2027-01", "unstable", "latest"):
        with pytest.raises(ValidationError, match="use one of 2025-07"):
            ShopifySettings.model_validate({**base, "api_version": version})
