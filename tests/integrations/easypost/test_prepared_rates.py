"""Rates when a shipment is being prepared: a package made on a channel with a rating
plugin is rated by the engine (work written with the package), so the order page shows
its rates without a click; the card asks again while they are coming; Get rates stays."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.integrations.easypost.conftest import Shop, drain
from tests.web.conftest import PASSWORD, Browser
from tradewind.app import shipping as actions
from tradewind.auth import service as auth
from tradewind.auth.models import Role
from tradewind.core.plugins import service as plugins
from tradewind.core.shipping import service as shipping
from tradewind.server import create_app
from tradewind.sync.models import SyncWork, WorkKind, WorkState


def _browser(shop: Shop, client: TestClient) -> Browser:
    with shop.hub.db.unit_of_work() as session:
        auth.create_user(session, "admin", PASSWORD, Role.ADMIN)
    browser = Browser(client)
    assert browser.login("admin").status_code == 303
    return browser


def test_a_prepared_package_is_rated_by_the_engine(shop: Shop) -> None:
    with shop.hub.db.read() as session:
        (work,) = session.scalars(select(SyncWork).where(SyncWork.kind == WorkKind.GET_RATES))
        assert (work.plugin_id, work.key, work.state) == (
            shop.plugin_id,
            str(shop.package_id),
            WorkState.PENDING,
        )
        order_id = shipping.get_package(session, shop.package_id).order_id
    with TestClient(create_app(shop.hub)) as client:
        browser = _browser(shop, client)
        coming = browser.get(f"/orders/{order_id}").text
        assert "Getting rates from the carrier" in coming
        assert f'hx-get="/packages/{shop.package_id}/card"' in coming
        drain(shop.hub, shop.plugin_id)
        with shop.hub.db.read() as session:
            quotes = shipping.get_package(session, shop.package_id).quotes
            prices = {(q.carrier, q.service): q.amount for q in quotes}
        assert prices[("USPS", "GroundAdvantage")] == Decimal("8.3000")  # the README's table
        card = browser.get(f"/packages/{shop.package_id}/card").text
        assert "Getting rates" not in card and "GroundAdvantage" in card
        assert "cheapest" in card and "Buy label" in card
    cheapest = shipping.cheapest(quotes)
    assert cheapest is not None
    label = actions.buy_label(shop.hub, shop.package_id, cheapest.id)  # the engine's quote buys
    assert label.service == "GroundAdvantage"


def test_rates_asked_for_meanwhile_are_not_fetched_again(shop: Shop) -> None:
    actions.get_rates(shop.hub, shop.package_id)  # Get rates, clicked before the engine ran
    with shop.hub.db.read() as session:
        before = {q.id for q in shipping.get_package(session, shop.package_id).quotes}
    drain(shop.hub, shop.plugin_id)
    with shop.hub.db.read() as session:
        assert {q.id for q in shipping.get_package(session, shop.package_id).quotes} == before


def test_a_voided_package_is_rated_again(shop: Shop) -> None:
    drain(shop.hub, shop.plugin_id)
    with shop.hub.db.read() as session:
        cheapest = shipping.cheapest(shipping.get_package(session, shop.package_id).quotes)
        assert cheapest is not None
        bought_from = cheapest.external_id
    actions.buy_label(shop.hub, shop.package_id, cheapest.id)
    actions.void_label(shop.hub, shop.package_id)
    drain(shop.hub, shop.plugin_id)
    with shop.hub.db.read() as session:
        again = shipping.get_package(session, shop.package_id).quotes
        # Rates of a new EasyPost shipment: the refunded one's cannot be bought again.
        assert again and bought_from not in {q.external_id for q in again}


def test_a_package_whose_rating_plugin_is_off_waits_for_get_rates(shop: Shop) -> None:
    with shop.hub.db.unit_of_work() as session:
        plugins.deactivate(session, shop.plugin_id)
        order_id = shipping.get_package(session, shop.package_id).order_id
    with TestClient(create_app(shop.hub)) as client:
        browser = _browser(shop, client)
        made = browser.post(f"/orders/{order_id}/packages", {"weight": "500"})
        said = browser.get(made.headers["location"]).text
        assert "ready: Get rates to choose one." in said and "rates are coming" not in said
    with shop.hub.db.read() as session:
        keys = set(session.scalars(select(SyncWork.key).where(SyncWork.kind == WorkKind.GET_RATES)))
        assert keys == {str(shop.package_id)}  # the fixture's, made while it was on
