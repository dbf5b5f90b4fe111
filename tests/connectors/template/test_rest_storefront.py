"""The shipped REST storefront template is a sales channel like a Python connector: it
passes the same conformance suite against Fake Market, a small store over real HTTP."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.fakeplatform import TOKEN, WEBHOOK_SECRET, FakeMarketServer
from tradewind.connectors import OrderQuery, StockPush
from tradewind.connectors.base import ReceivesWebhooks
from tradewind.connectors.errors import Rejected
from tradewind.connectors.template import connector_class, shipped_templates
from tradewind.connectors.testing import SuitePlatform, connector_suite, suite_context

(REST_STOREFRONT,) = [t for t in shipped_templates() if t.id == "rest_storefront"]
RestStorefront = connector_class(REST_STOREFRONT)


@contextmanager
def fake_store() -> Iterator[SuitePlatform]:
    with FakeMarketServer() as server:
        server.market.page_size = 3
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        for number in range(7):
            server.market.add_order(f"{100 + number}", placed_at=start + dt.timedelta(hours=number))
        settings = {"store_url": server.url, "api_token": TOKEN, "webhook_secret": WEBHOOK_SECRET}
        yield SuitePlatform(
            settings=settings,
            wrong_credentials={**settings, "api_token": "nope"},
            order_query=OrderQuery(field="created_at", since=start),
            min_orders=7,
            known_order_id="100",
            stock_push=StockPush(product_id=1, sku="MUG", location_ref="loc-1", available=5),
            webhook=lambda: ("orders", *signed(b'{"order_id": "100"}', "d-1")),
        )


def signed(body: bytes, delivery: str) -> tuple[dict[str, str], bytes]:
    """A delivery as the store posts it: HMAC-SHA256 of the body in X-Signature."""
    digest = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).digest()
    return {"X-Signature": base64.b64encode(digest).decode(), "X-Delivery": delivery}, body


def test_a_delivery_names_its_order_and_a_forged_one_fails() -> None:
    with fake_store() as live:
        built = RestStorefront(
            RestStorefront.info.settings.model_validate(live.settings),
            suite_context(live.transport()),
        )
        assert isinstance(built, ReceivesWebhooks)
        instance = built
        headers, body = signed(b'{"order_id": "A7"}', "d-9")
        assert instance.verify_webhook(headers, body)
        forged = {**headers, "X-Signature": base64.b64encode(b"0" * 32).decode()}
        assert not instance.verify_webhook(forged, body)
        event = instance.parse_webhook("orders", headers, body)
        assert (event.subject, event.subject_id, event.delivery_id) == ("order", "A7", "d-9")
        with pytest.raises(Rejected, match="no inbound webhook 'refunds'"):
            instance.parse_webhook("refunds", headers, body)
        built.close()


TestRestStorefrontTemplate = connector_suite(RestStorefront, fake_store)
