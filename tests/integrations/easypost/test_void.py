"""Voiding a label, against the EasyPost sandbox, from each face: the carrier refunds the
postage (the sandbox's count of refunds says so), the shipment is undone and the package
can be rated and bought again; a second void is refused without asking the carrier."""

from __future__ import annotations

import httpx2
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Api, make_token
from tests.cli.test_cli import bad, ok
from tests.integrations.easypost.conftest import Shop
from tests.web.conftest import PASSWORD, Browser
from tradewind.app import shipping as actions
from tradewind.app.calls import ConnectorFailed
from tradewind.auth import service as auth
from tradewind.auth.models import Role, TokenScope
from tradewind.core.orders import service as orders
from tradewind.core.shipping import service as shipping
from tradewind.core.shipping.models import Label, LabelState, PackageState
from tradewind.errors import Conflict
from tradewind.server import create_app
from tradewind.vocabulary import FulfillmentStatus


def _bought(shop: Shop) -> Label:
    cheapest = shipping.cheapest(actions.get_rates(shop.hub, shop.package_id))
    assert cheapest is not None
    return actions.buy_label(shop.hub, shop.package_id, cheapest.id)


def test_a_voided_label_is_refunded_once_and_the_package_bought_again(shop: Shop) -> None:
    first = _bought(shop)
    voided = actions.void_label(shop.hub, shop.package_id)
    assert (voided.id, voided.state) == (first.id, LabelState.VOIDED)
    assert shop.sandbox.labels(shop.key) == {"bought": 1, "refunded": 1}
    with pytest.raises(Conflict, match="voided already"):
        actions.void_label(shop.hub, shop.package_id)
    assert shop.sandbox.labels(shop.key)["refunded"] == 1  # the carrier was not asked again
    with shop.hub.db.read() as session:
        package = shipping.get_package(session, shop.package_id)
        assert (package.state, package.quotes) == (PackageState.VOIDED, [])
        order = orders.get_order(session, package.order_id)
        assert order.fulfillment_status is FulfillmentStatus.UNFULFILLED
    second = _bought(shop)  # fresh rates: a new EasyPost shipment, a new label
    assert second.tracking_number != first.tracking_number
    assert shop.sandbox.labels(shop.key) == {"bought": 2, "refunded": 1}
    with shop.hub.db.read() as session:
        assert shipping.get_package(session, shop.package_id).state is PackageState.LABELLED


def test_the_api_voids_a_label_and_refuses_a_second_void(shop: Shop) -> None:
    _bought(shop)
    with TestClient(create_app(shop.hub)) as client:
        api = Api(client, make_token(shop.hub, TokenScope.READ_WRITE))
        answer = api.post(f"/packages/{shop.package_id}/void")
        assert answer.status_code == 200, answer.text
        assert (answer.json()["state"], answer.json()["label"]) == ("voided", None)
        again = api.post(f"/packages/{shop.package_id}/void")
        assert again.status_code == 409
        assert "voided already" in again.json()["detail"]
        unknown = api.post("/packages/999/void")
        assert unknown.status_code == 404
    assert shop.sandbox.labels(shop.key)["refunded"] == 1


def test_the_cli_voids_a_label_and_refuses_a_second_void(shop: Shop) -> None:
    _bought(shop)
    said = " ".join(ok(shop.hub, "shipments", "void", str(shop.package_id)).split())
    assert f"package {shop.package_id} can be rated and bought again" in said
    assert "voided already" in bad(shop.hub, "shipments", "void", str(shop.package_id))
    assert shop.sandbox.labels(shop.key)["refunded"] == 1


def test_the_order_page_voids_a_label_and_answers_on_its_card(shop: Shop) -> None:
    label = _bought(shop)
    with shop.hub.db.unit_of_work() as session:
        auth.create_user(session, "admin", PASSWORD, Role.ADMIN)
        order_id = shipping.get_package(session, shop.package_id).order_id
    with TestClient(create_app(shop.hub)) as client:
        browser = Browser(client)
        assert browser.login("admin").status_code == 303
        page = browser.get(f"/orders/{order_id}").text
        assert f'hx-post="/packages/{shop.package_id}/void"' in page
        assert "hx-confirm=" in page
        card = browser.htmx(f"/packages/{shop.package_id}/void")
        assert card.status_code == 200
        assert f'id="package-{shop.package_id}"' in card.text
        assert f"Label {label.carrier} {label.tracking_number} voided" in card.text
        assert "Void label" not in card.text and "voided" in card.text
        again = browser.htmx(f"/packages/{shop.package_id}/void")
        assert again.status_code == 200
        assert "Void: the label of package" in again.text and "voided already" in again.text
    assert shop.sandbox.labels(shop.key)["refunded"] == 1


def test_a_void_whose_answer_was_lost_is_voided_when_asked_again(shop: Shop) -> None:
    _bought(shop)
    shop.sandbox.inject_fault("server_error", status=503, path_contains="/refund", after=True)
    with pytest.raises(ConnectorFailed):
        actions.void_label(shop.hub, shop.package_id)  # refunded there; the answer lost
    with shop.hub.db.read() as session:
        assert shipping.label_of(session, shop.package_id) is not None  # not known here yet
    voided = actions.void_label(shop.hub, shop.package_id)  # EasyPost: asked for already
    assert voided.state is LabelState.VOIDED
    assert shop.sandbox.labels(shop.key)["refunded"] == 1


def test_a_label_the_carrier_will_not_refund_stays_bought_with_its_reason(shop: Shop) -> None:
    label = _bought(shop)
    with shop.hub.db.unit_of_work() as session:  # a shipment of EasyPost's with no postage
        found = session.get(Label, label.id)
        assert found is not None
        made = httpx2.post(
            f"{shop.sandbox.api_base}/shipments",
            json={
                "shipment": {
                    "to_address": {"zip": "94104"},
                    "from_address": {"zip": "94607"},
                    "parcel": {"weight": 10},
                }
            },
            auth=(shop.key, ""),
        )
        assert made.status_code == 201, made.text
        found.external_id = made.json()["id"]
    with pytest.raises(ConnectorFailed, match=r"SHIPMENT\.REFUND\.UNAVAILABLE"):
        actions.void_label(shop.hub, shop.package_id)
    with shop.hub.db.read() as session:
        assert shipping.get_package(session, shop.package_id).state is PackageState.LABELLED
