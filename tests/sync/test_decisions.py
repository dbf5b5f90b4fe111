"""Import decisions: every external order a sync sees leaves its latest decision — the
path it came by, imported/updated/unchanged/skipped/failed/deferred, a stable reason
code with its sentence and fix — plus a bounded history of the decisions that changed.
Retention removes what is old; the API answers "what happened to order X"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from tests.api.conftest import make_token
from tests.sync.conftest import Shop, time_passes
from tests.web.conftest import PASSWORD, Browser
from tradewind.auth import service as auth
from tradewind.auth.models import Role, TokenScope
from tradewind.core.plugins import service as plugins
from tradewind.db import utcnow
from tradewind.server import create_app
from tradewind.sync import decisions, ledger
from tradewind.sync.decisions import Decision, DecisionHistory, ImportDecision, SeenBy
from tradewind.sync.models import WorkKind
from tradewind.vocabulary import Toggle


def _reread(shop: Shop, *external_ids: str) -> None:
    with shop.hub.db.unit_of_work() as session:
        for external_id in external_ids:
            ledger.enqueue(session, shop.plugin_id, WorkKind.IMPORT_ORDER, external_id)
    shop.harness.run(shop.plugin_id)


def _poll(shop: Shop) -> None:
    with shop.hub.db.unit_of_work() as session:
        ledger.enqueue(session, shop.plugin_id, WorkKind.POLL_ORDERS, "orders")
    shop.harness.run(shop.plugin_id)


def _latest(shop: Shop, order: str) -> ImportDecision:
    with shop.hub.db.read() as session:
        found = decisions.latest(session, shop.plugin_id, order)
        assert found is not None, f"no decision about {order}"
        session.expunge(found)
        return found


def test_an_imported_order_and_its_rereads_leave_one_decision_and_a_short_history(
    shop: Shop,
) -> None:
    shop.market.add_order("A1")
    _reread(shop, "A1")
    first = _latest(shop, "#A1")  # found by its number too
    assert (first.decision, first.path, first.code) == (Decision.IMPORTED, SeenBy.WEBHOOK, "")
    assert first.order_id is not None
    for _ in range(3):
        _reread(shop, "A1")
    again = _latest(shop, "A1")
    assert again.decision is Decision.UNCHANGED and again.id == first.id
    with shop.hub.db.read() as session:
        kept = [e.decision for e in decisions.history(session, shop.plugin_id, "A1")]
        assert kept == [Decision.IMPORTED, Decision.UNCHANGED]  # not one row per re-read
        assert session.scalar(select(func.count()).select_from(ImportDecision)) == 1


@pytest.mark.parametrize(
    ("fields", "code", "fix"),
    [
        ({"financial_status": "pending"}, "unpaid", "Ignore financial status"),
        ({"status": "cancelled"}, "status_not_imported:cancelled", "imported statuses"),
        ({"test": True}, "test_order", "Import test orders"),
        ({"source": "pos"}, "pos_skipped", "POS orders"),
    ],
)
def test_a_skipped_order_says_why_with_a_stable_code_and_its_fix(
    shop: Shop, fields: dict[str, Any], code: str, fix: str
) -> None:
    with shop.hub.db.unit_of_work() as session:
        plugins.update_import_rules(session, shop.plugin_id, {"pos_orders": "skip"})
    shop.market.add_order("S1", **fields)
    _poll(shop)
    found = _latest(shop, "S1")
    assert (found.decision, found.path, found.code) == (Decision.SKIPPED, SeenBy.POLL, code)
    assert found.reason and fix in decisions.fix_for(found.code)


def test_an_order_placed_before_the_plugin_was_enabled(shop: Shop) -> None:
    shop.market.add_order("OLD", placed_at=utcnow() - dt.timedelta(days=3))
    _reread(shop, "OLD")  # its webhook came (it changed today)
    found = _latest(shop, "OLD")
    assert (found.decision, found.code) == (Decision.SKIPPED, "placed_before_enabled")
    assert "Sync historical orders" in decisions.fix_for(found.code)


def test_import_orders_switched_off(shop: Shop) -> None:
    with shop.hub.db.unit_of_work() as session:
        plugins.set_toggle(
            session,
            shop.hub.info_for(plugins.get_plugin(session, shop.plugin_id)),
            shop.plugin_id,
            Toggle.IMPORT_ORDERS,
            False,
        )
    shop.market.add_order("OFF")
    _reread(shop, "OFF")
    assert _latest(shop, "OFF").code == "toggle_off:import_orders"


def test_an_order_the_platform_will_not_give_now_is_deferred_with_the_reason(
    shop: Shop,
) -> None:
    shop.market.add_order("RL")
    shop.market.fail_next(429, retry_after=30)
    _reread(shop, "RL")
    waiting = _latest(shop, "RL")
    assert (waiting.decision, waiting.code) == (Decision.DEFERRED, "rate_limited")
    shop.market.fail_next(503)
    time_passes(shop.hub)
    shop.harness.run(shop.plugin_id)
    assert _latest(shop, "RL").code == "platform_error"
    time_passes(shop.hub)
    shop.harness.run(shop.plugin_id)
    done = _latest(shop, "RL")
    assert (done.decision, done.code, done.number) == (Decision.IMPORTED, "", "#RL")


def test_retention_removes_old_history_and_old_decisions_about_orders_never_imported(
    shop: Shop,
) -> None:
    shop.market.add_order("KEEP")
    shop.market.add_order("GONE", financial_status="pending")
    _poll(shop)
    old = utcnow() - dt.timedelta(days=decisions.UNIMPORTED_DAYS + 1)
    with shop.hub.db.unit_of_work() as session:
        session.execute(update(ImportDecision).values(seen_at=old))
        session.execute(update(DecisionHistory).values(seen_at=old))
    with shop.hub.db.unit_of_work() as session:
        assert decisions.prune(session) == (2, 1)
    with shop.hub.db.read() as session:
        left = session.scalars(select(ImportDecision.external_id)).all()
        assert left == ["KEEP"]  # an imported order's decision stays with the order


@pytest.fixture
def api(shop: Shop) -> Iterator[tuple[TestClient, dict[str, str]]]:
    token = make_token(shop.hub, TokenScope.READ)
    with TestClient(create_app(shop.hub)) as client:
        yield client, {"Authorization": f"Bearer {token}"}


def test_the_api_lists_decisions_and_explains_one(
    shop: Shop, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, headers = api
    shop.market.add_order("P1")
    shop.market.add_order("P2", financial_status="pending")
    _poll(shop)
    listed = client.get(f"/api/v1/plugins/{shop.plugin_id}/decisions", headers=headers).json()
    assert {(d["external_id"], d["decision"]) for d in listed} == {
        ("P1", "imported"),
        ("P2", "skipped"),
    }
    skipped = client.get(
        f"/api/v1/plugins/{shop.plugin_id}/decisions",
        params={"decision": "skipped"},
        headers=headers,
    ).json()
    assert [d["external_id"] for d in skipped] == ["P2"]
    one = client.get(f"/api/v1/plugins/{shop.plugin_id}/decisions/%23P2", headers=headers)
    assert one.status_code == 200
    body = one.json()
    assert (body["code"], body["path"]) == ("unpaid", "poll")
    assert "Ignore financial status" in body["fix"]
    assert [h["decision"] for h in body["history"]] == ["skipped"]
    missing = client.get(f"/api/v1/plugins/{shop.plugin_id}/decisions/NOPE", headers=headers)
    assert missing.status_code == 404
    assert "has seen no order 'NOPE'" in missing.json()["detail"]
    assert client.get(f"/api/v1/plugins/{shop.plugin_id}/decisions").status_code == 401


def test_the_plugin_page_lists_decisions_with_their_reason_and_fix(shop: Shop) -> None:
    shop.market.add_order("W1")
    shop.market.add_order("W2", financial_status="pending")
    _reread(shop, "W1", "W2")
    with shop.hub.db.unit_of_work() as session:
        auth.create_user(session, "clerk", PASSWORD, Role.ADMIN)
    with TestClient(create_app(shop.hub)) as client:
        browser = Browser(client)
        assert browser.login("clerk").status_code == 303
        page = browser.get(f"/plugins/{shop.plugin_id}").text
        assert 'data-order="W1"' in page and 'data-order="W2"' in page
        assert "<code>unpaid</code>" in page and "Ignore financial status" in page
        skipped = browser.get(f"/plugins/{shop.plugin_id}?decision=skipped").text
        assert 'data-order="W2"' in skipped and 'data-order="W1"' not in skipped
