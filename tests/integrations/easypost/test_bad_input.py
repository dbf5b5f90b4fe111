"""Bad input against the EasyPost sandbox, from the faces a person uses: a package with
no weight is refused with what is missing and nothing is written; a label for a rate
that expired, or for an order that cannot ship, is refused, saying so, and nothing is
bought (the sandbox's count)."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from tests.api.conftest import Api, make_token
from tests.integrations.easypost.conftest import Shop
from tests.web.conftest import PASSWORD, Browser
from tradewind.app import shipping as actions
from tradewind.auth import service as auth
from tradewind.auth.models import Role, TokenScope
from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.core.shipping import service as shipping
from tradewind.core.shipping.models import Package, PackageState, RateQuote
from tradewind.db import utcnow
from tradewind.errors import Invalid
from tradewind.server import create_app

EXPIRED = r"the USPS GroundAdvantage rate expired at .* UTC: get rates again"


def _browser(shop: Shop, client: TestClient) -> Browser:
    with shop.hub.db.unit_of_work() as session:
        auth.create_user(session, "admin", PASSWORD, Role.ADMIN)
    browser = Browser(client)
    assert browser.login("admin").status_code == 303
    return browser


def _order_id(shop: Shop) -> int:
    with shop.hub.db.read() as session:
        return shipping.get_package(session, shop.package_id).order_id


def _packages(shop: Shop) -> int:
    with shop.hub.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Package)) or 0)


def test_a_package_with_no_weight_is_refused_on_the_order_and_nothing_is_written(
    shop: Shop,
) -> None:
    with TestClient(create_app(shop.hub)) as client:
        browser = _browser(shop, client)
        refused = browser.post(f"/orders/{_order_id(shop)}/packages", {"weight": ""})
        shown = browser.get(refused.headers["location"]).text
        assert "parcel 1 has no weight: carriers rate by weight" in shown
        api = Api(client, make_token(shop.hub, TokenScope.READ_WRITE))
        answer = api.post(
            f"/orders/{_order_id(shop)}/packages", json={"parcels": [{"weight": "0"}]}
        )
        assert answer.status_code == 422
        assert answer.json()["errors"] == {"parcels.1.weight": "required"}
    assert _packages(shop) == 1  # the fixture's, and no other


def _expired_cheapest(shop: Shop) -> RateQuote:
    cheapest = shipping.cheapest(actions.get_rates(shop.hub, shop.package_id))
    assert cheapest is not None
    with shop.hub.db.unit_of_work() as session:
        session.execute(update(RateQuote).values(expires_at=utcnow() - dt.timedelta(minutes=1)))
    return cheapest


def test_a_label_for_an_expired_rate_is_refused_and_nothing_is_bought(shop: Shop) -> None:
    expired = _expired_cheapest(shop)
    with pytest.raises(Invalid, match=EXPIRED):
        actions.buy_label(shop.hub, shop.package_id, expired.id)
    with TestClient(create_app(shop.hub)) as client:
        api = Api(client, make_token(shop.hub, TokenScope.READ_WRITE))
        answer = api.post(f"/packages/{shop.package_id}/label", json={"quote_id": expired.id})
        assert answer.status_code == 422 and "get rates again" in answer.json()["detail"]
        browser = _browser(shop, client)
        page = browser.get(f"/orders/{_order_id(shop)}").text
        assert '<span class="badge bad">expired</span>' in page  # no Buy label on it
        clicked = browser.post(f"/packages/{shop.package_id}/label", {"quote_id": expired.id})
        assert "rate expired at" in browser.get(clicked.headers["location"]).text
    assert shop.sandbox.labels(shop.key)["bought"] == 0
    with shop.hub.db.read() as session:
        assert shipping.get_package(session, shop.package_id).state is PackageState.DRAFT
        assert shipping.label_of(session, shop.package_id) is None
    fresh = shipping.cheapest(actions.get_rates(shop.hub, shop.package_id))  # and then it works
    assert fresh is not None
    actions.buy_label(shop.hub, shop.package_id, fresh.id)
    assert shop.sandbox.labels(shop.key)["bought"] == 1


def test_a_label_for_an_order_that_cannot_ship_is_refused_before_it_is_bought(
    shop: Shop,
) -> None:
    cheapest = shipping.cheapest(actions.get_rates(shop.hub, shop.package_id))
    assert cheapest is not None
    with shop.hub.db.unit_of_work() as session:  # the mugs were sold elsewhere
        order = orders.get_order(session, _order_id(shop))
        line = order.lines[0]
        assert line.product_id is not None and order.warehouse_id is not None
        inventory.adjust(session, line.product_id, order.warehouse_id, -5, reason="broken")
    with pytest.raises(Invalid, match="needs 1 on hand to ship, and 0 are"):
        actions.buy_label(shop.hub, shop.package_id, cheapest.id)
    assert shop.sandbox.labels(shop.key)["bought"] == 0  # no label paid for in vain
    with shop.hub.db.read() as session:
        assert shipping.get_package(session, shop.package_id).state is PackageState.DRAFT
