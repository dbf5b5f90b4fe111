"""The Vendure connector passes the conformance suite against a real Vendure server."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager

from standardwebhooks import Webhook

from tests.integrations.vendure.harness import WEBHOOK_SECRET, session_peer
from tradewind.connectors.records import OrderQuery, StockPush
from tradewind.connectors.testing import SuitePlatform, connector_suite
from tradewind.integrations.vendure import VendureConnector


def signed(topic: str, data: dict[str, str], delivery: str) -> tuple[str, dict[str, str], bytes]:
    """A delivery as the companion plugin signs it."""
    now = dt.datetime.now(dt.UTC)
    body = json.dumps({"id": delivery, "type": topic, "timestamp": now.isoformat(), "data": data})
    signature = Webhook(WEBHOOK_SECRET).sign(delivery, now, body)
    headers = {
        "webhook-id": delivery,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    return topic, headers, body.encode()


@contextmanager
def vendure_platform() -> Iterator[SuitePlatform]:
    peer = session_peer()
    started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
    variants = peer.create_product("Suite Plate", [("SUITE-PLATE", 1500, 50, "")])
    orders = [
        peer.place_order([(variants["SUITE-PLATE"], 1)], f"suite{n}@example.com") for n in range(3)
    ]
    settings = peer.settings(page_size=2)  # three orders: two pages
    yield SuitePlatform(
        settings=settings,
        wrong_credentials={**settings, "api_key": "not-a-key"},
        order_query=OrderQuery(field="created_at", since=started),
        min_orders=3,
        known_order_id=orders[0]["id"],
        stock_push=StockPush(
            product_id=1,
            sku="SUITE-PLATE",
            location_ref=peer.default_location,
            available=7,
            item_ref=variants["SUITE-PLATE"],
        ),
        webhook=lambda: signed("order/placed", {"orderId": orders[0]["id"]}, "msg_suite_1"),
    )


TestVendureConnector = connector_suite(VendureConnector, vendure_platform)
