"""The shipped REST storefront template is a sales channel like a Python connector: it
passes the same conformance suite against Fake Market, a small store over real HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from tests.fakeplatform import TOKEN, FakeMarketServer
from tradewind.connectors import OrderQuery, StockPush
from tradewind.connectors.template import connector_class, shipped_templates
from tradewind.connectors.testing import SuitePlatform, connector_suite

(REST_STOREFRONT,) = [t for t in shipped_templates() if t.id == "rest_storefront"]
RestStorefront = connector_class(REST_STOREFRONT)


@contextmanager
def fake_store() -> Iterator[SuitePlatform]:
    with FakeMarketServer() as server:
        server.market.page_size = 3
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        for number in range(7):
            server.market.add_order(f"{100 + number}", placed_at=start + dt.timedelta(hours=number))
        settings = {"store_url": server.url, "api_token": TOKEN}
        yield SuitePlatform(
            settings=settings,
            wrong_credentials={**settings, "api_token": "nope"},
            order_query=OrderQuery(field="created_at", since=start),
            min_orders=7,
            known_order_id="100",
            stock_push=StockPush(product_id=1, sku="MUG", location_ref="loc-1", available=5),
        )


TestRestStorefrontTemplate = connector_suite(RestStorefront, fake_store)
