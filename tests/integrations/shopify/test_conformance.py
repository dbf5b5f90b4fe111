"""The Shopify connector passes the conformance suite against the sandbox."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from tradewind.connectors.records import (
    CustomerRecord,
    OrderExport,
    OrderExportLine,
    OrderQuery,
    ProductExport,
    StockPush,
)
from tradewind.connectors.testing import SuitePlatform, connector_suite
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.sandbox.shopify import ShopifySandbox

SECRET = "suite-secret"


@contextmanager
def shopify_platform() -> Iterator[SuitePlatform]:
    with ShopifySandbox() as sandbox:
        made = sandbox.create_shop(
            "suite", token="shpat_suite", app_key="suite-app", app_secret=SECRET
        )
        product = sandbox.add_product("suite", "Mug", [{"sku": "MUG", "available": 4}])
        since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        placed = [sandbox.place_order("suite", [("MUG", 1)]) for _ in range(3)]
        variant = product["variants"][0]
        location = sandbox.state("suite")["locations"][0]["id"]
        settings = {
            "store_url": "https://suite.myshopify.com",
            "access_token": made.token,
            "client_id": "suite-app",
            "client_secret": SECRET,
            "sandbox_url": sandbox.base_url,
        }

        def webhook() -> tuple[str, dict[str, str], bytes]:
            body = json.dumps({"id": placed[0]["id"]}).encode()
            digest = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest())
            return (
                "orders/updated",
                {
                    "X-Shopify-Topic": "orders/updated",
                    "X-Shopify-Hmac-Sha256": digest.decode(),
                    "X-Shopify-Webhook-Id": "delivery-1",
                    "X-Shopify-Shop-Domain": "suite.myshopify.com",
                },
                body,
            )

        yield SuitePlatform(
            settings=settings,
            wrong_credentials={**settings, "access_token": "shpat_wrong"},
            order_query=OrderQuery(field="created_at", since=since),
            min_orders=3,
            known_order_id=str(placed[0]["id"]),
            stock_push=StockPush(
                product_id=1,
                sku="MUG",
                location_ref=str(location),
                available=9,
                item_ref=str(variant["inventory_item_id"]),
            ),
            webhook=webhook,
            customer=CustomerRecord(email="Suite.Buyer@example.com", first_name="Suite"),
            product=ProductExport(
                product_id=2, sku="SUITE-1", title="Suite product", price=Decimal("4.50")
            ),
            order=OrderExport(
                origin_ref="tradewind:order:1",
                number="TW1001",
                currency="USD",
                placed_at=dt.datetime.now(dt.UTC),
                lines=(
                    OrderExportLine(
                        title="Mug",
                        sku="MUG",
                        quantity=2,
                        unit_price=Decimal("12.00"),
                        variant_ref=str(variant["id"]),
                    ),
                    OrderExportLine(title="Gift wrap", quantity=1, unit_price=Decimal("2.00")),
                ),
            ),
        )


TestShopifyConnector = connector_suite(ShopifyConnector, shopify_platform)
