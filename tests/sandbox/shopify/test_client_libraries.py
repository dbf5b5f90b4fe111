"""Shopify's own client libraries, unmodified, against the sandbox over real HTTP:
only their base URL is changed.

- ``ShopifyAPI`` 12.7.0 (the official Python library): REST pagination through the
  ``Link`` header, the call-limit header through ``shopify.Limits``, a GraphQL query, and
  its HMAC validator on the OAuth callback.
- ``shopifyapp`` 1.0.2 (Shopify's new package): webhook verification with its own
  validator, GraphQL, client-credentials and refresh-token exchanges. It always calls
  ``https://{shop}.myshopify.com``; its documented test seam (``http_client``) is given a
  transport that sends the same request to the sandbox, ``Host`` header unchanged, so the
  sandbox routes it by shop domain.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import httpx2
import pytest
import shopify  # type: ignore[import-untyped]
from shopify_app.exchange.client_credentials import exchange_using_client_credentials
from shopify_app.graphql.admin_graphql import admin_graphql_request
from shopify_app.verify.webhook import verify_webhook_req

from tests.sandbox.shopify.conftest import (
    APP_KEY,
    APP_SECRET,
    SHOP,
    TOKEN,
    Receiver,
    catalog,
    subscribe,
)
from tradewind.sandbox.shopify import ShopifySandbox

VERSION = "2025-07"


@pytest.fixture
def shopify_session(sandbox: ShopifySandbox) -> Iterator[None]:
    session = shopify.Session(f"{SHOP}.myshopify.com", VERSION, TOKEN)
    shopify.ShopifyResource.activate_session(session)
    shopify.ShopifyResource.site = sandbox.admin_url(VERSION)  # the base URL, and only it
    yield
    shopify.ShopifyResource.clear_session()


def test_shopify_api_pages_through_orders_and_reads_the_call_limit(
    sandbox: ShopifySandbox, shopify_session: None
) -> None:
    catalog(sandbox)
    placed = [sandbox.place_order(SHOP, [("MUG-1", 1)])["id"] for _ in range(7)]

    page = shopify.Order.find(limit=3, status="any")
    seen = [order.id for order in page]
    pages = 1
    while page.has_next_page():
        page = page.next_page()
        seen += [order.id for order in page]
        pages += 1

    assert sorted(seen) == sorted(placed)
    assert pages == 3
    assert shopify.Limits.credit_limit() == 40
    assert 1 <= shopify.Limits.credit_used() <= 40
    assert shopify.Limits.credit_left() == 40 - shopify.Limits.credit_used()


def test_shopify_api_reads_and_writes_resources(
    sandbox: ShopifySandbox, shopify_session: None
) -> None:
    mug = catalog(sandbox)
    product = shopify.Product.find(mug["id"])
    assert product.title == "Enamel mug"
    variant = product.variants[0]
    level = shopify.InventoryLevel.set(
        location_id=shopify.Location.find()[0].id,
        inventory_item_id=variant.inventory_item_id,
        available=42,
    )
    assert level.available == 42
    assert shopify.Product.find(mug["id"]).variants[0].inventory_quantity == 42


def test_shopify_api_runs_a_graphql_query(sandbox: ShopifySandbox, shopify_session: None) -> None:
    catalog(sandbox)
    answer = json.loads(
        shopify.GraphQL().execute(
            "query($n: Int!) { shop { name } products(first: $n) { nodes { title } } }",
            variables={"n": 5},
        )
    )
    assert answer["data"]["shop"]["name"] == "Acme"
    assert {p["title"] for p in answer["data"]["products"]["nodes"]} == {
        "Enamel mug",
        "Canvas tote",
    }
    cost = answer["extensions"]["cost"]
    assert cost["requestedQueryCost"] >= cost["actualQueryCost"] > 0
    assert cost["throttleStatus"]["maximumAvailable"] == 2000.0


def test_shopify_api_validates_the_oauth_callback(sandbox: ShopifySandbox) -> None:
    sandbox.create_app("oauth-app", "oauth-secret", auto_approve=True)
    response = httpx2.get(
        f"{sandbox.base_url}/admin/oauth/authorize",
        params={
            "client_id": "oauth-app",
            "scope": "read_orders,write_inventory",
            "redirect_uri": "https://app.example/callback",
            "state": "nonce-123",
            "shop": f"{SHOP}.myshopify.com",
        },
    )
    assert response.status_code == 302
    params = dict(parse_qsl(urlsplit(response.headers["location"]).query))
    assert set(params) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    shopify.Session.setup(api_key="oauth-app", secret="oauth-secret")
    try:
        assert shopify.Session.validate_params(params)
        assert not shopify.Session.validate_params(dict(params, state="tampered"))
    finally:
        shopify.Session.setup(api_key=None, secret=None)


class ToSandbox(httpx.HTTPTransport):
    """Sends https://{shop}.myshopify.com/... to the sandbox, Host header unchanged."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base = httpx.URL(base_url)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(
            scheme=self.base.scheme, host=self.base.host, port=self.base.port
        )
        return super().handle_request(request)


def test_shopifyapp_verifies_a_webhook_with_its_own_validator(
    sandbox: ShopifySandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    catalog(sandbox)
    subscribe(client, "orders/create", receiver.url)
    order = sandbox.place_order(SHOP, [("MUG-1", 2)])

    delivery = receiver.wait_for(1)[0]
    config = {"client_id": APP_KEY, "client_secret": APP_SECRET, "old_client_secret": None}
    request = {
        "method": "POST",
        "headers": delivery.headers,
        "url": receiver.url,
        "body": delivery.body.decode(),
    }
    verified = verify_webhook_req(request, config)  # type: ignore[arg-type]
    assert verified.ok, verified.log
    assert verified.shop == SHOP
    assert json.loads(delivery.body)["id"] == order["id"]

    forged = dict(request, body=delivery.body.decode().replace("Enamel", "Forged"))
    assert not verify_webhook_req(forged, config).ok  # type: ignore[arg-type]


def test_shopifyapp_graphql_and_client_credentials(sandbox: ShopifySandbox) -> None:
    catalog(sandbox)
    with httpx.Client(transport=ToSandbox(sandbox.base_url)) as http:
        result = admin_graphql_request(
            '{ shop { myshopifyDomain } productVariants(first: 10, query: "sku:MUG-1") '
            "{ nodes { sku inventoryQuantity } } }",
            shop=SHOP,
            access_token=TOKEN,
            api_version=VERSION,
            http_client=http,
        )
        assert result.ok, result.log
        assert result.data is not None
        assert result.data["shop"]["myshopifyDomain"] == f"{SHOP}.myshopify.com"
        assert result.data["productVariants"]["nodes"] == [
            {"sku": "MUG-1", "inventoryQuantity": 10}
        ]
        assert result.extensions is not None
        assert result.extensions["cost"]["throttleStatus"]["restoreRate"] == 100.0

        exchanged = exchange_using_client_credentials(
            SHOP,
            {"client_id": APP_KEY, "client_secret": APP_SECRET, "old_client_secret": None},
            http_client=http,
        )
        assert exchanged.ok, exchanged.log
        fresh = exchanged.access_token
        assert fresh is not None
        again = admin_graphql_request(
            "{ shop { name } }",
            shop=SHOP,
            access_token=fresh.token,
            api_version=VERSION,
            http_client=http,
        )
        assert again.ok and again.data is not None and again.data["shop"]["name"] == "Acme"
