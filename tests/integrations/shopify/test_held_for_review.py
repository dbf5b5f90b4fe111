"""Orders Shopify holds for review (issue 15, part 2), end to end against the sandbox: a
held order waits as deferred (``held_for_review``), the doctor says why and how it is
released, and once released it is imported by itself, once — by the release's webhook,
or by the reconciliation poll when that webhook is lost."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integrations.shopify.conftest import World
from tradewind.app import doctor
from tradewind.core.orders import service as orders
from tradewind.core.plugins import service as plugins
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.sandbox.shopify.faults import FaultKind
from tradewind.sandbox.shopify.state import ALL_SCOPES
from tradewind.sync import decisions, ledger
from tradewind.sync.decisions import Decision, SeenBy
from tradewind.sync.doctor import ActionKind, CheckName, Result
from tradewind.sync.models import ORDERS_STREAM, WorkKind


def _held(world: World, reason: str = "high_risk_of_fraud") -> dict[str, Any]:
    """An order placed and held at once (before any sync has read it)."""
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.sandbox.hold_order(world.shop, placed["id"], reason)
    return placed


def _decision(world: World, external_id: object) -> decisions.ImportDecision | None:
    with world.hub.db.read() as session:
        found = decisions.latest(session, world.plugin_id, str(external_id))
        if found is not None:
            session.expunge(found)
        return found


def _copies(world: World, external_id: object) -> int:
    with world.hub.db.read() as session:
        return sum(
            1
            for order in orders.list_orders(session, plugin_id=world.plugin_id, limit=1000)
            if order.external_id == str(external_id)
        )


def _deferred(world: World, external_id: object) -> bool:
    found = _decision(world, external_id)
    return found is not None and found.decision is Decision.DEFERRED


def test_the_store_shows_the_hold_as_shopify_does(world: World) -> None:
    placed = _held(world, "awaiting_payment")
    (fulfillment_order,) = world.admin("GET", f"orders/{placed['id']}/fulfillment_orders")[
        "fulfillment_orders"
    ]
    assert fulfillment_order["status"] == "on_hold"
    assert fulfillment_order["fulfillment_holds"] == [
        {"reason": "awaiting_payment", "reason_notes": None}
    ]
    assert fulfillment_order["supported_actions"] == ["release_hold", "hold"]
    query = (
        "query Held($id: ID!) { order(id: $id) { displayFulfillmentStatus "
        "fulfillmentOrders(first: 5) { nodes { status fulfillmentHolds { reason } } } } }"
    )
    variables = {"id": f"gid://shopify/Order/{placed['id']}"}
    answer = world.admin("POST", "graphql", {"query": query, "variables": variables})["data"][
        "order"
    ]
    assert answer["displayFulfillmentStatus"] == "ON_HOLD"
    assert answer["fulfillmentOrders"]["nodes"] == [
        {"status": "ON_HOLD", "fulfillmentHolds": [{"reason": "AWAITING_PAYMENT"}]}
    ]
    world.sandbox.release_hold(world.shop, placed["id"])
    topics = [delivery.topic for delivery in world.sandbox.deliveries(world.shop)]
    assert "fulfillment_orders/hold_released" in topics  # the plugin subscribed to it
    with pytest.raises(Exception, match="not on hold"):
        world.sandbox.release_hold(world.shop, placed["id"])


def test_a_held_order_waits_and_the_release_s_webhook_imports_it_once(world: World) -> None:
    placed = _held(world)
    world.settle(lambda: _deferred(world, placed["id"]))
    waiting = _decision(world, placed["id"])
    assert waiting is not None and waiting.code == "held_for_review"
    assert "high_risk_of_fraud" in waiting.reason
    assert _copies(world, placed["id"]) == 0

    found = doctor.diagnose(world.hub, world.plugin_id, placed["name"])
    status = next(c for c in found.checks if c.name is CheckName.PLATFORM_STATUS)
    assert status.result is Result.FAILED and "held for review" in status.evidence
    assert "held for review" in found.verdict and found.order_id is None
    assert found.action.kind is ActionKind.NONE
    assert found.action.does == "Release the hold in Shopify; Tradewind imports it by itself."
    assert found.would is not None and found.would[:2] == (Decision.DEFERRED, "held_for_review")

    world.sandbox.release_hold(world.shop, placed["id"])
    world.settle(lambda: _copies(world, placed["id"]) == 1)
    imported = _decision(world, placed["id"])
    assert imported is not None
    assert (imported.decision, imported.path) == (Decision.IMPORTED, SeenBy.WEBHOOK)
    world.settle()
    assert _copies(world, placed["id"]) == 1
    again = doctor.diagnose(world.hub, world.plugin_id, placed["name"])
    assert again.order_id is not None and "is in Tradewind" in again.verdict


def test_a_lost_release_webhook_is_made_up_by_the_poll(world: World) -> None:
    placed = _held(world, "other")
    world.settle(lambda: _deferred(world, placed["id"]))
    world.sandbox.inject_fault(world.shop, FaultKind.drop_webhooks, count=None)
    try:
        world.sandbox.release_hold(world.shop, placed["id"])
        world.settle()
        assert _copies(world, placed["id"]) == 0  # nothing told Tradewind
        asked = doctor.diagnose(world.hub, world.plugin_id, placed["name"])  # before the poll
        assert "Nothing stops order" in asked.verdict and asked.order_id is None
        with world.hub.db.unit_of_work() as session:
            ledger.enqueue(session, world.plugin_id, WorkKind.POLL_ORDERS, ORDERS_STREAM)
        world.settle(lambda: _copies(world, placed["id"]) == 1)
    finally:
        world.sandbox.clear_faults(world.shop)
    imported = _decision(world, placed["id"])
    assert imported is not None and imported.decision is Decision.IMPORTED
    with world.hub.db.unit_of_work() as session:  # the next poll re-reads nothing held
        ledger.enqueue(session, world.plugin_id, WorkKind.POLL_ORDERS, ORDERS_STREAM)
    world.settle()
    assert _copies(world, placed["id"]) == 1


def test_an_order_still_held_stays_deferred_through_the_poll(world: World) -> None:
    placed = _held(world)
    world.settle(lambda: _deferred(world, placed["id"]))
    with world.hub.db.unit_of_work() as session:
        ledger.enqueue(session, world.plugin_id, WorkKind.POLL_ORDERS, ORDERS_STREAM)
    world.settle()
    assert _deferred(world, placed["id"]) and _copies(world, placed["id"]) == 0


def test_a_token_that_may_not_read_fulfillment_orders_still_sees_the_hold(world: World) -> None:
    """``displayFulfillmentStatus`` needs only read_orders: the hold is seen, its reason
    is not (Test connection names the scope the release's webhook needs)."""
    narrow = world.sandbox.issue_token(
        world.shop,
        app_key="tw-app",
        scopes=[s for s in ALL_SCOPES if "fulfillment" not in s],
    )
    with world.hub.db.unit_of_work() as session:
        plugins.update_plugin_settings(
            session,
            world.hub.vault,
            ShopifyConnector.info,
            world.plugin_id,
            {"access_token": narrow},
        )
    placed = _held(world)
    world.settle(lambda: _deferred(world, placed["id"]))
    waiting = _decision(world, placed["id"])
    assert waiting is not None and waiting.code == "held_for_review"
    assert "(on_hold)" in waiting.reason and _copies(world, placed["id"]) == 0


HOLD = """
mutation Hold($id: ID!, $hold: FulfillmentOrderHoldInput!) {
  fulfillmentOrderHold(id: $id, fulfillmentHold: $hold) {
    fulfillmentHold { reason reasonNotes }
    fulfillmentOrder { status }
    userErrors { field message }
  }
}
"""
RELEASE = """
mutation Release($id: ID!) {
  fulfillmentOrderReleaseHold(id: $id) { fulfillmentOrder { status } userErrors { message } }
}
"""


def test_a_fraud_app_holding_and_releasing_through_graphql(world: World) -> None:
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)])
    (fulfillment_order,) = world.admin("GET", f"orders/{placed['id']}/fulfillment_orders")[
        "fulfillment_orders"
    ]
    gid = f"gid://shopify/FulfillmentOrder/{fulfillment_order['id']}"
    hold = {"reason": "HIGH_RISK_OF_FRAUD", "reasonNotes": "card mismatch"}
    held = world.admin("POST", "graphql", {"query": HOLD, "variables": {"id": gid, "hold": hold}})
    answer = held["data"]["fulfillmentOrderHold"]
    assert answer["userErrors"] == [] and answer["fulfillmentOrder"] == {"status": "ON_HOLD"}
    assert answer["fulfillmentHold"] == hold
    topics = [delivery.topic for delivery in world.sandbox.deliveries(world.shop)]
    assert "fulfillment_orders/placed_on_hold" not in topics  # Tradewind did not ask for it
    world.settle(lambda: _deferred(world, placed["id"]))
    waiting = _decision(world, placed["id"])
    assert waiting is not None and "high_risk_of_fraud (card mismatch)" in waiting.reason

    released = world.admin("POST", "graphql", {"query": RELEASE, "variables": {"id": gid}})
    assert released["data"]["fulfillmentOrderReleaseHold"] == {
        "fulfillmentOrder": {"status": "OPEN"},
        "userErrors": [],
    }
    again = world.admin("POST", "graphql", {"query": RELEASE, "variables": {"id": gid}})
    assert again["data"]["fulfillmentOrderReleaseHold"]["userErrors"] == [
        {"message": "Fulfillment order is not on hold"}
    ]
    world.settle(lambda: _copies(world, placed["id"]) == 1)
