"""The shipped EasyPost template against the EasyPost sandbox, over real HTTP, through
the same actions the UI and API run: rates from the sandbox's documented table, the
cheapest label bought once (a double click, and a retry after a lost answer, never buy a
second — the sandbox's count says so), tracking that moves the shipment, and a revoked
key that pauses the plugin with a notification."""

from __future__ import annotations

from decimal import Decimal

import httpx2
import pytest
from fastapi.testclient import TestClient

from tests.connectors.listener import Listener
from tests.integrations.easypost.conftest import EasyPost, Shop
from tests.sync.conftest import Harness
from tradewind.app import shipping as actions
from tradewind.app.calls import ConnectorFailed
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import PluginState
from tradewind.core.shipments.models import Shipment
from tradewind.core.shipping import service as shipping
from tradewind.core.shipping.models import PackageState
from tradewind.errors import Conflict
from tradewind.server import create_app
from tradewind.vocabulary import TrackingStatus


def test_rates_the_cheapest_label_once_and_tracking(shop: Shop) -> None:
    quotes = actions.get_rates(shop.hub, shop.package_id)
    prices = {(q.carrier, q.service): q.amount for q in quotes}
    assert prices[("USPS", "GroundAdvantage")] == Decimal("8.3000")  # the README's table
    assert prices[("UPS", "NextDayAir")] == Decimal("49.8000")
    cheapest = shipping.cheapest(quotes)
    assert cheapest is not None and cheapest.service == "GroundAdvantage"
    label = actions.buy_label(shop.hub, shop.package_id, cheapest.id)
    assert label.tracking_number and label.label_url.startswith(shop.sandbox.base_url)
    with pytest.raises(Conflict, match="has its label already"):
        actions.buy_label(shop.hub, shop.package_id, cheapest.id)
    assert shop.sandbox.labels(shop.key)["bought"] == 1
    with shop.hub.db.read() as session:
        shipment_id = shipping.get_package(session, shop.package_id).shipment_id
    assert shipment_id is not None
    tracker = _tracker(shop, label.tracking_number)
    for _ in range(4):  # pre_transit → in_transit → out_for_delivery → delivered
        shop.sandbox.advance_tracker(tracker)
    assert actions.track(shop.hub, shipment_id)
    with shop.hub.db.read() as session:
        shipment = session.get(Shipment, shipment_id)
        assert shipment is not None and shipment.tracking_status is TrackingStatus.DELIVERED


def test_a_lost_answer_to_a_purchase_never_buys_a_second_label(shop: Shop) -> None:
    cheapest = shipping.cheapest(actions.get_rates(shop.hub, shop.package_id))
    assert cheapest is not None
    shop.sandbox.inject_fault("server_error", status=503, path_contains="/buy", after=True)
    with pytest.raises(ConnectorFailed):
        actions.buy_label(shop.hub, shop.package_id, cheapest.id)
    with pytest.raises(Conflict, match="a label is being bought"):
        actions.buy_label(shop.hub, shop.package_id, cheapest.id)
    with shop.hub.db.read() as session:
        assert shipping.get_package(session, shop.package_id).state is PackageState.BUYING
    assert shop.sandbox.labels(shop.key)["bought"] == 1  # the lost one, and only it
    with shop.hub.db.unit_of_work() as session:  # a person checked EasyPost: no label
        shipping.release_purchase(session, shop.package_id)
    with pytest.raises(ConnectorFailed, match=r"SHIPMENT\.POSTAGE\.EXISTS"):
        actions.buy_label(shop.hub, shop.package_id, cheapest.id)  # EasyPost refuses
    assert shop.sandbox.labels(shop.key)["bought"] == 1


def test_a_revoked_key_pauses_the_plugin(shop: Shop) -> None:
    shop.sandbox.revoke_key(shop.key)
    with pytest.raises(ConnectorFailed):
        actions.get_rates(shop.hub, shop.package_id)
    with shop.hub.db.read() as session:
        assert plugins.get_plugin(session, shop.plugin_id).state is (
            PluginState.NEEDS_REAUTHORIZATION
        )


def _tracker(shop: Shop, code: str) -> str:
    answer = httpx2.get(
        f"{shop.sandbox.api_base}/trackers",
        params={"tracking_code": code},
        auth=(shop.key, ""),
    )
    (tracker,) = answer.json()["trackers"]
    return str(tracker["id"])


def test_a_signed_tracker_event_makes_tradewind_read_the_tracking(shop: Shop) -> None:
    with shop.hub.db.unit_of_work() as session:
        plugin = plugins.get_plugin(session, shop.plugin_id)
        plugins.update_plugin_settings(
            session, shop.hub.vault, EasyPost.info, plugin.id, {"webhook_secret": "whsec-ep-1"}
        )
    cheapest = shipping.cheapest(actions.get_rates(shop.hub, shop.package_id))
    assert cheapest is not None
    label = actions.buy_label(shop.hub, shop.package_id, cheapest.id)
    with Listener() as receiver:
        made = httpx2.post(
            f"{shop.sandbox.api_base}/webhooks",
            json={
                "webhook": {
                    "url": f"{receiver.url}/hooks/{shop.plugin_id}/tracker",
                    "webhook_secret": "whsec-ep-1",
                }
            },
            auth=(shop.key, ""),
        )
        assert made.status_code == 201
        shop.sandbox.advance_tracker(_tracker(shop, label.tracking_number))
        assert shop.sandbox.wait_for_webhooks()
        sent = [r for r in receiver.reached if b'"tracker.updated"' in r.body][-1]
    with TestClient(create_app(shop.hub)) as client:
        forged = client.post(
            f"/hooks/{shop.plugin_id}/tracker",
            content=sent.body,
            headers={
                "Content-Type": "application/json",
                "X-Hmac-Signature": "hmac-sha256-hex=" + "0" * 64,
            },
        )
        assert forged.status_code == 401
        accepted = client.post(
            f"/hooks/{shop.plugin_id}/tracker",
            content=sent.body,
            headers={
                "Content-Type": "application/json",
                "X-Hmac-Signature": sent.headers["X-Hmac-Signature"],
            },
        )
        assert accepted.status_code == 200, accepted.text
    Harness(shop.hub).run(shop.plugin_id)
    with shop.hub.db.read() as session:
        shipment_id = shipping.get_package(session, shop.package_id).shipment_id
        assert shipment_id is not None
        shipment = session.get(Shipment, shipment_id)
        assert shipment is not None and shipment.tracking_status is TrackingStatus.PRE_TRANSIT
        assert [e.raw_status for e in shipping.tracking_events(session, shipment_id)] == [
            "pre_transit"
        ]


def test_the_tracking_poll_moves_parcels_whose_webhook_never_came(shop: Shop) -> None:
    cheapest = shipping.cheapest(actions.get_rates(shop.hub, shop.package_id))
    assert cheapest is not None
    label = actions.buy_label(shop.hub, shop.package_id, cheapest.id)
    tracker = _tracker(shop, label.tracking_number)
    for _ in range(4):  # delivered, and no webhook is registered
        shop.sandbox.advance_tracker(tracker)
    harness = Harness(shop.hub)
    report = harness.sweep()  # the schedule queues the plugin's tracking poll
    assert report.polls_queued >= 1
    harness.run(shop.plugin_id)
    with shop.hub.db.read() as session:
        shipment_id = shipping.get_package(session, shop.package_id).shipment_id
        shipment = session.get(Shipment, shipment_id)
        assert shipment is not None and shipment.tracking_status is TrackingStatus.DELIVERED
