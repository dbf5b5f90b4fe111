"""The shipped Shippo template against the Shippo sandbox, over real HTTP, through the
same actions the UI and API run: rates from the sandbox's documented table, the cheapest
label bought once (Shippo's QUEUED transaction polled until SUCCESS), a track_updated
webhook with the token in its URL that makes the shipment delivered, a lost answer to a
purchase that never buys a second label (the sandbox's count says so), a revoked token
that pauses the plugin with a notification, and a webhook with a wrong token refused
without changing anything."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import httpx2
import pytest
from fastapi.testclient import TestClient

from tests.connectors.listener import Listener, Reached
from tests.integrations.carrier import carrier_shop
from tests.sync.conftest import Harness
from tradewind.app import shipping as actions
from tradewind.app import templates
from tradewind.app.calls import ConnectorFailed
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.connectors.template import connector_class, shipped_templates
from tradewind.connectors.template.connector import policy_of
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import PluginState
from tradewind.core.shipments.models import Shipment
from tradewind.core.shipping import service as shipping
from tradewind.core.shipping.models import PackageState
from tradewind.errors import Conflict
from tradewind.hub import Hub
from tradewind.monitoring import executions, notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sandbox.shippo import ShippoSandbox
from tradewind.server import create_app
from tradewind.settings import Settings
from tradewind.vocabulary import TrackingStatus

(SHIPPO,) = [t for t in shipped_templates() if t.id == "shippo"]
Shippo = connector_class(SHIPPO)
WEBHOOK_TOKEN = "wh-7c1e9a40b2d35f86e0a4c7d19b3f5e28"


@dataclass
class Shop:
    hub: Hub
    sandbox: ShippoSandbox
    token: str
    plugin_id: int
    package_id: int

    def shipment(self) -> Shipment:
        with self.hub.db.read() as session:
            shipment_id = shipping.get_package(session, self.package_id).shipment_id
            found = session.get(Shipment, shipment_id) if shipment_id is not None else None
            assert found is not None
            session.expunge(found)
            return found

    def api(self) -> httpx2.Client:
        return httpx2.Client(
            base_url=self.sandbox.base_url,
            headers={"Authorization": f"ShippoToken {self.token}"},
            timeout=10,
        )


@pytest.fixture
def shop(settings: Settings) -> Iterator[Shop]:
    with (
        ShippoSandbox() as sandbox,
        Hub(settings, registry=ConnectorRegistry.of(Shippo)) as hub,
    ):
        token = sandbox.add_token()
        # 1,868 g is 4.1 lb: rated as 5 started pounds.
        config = {"api_key": token, "api_url": sandbox.base_url, "webhook_token": WEBHOOK_TOKEN}
        yield Shop(hub, sandbox, token, *carrier_shop(hub, Shippo.info, config, "S1"))


def test_rates_the_cheapest_label_once_and_a_tracking_webhook(shop: Shop) -> None:
    quotes = actions.get_rates(shop.hub, shop.package_id)
    prices = {(q.carrier, q.service): q.amount for q in quotes}
    assert prices[("USPS", "Ground Advantage")] == Decimal("7.50")  # the README's table
    assert prices[("FedEx", "2 Day")] == Decimal("26.80")
    cheapest = shipping.cheapest(quotes)
    assert cheapest is not None and cheapest.service == "Ground Advantage"
    label = actions.buy_label(shop.hub, shop.package_id, cheapest.id)
    assert label.tracking_number and label.label_url.startswith(shop.sandbox.base_url)
    with shop.hub.db.read() as session:  # bought QUEUED, then polled until SUCCESS
        calls = [e.operation for e in executions.recent(session, shop.plugin_id)]
    assert calls[:3][::-1] == ["buy_label.buy", "buy_label.ready", "buy_label.ready"]
    with pytest.raises(Conflict, match="has its label already"):
        actions.buy_label(shop.hub, shop.package_id, cheapest.id)
    assert shop.sandbox.labels(shop.token) == 1
    with Listener() as receiver, shop.api() as api:
        url = f"{receiver.url}/hooks/{shop.plugin_id}/track_updated?token={WEBHOOK_TOKEN}"
        made = api.post("/webhooks", json={"event": "track_updated", "url": url})
        assert made.status_code == 201, made.text
        for _ in range(3):  # pre_transit → in_transit → delivered
            shop.sandbox.advance_track("usps", label.tracking_number)
        assert shop.sandbox.wait_for_webhooks()
        sent = _track_updates(receiver.reached)
    assert len(sent) == 3
    with TestClient(create_app(shop.hub)) as client:
        for delivery in sent:  # as Shippo posted them, token and all
            answer = client.post(
                delivery.path, content=delivery.body, headers={"Content-Type": "application/json"}
            )
            assert answer.status_code == 200, answer.text
    Harness(shop.hub).run(shop.plugin_id)
    shipment = shop.shipment()
    assert shipment.tracking_status is TrackingStatus.DELIVERED
    with shop.hub.db.read() as session:
        scans = [e.raw_status for e in shipping.tracking_events(session, shipment.id)]
    assert scans == ["UNKNOWN", "PRE_TRANSIT", "TRANSIT", "DELIVERED"]


def _track_updates(reached: list[Reached]) -> list[Reached]:
    return [r for r in reached if b'"track_updated"' in r.body]


def test_a_lost_answer_to_a_purchase_never_buys_a_second_label(shop: Shop) -> None:
    cheapest = shipping.cheapest(actions.get_rates(shop.hub, shop.package_id))
    assert cheapest is not None
    shop.sandbox.inject_fault("server_error", status=503, path_contains="/transactions", after=True)
    with pytest.raises(ConnectorFailed):
        actions.buy_label(shop.hub, shop.package_id, cheapest.id)
    with pytest.raises(Conflict, match="a label is being bought"):
        actions.buy_label(shop.hub, shop.package_id, cheapest.id)
    with shop.hub.db.read() as session:
        assert shipping.get_package(session, shop.package_id).state is PackageState.BUYING
    with shop.api() as api:  # Shippo finishes the lost purchase in the background
        (lost,) = api.get("/transactions").json()["results"]
        while api.get(f"/transactions/{lost['object_id']}").json()["status"] == "QUEUED":
            pass
    assert shop.sandbox.labels(shop.token) == 1  # the lost one, and only it
    with shop.hub.db.unit_of_work() as session:  # a person checked Shippo: not in Tradewind
        shipping.release_purchase(session, shop.package_id)
    with pytest.raises(ConnectorFailed, match="rate_already_purchased"):
        actions.buy_label(shop.hub, shop.package_id, cheapest.id)  # Shippo refuses
    assert shop.sandbox.labels(shop.token) == 1
    with shop.hub.db.read() as session:  # refused: free to be bought at another rate
        assert shipping.get_package(session, shop.package_id).state is not PackageState.BUYING


def test_a_revoked_token_pauses_the_plugin_with_a_notification(shop: Shop) -> None:
    shop.sandbox.revoke_token(shop.token)
    with pytest.raises(ConnectorFailed):
        actions.get_rates(shop.hub, shop.package_id)
    with shop.hub.db.read() as session:
        assert plugins.get_plugin(session, shop.plugin_id).state is (
            PluginState.NEEDS_REAUTHORIZATION
        )
        (lost,) = notifications.open_notifications(
            session, plugin_id=shop.plugin_id, kind=NotificationKind.AUTHORIZATION_LOST
        )
        assert "Invalid token." in lost.message


def test_a_webhook_with_a_wrong_token_is_refused_and_changes_nothing(shop: Shop) -> None:
    cheapest = shipping.cheapest(actions.get_rates(shop.hub, shop.package_id))
    assert cheapest is not None
    label = actions.buy_label(shop.hub, shop.package_id, cheapest.id)
    with Listener() as receiver, shop.api() as api:
        url = f"{receiver.url}/hooks/{shop.plugin_id}/track_updated?token=not-the-token"
        assert api.post("/webhooks", json={"event": "track_updated", "url": url}).is_success
        for _ in range(3):
            shop.sandbox.advance_track("usps", label.tracking_number)
        assert shop.sandbox.wait_for_webhooks()
        sent = _track_updates(receiver.reached)
    with TestClient(create_app(shop.hub)) as client:
        for delivery in sent:
            answer = client.post(
                delivery.path, content=delivery.body, headers={"Content-Type": "application/json"}
            )
            assert answer.status_code == 401
        unsigned = client.post(f"/hooks/{shop.plugin_id}/track_updated", content=sent[-1].body)
        assert unsigned.status_code == 401
    Harness(shop.hub).run(shop.plugin_id)
    assert shop.shipment().tracking_status is TrackingStatus.PRE_TRANSIT  # as bought
    with shop.hub.db.read() as session:
        (refused,) = notifications.open_notifications(session, plugin_id=shop.plugin_id)
        assert refused.subject == "webhook signatures"


def test_the_catalogue_lists_shippo_with_its_guide(settings: Settings) -> None:
    with Hub(settings) as hub:
        found = templates.get(hub, "shippo")
        assert found.category == "shipping" and found in templates.catalogue(hub)
        info = hub.registry.connectors["shippo"].info
    assert "/hooks/{plugin id}/track_updated?token=" in info.guide
    assert {"get_rates", "buy_label", "void_label", "track"} <= set(found.capabilities)


def test_each_token_is_kept_under_shippos_post_limit_for_its_mode() -> None:
    """At most 50 POSTs in any minute with a test token, 500 with a live one."""
    for environment, per_minute in (("test", 50), ("live", 500)):
        policy = policy_of(SHIPPO, environment)
        assert policy.capacity + 60 * policy.leak_per_second <= per_minute
    assert SHIPPO.hooks["buy_label"].steps[1].request.cost == 0  # polls read, under 4000
