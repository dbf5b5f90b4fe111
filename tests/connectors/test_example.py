"""The example connector passes the conformance suite against Fake Market (and so proves
the suite runs). docs/connectors.md ends with this file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from tests.fakeplatform import TOKEN, WEBHOOK_SECRET, FakeMarketServer
from tradewind.connectors import OrderQuery, StockPush
from tradewind.connectors.example import FakeMarketConnector
from tradewind.connectors.testing import SuitePlatform, connector_suite


@contextmanager
def fake_platform() -> Iterator[SuitePlatform]:
    with FakeMarketServer() as server:
        server.market.page_size = 3
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        for number in range(7):
            server.market.add_order(f"{100 + number}", placed_at=start + dt.timedelta(hours=number))
        settings = {
            "shop": "fake-shop",
            "api_token": TOKEN,
            "webhook_secret": WEBHOOK_SECRET,
            "base_url": server.url,
        }
        yield SuitePlatform(
            settings=settings,
            wrong_credentials={**settings, "api_token": "nope"},
            order_query=OrderQuery(field="created_at", since=start),
            min_orders=7,
            known_order_id="100",
            stock_push=StockPush(product_id=1, sku="MUG", location_ref="loc-1", available=5),
            webhook=lambda: ("orders/updated", *server.market.webhook("100", delivery="d-1")),
        )


TestFakeConnector = connector_suite(FakeMarketConnector, fake_platform)
