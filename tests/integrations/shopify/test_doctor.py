"""The order doctor against the Shopify sandbox (issue 15, part 3): for each cause of a
missing order — set it up, place the order, ask the doctor, check its verdict and its
action, apply the fix, see the order imported."""

from __future__ import annotations

import datetime as dt
import json
import time
from functools import partial

from fastapi.testclient import TestClient

from tests.api.conftest import make_token
from tests.cli.test_cli import run
from tests.integrations.shopify.conftest import World
from tests.web.conftest import PASSWORD, Browser
from tradewind.app import actions, doctor
from tradewind.auth import service as auth
from tradewind.auth.models import Role, TokenScope
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.channels import service as channels
from tradewind.core.orders import service as orders
from tradewind.core.plugins import service as plugins
from tradewind.db import utcnow
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.monitoring import executions
from tradewind.server import create_app
from tradewind.sync import decisions
from tradewind.sync.decisions import Decision, SeenBy
from tradewind.sync.doctor import ActionKind, CheckName, Diagnosis, Result
from tradewind.vocabulary import Toggle


def _imported(world: World, external_id: object) -> bool:
    with world.hub.db.read() as session:
        return orders.find_imported(session, world.plugin_id, str(external_id)) is not None


def _result(diagnosis: Diagnosis, name: CheckName) -> Result:
    return next(c.result for c in diagnosis.checks if c.name is name)


def _failed(diagnosis: Diagnosis) -> list[CheckName]:
    return [c.name for c in diagnosis.checks if c.result is Result.FAILED]


def test_an_imported_order_passes_every_check_by_number_or_id(world: World) -> None:
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.settle(lambda: _imported(world, placed["id"]))
    for asked in (placed["name"], placed["name"].lstrip("#"), str(placed["id"])):
        found = doctor.diagnose(world.hub, world.plugin_id, asked)
        assert found.order_id is not None and found.exit_code == 0, found.verdict
        assert found.external_id == str(placed["id"]) and found.number == placed["name"]
        assert _failed(found) == []
        assert "is in Tradewind" in found.verdict and found.action.kind is ActionKind.NONE
    with world.hub.db.read() as session:
        latest = decisions.latest(session, world.plugin_id, str(placed["id"]))
        assert latest is not None and latest.path is SeenBy.DOCTOR
    details = found.support_details()
    assert placed["name"] in details and world.shop in details and "Placed:" in details


def test_import_orders_switched_off(world: World) -> None:
    with world.hub.db.unit_of_work() as session:
        plugins.set_toggle(
            session, ShopifyConnector.info, world.plugin_id, Toggle.IMPORT_ORDERS, False
        )
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.settle()
    found = doctor.diagnose(world.hub, world.plugin_id, placed["name"])
    assert _failed(found)[0] is CheckName.IMPORT_ORDERS and found.exit_code == 1
    assert "Import Orders is off" in found.verdict
    assert found.action.kind is ActionKind.SWITCH_ON_IMPORT_ORDERS
    with world.hub.db.read() as session:
        latest = decisions.latest(session, world.plugin_id, placed["name"])
        assert latest is not None
        assert (latest.path, latest.decision, latest.code) == (
            SeenBy.DOCTOR,
            Decision.SKIPPED,
            "toggle_off:import_orders",
        )
    doctor.apply(world.hub, world.plugin_id, placed["name"], found.action.kind)
    world.settle(lambda: _imported(world, placed["id"]))
    assert doctor.diagnose(world.hub, world.plugin_id, placed["name"]).exit_code == 0


def test_a_plugin_on_two_channels(world: World) -> None:
    with world.hub.db.unit_of_work() as session:
        second = channels.create_channel(session, "Shopify EU")
        plugins.attach(session, world.plugin_id, second.id)
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.settle()
    found = doctor.diagnose(world.hub, world.plugin_id, placed["name"])
    assert _failed(found)[0] is CheckName.CHANNELS
    assert "2 channels" in found.verdict and found.action.kind is ActionKind.FIX_CHANNELS
    assert not found.action.safe  # the merchant chooses which channel stays
    with world.hub.db.unit_of_work() as session:
        plugins.detach(session, world.plugin_id, second.id)
    again = doctor.diagnose(world.hub, world.plugin_id, placed["name"])
    assert CheckName.CHANNELS not in _failed(again)
    assert again.action.kind is ActionKind.SYNC_NOW
    doctor.apply(world.hub, world.plugin_id, placed["name"], ActionKind.SYNC_NOW)
    world.settle(lambda: _imported(world, placed["id"]))


def test_an_order_placed_before_the_plugin_was_enabled_is_offered_its_day_s_backfill(
    world: World,
) -> None:
    with world.hub.db.unit_of_work() as session:
        plugins.get_plugin(session, world.plugin_id).enabled_at = utcnow() + dt.timedelta(
            seconds=30
        )
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.settle()
    assert not _imported(world, placed["id"])
    found = doctor.diagnose(world.hub, world.plugin_id, placed["name"])
    assert _failed(found)[0] is CheckName.AGE and "before" in found.verdict
    action = found.action
    assert action.kind is ActionKind.BACKFILL and action.start is not None
    assert action.end == action.start + dt.timedelta(days=1)
    assert action.start <= utcnow() < action.end
    doctor.apply(world.hub, world.plugin_id, placed["name"], ActionKind.BACKFILL)
    world.settle(lambda: _imported(world, placed["id"]))


def test_an_unpaid_order_and_a_test_order_fail_the_platform_status_check(world: World) -> None:
    unpaid = world.sandbox.place_order(world.shop, [("MUG", 1)], kind="unpaid")
    test = world.sandbox.place_order(world.shop, [("MUG", 1)], kind="test")
    world.settle()
    for placed, words, rule in (
        (unpaid, "financial status is pending", {"ignore_financial_status": True}),
        (test, "a test order", {"import_test_orders": True}),
    ):
        found = doctor.diagnose(world.hub, world.plugin_id, placed["name"])
        assert _failed(found)[0] is CheckName.PLATFORM_STATUS, found.verdict
        assert words in found.verdict and found.action.kind is ActionKind.EDIT_IMPORT_RULES
        with world.hub.db.unit_of_work() as session:
            plugins.update_import_rules(session, world.plugin_id, rule)
        again = doctor.diagnose(world.hub, world.plugin_id, placed["name"])
        assert _result(again, CheckName.PLATFORM_STATUS) is Result.PASSED
        assert again.action.kind is ActionKind.SYNC_NOW
        assert again.exit_code == 0, again.verdict  # importable: the old skip no longer holds
        doctor.apply(world.hub, world.plugin_id, placed["name"], ActionKind.SYNC_NOW)
        world.settle(partial(_imported, world, placed["id"]))


def test_an_order_the_store_does_not_have(world: World) -> None:
    found = doctor.diagnose(world.hub, world.plugin_id, "#99999")
    assert found.bad_input and found.exit_code == 2 and found.found is False
    assert found.verdict == f"#99999 not found on {found.store}: check the number, or the store."
    assert world.shop in found.store
    # the local checks ran all the same
    assert _result(found, CheckName.IMPORT_ORDERS) is Result.PASSED
    assert _result(found, CheckName.CHANNELS) is Result.PASSED


def test_lost_authorization_is_the_verdict_and_the_local_checks_still_run(world: World) -> None:
    world.sandbox.revoke_token(world.token)
    placed = world.sandbox.place_order(world.shop, [("PLATE", 1)])
    found = doctor.diagnose(world.hub, world.plugin_id, placed["name"])
    assert _failed(found) == [CheckName.AUTHORIZATION] and found.found is None
    assert found.action.kind is ActionKind.REAUTHORIZE and "authorization" in found.verdict
    assert _result(found, CheckName.IMPORT_ORDERS) is Result.PASSED
    assert _result(found, CheckName.CHANNELS) is Result.PASSED
    assert _result(found, CheckName.AGE) is Result.NOT_APPLICABLE
    assert world.plugin().state.value == "needs_reauthorization"
    fresh = world.sandbox.issue_token(world.shop, app_key="tw-app")
    with world.hub.db.unit_of_work() as session:
        plugins.update_plugin_settings(
            session,
            world.hub.vault,
            ShopifyConnector.info,
            world.plugin_id,
            {"access_token": fresh},
        )
    actions.credentials_restored(world.hub, world.plugin_id)  # as Reauthorize ends
    world.settle(lambda: _imported(world, placed["id"]))
    assert doctor.diagnose(world.hub, world.plugin_id, placed["name"]).exit_code == 0


def test_a_rate_limited_doctor_waits_then_answers(world: World) -> None:
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.settle(lambda: _imported(world, placed["id"]))
    world.sandbox.inject_fault(world.shop, "rate_limit", count=2, path_contains="orders")
    found = doctor.diagnose(world.hub, world.plugin_id, str(placed["id"]))
    assert found.found is True and found.exit_code == 0, found.verdict
    with world.hub.db.read() as session:
        met = [e.http_status for e in executions.recent(session, world.plugin_id, limit=5)]
    assert met.count(429) == 2  # it waited through both, then read the order


def test_the_command_line_prints_the_checks_the_verdict_and_the_action(world: World) -> None:
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)], kind="unpaid")
    world.settle()
    code, out, _ = run(world.hub, "doctor", "order", world.shop, placed["name"])
    assert code == 1, out
    assert "Import Orders is on" in out and "financial status is pending" in out
    assert "Action: Change the import rules (edit_import_rules)" in out
    code, _, err = run(world.hub, "doctor", "fix", world.shop, placed["name"], "edit_import_rules")
    assert code == 2 and "is done by a person" in err  # a rule is the merchant's choice
    with world.hub.db.unit_of_work() as session:
        plugins.update_import_rules(session, world.plugin_id, {"ignore_financial_status": True})
    code, out, _ = run(world.hub, "doctor", "fix", world.shop, placed["name"], "sync_now")
    assert code == 0 and "read again now" in out
    world.settle(lambda: _imported(world, placed["id"]))
    code, out, _ = run(world.hub, "doctor", "order", world.shop, placed["name"])
    assert code == 0 and "is in Tradewind" in out
    code, out, _ = run(world.hub, "doctor", "order", str(world.plugin_id), "#424242", "--json")
    assert code == 2
    body = json.loads(out)
    assert body["found"] is False and "not found on" in body["verdict"]
    assert [c["name"] for c in body["checks"]][:2] == ["import_orders", "channels"]
    code, _, err = run(world.hub, "doctor", "order", "no-such-plugin", "#1")
    assert code == 2 and "no plugin named" in err


def test_the_api_diagnoses_and_carries_out_the_safe_action(world: World) -> None:
    reader = {"Authorization": f"Bearer {make_token(world.hub, TokenScope.READ, 'r')}"}
    writer = {"Authorization": f"Bearer {make_token(world.hub, TokenScope.READ_WRITE, 'w')}"}
    with world.hub.db.unit_of_work() as session:
        plugins.set_toggle(
            session, ShopifyConnector.info, world.plugin_id, Toggle.IMPORT_ORDERS, False
        )
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.settle()
    url = f"/api/v1/plugins/{world.plugin_id}/doctor"
    with TestClient(create_app(world.hub)) as client:
        got = client.get(url, params={"order": placed["name"]}, headers=reader)
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["action"]["kind"] == "switch_on_import_orders" and body["action"]["safe"]
        assert placed["name"] in body["support_details"]
        first = body["history"][0]
        assert (first["decision"], first["code"]) == ("skipped", "toggle_off:import_orders")
        asked = {"order": placed["name"], "action": "switch_on_import_orders"}
        assert client.post(url, json=asked, headers=reader).status_code == 403
        wrong = client.post(url, json={**asked, "action": "sync_now"}, headers=writer)
        assert wrong.status_code == 422 and "offers switch_on_import_orders" in wrong.text
        done = client.post(url, json=asked, headers=writer)
        assert done.status_code == 202, done.text
        world.settle(lambda: _imported(world, placed["id"]))
        assert client.get(url, params={"order": placed["name"]}, headers=reader).json()["order_id"]
        assert client.get(url, params={"order": "1"}).status_code == 401


def test_the_box_on_the_plugin_page_and_the_orders_list_answers_inline(world: World) -> None:
    with world.hub.db.unit_of_work() as session:
        auth.create_user(session, "admin", PASSWORD, Role.ADMIN)
        plugins.set_toggle(
            session, ShopifyConnector.info, world.plugin_id, Toggle.IMPORT_ORDERS, False
        )
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.settle()
    with TestClient(create_app(world.hub)) as client:
        browser = Browser(client)
        assert browser.login("admin").status_code == 303
        page = browser.get(f"/plugins/{world.plugin_id}").text
        assert "Why didn't an order import?" in page and 'hx-get="/doctor"' in page
        listed = browser.get("/orders", params={"q": placed["name"]}).text
        assert "No orders match." in listed and 'id="doctor-form"' in listed
        assert f'value="{placed["name"]}"' in listed  # the search, ready to ask
        assert "doctor-form" not in browser.get("/orders").text  # only when a search is empty
        answer = browser.get(
            "/doctor",
            params={"plugin_id": world.plugin_id, "order": placed["name"]},
            headers={"HX-Request": "true"},
        )
        assert answer.status_code == 200
        html = answer.text
        assert 'id="doctor-verdict"' in html and "Import Orders is off" in html
        assert 'name="action" value="switch_on_import_orders"' in html
        assert 'name="csrf_token"' in html and "Copy support details" in html
        assert "<html" not in html  # a fragment, shown next to the box
        refused = client.post(
            "/doctor",
            data={"plugin_id": world.plugin_id, "order": placed["name"], "action": "sync_now"},
            headers={"HX-Request": "true"},
        )
        assert refused.headers["HX-Retarget"] == "#alerts"  # no CSRF token: refused
        assert "form expired" in refused.text and not _imported(world, placed["id"])
        done = browser.htmx(
            "/doctor",
            {
                "plugin_id": world.plugin_id,
                "order": placed["name"],
                "action": "switch_on_import_orders",
            },
        )
        assert done.status_code == 200 and "Import Orders is on" in done.text
        world.settle(lambda: _imported(world, placed["id"]))
        empty = browser.get("/doctor", params={"plugin_id": world.plugin_id, "order": " "})
        assert "name the order" in empty.text


def test_an_order_with_an_unknown_sku_is_in_tradewind_and_offered_the_mapping(
    world: World,
) -> None:
    placed = world.sandbox.place_order(world.shop, [("MUG", 1), ("LAMP-1", 2)])
    world.settle(lambda: _imported(world, placed["id"]))
    found = doctor.diagnose(world.hub, world.plugin_id, placed["name"])
    assert _failed(found) == [CheckName.NOTIFICATIONS]
    assert "is in Tradewind" in found.verdict and "LAMP-1" in found.verdict
    assert found.action.kind is ActionKind.MAP_PRODUCT and found.action.sku == "LAMP-1"
    with world.hub.db.unit_of_work() as session:
        catalog.create_product(session, ProductIn(sku="LAMP-1", title="Lamp"))
    again = doctor.diagnose(world.hub, world.plugin_id, placed["name"])
    assert _failed(again) == [] and again.action.kind is ActionKind.NONE


def test_a_pos_order_the_rules_skip_and_an_order_of_another_location(world: World) -> None:
    other = world.sandbox.add_location(world.shop, "Pop-up")
    with world.hub.db.unit_of_work() as session:
        plugins.update_import_rules(
            session,
            world.plugin_id,
            {"pos_orders": "skip", "only_location": str(world.location_id())},
        )
    pos = world.sandbox.place_order(
        world.shop, [("MUG", 1)], kind="pos", location_id=world.location_id()
    )
    elsewhere = world.sandbox.place_order(  # a POS order too: seen once POS orders import
        world.shop, [("MUG", 1)], kind="pos", location_id=other["id"]
    )
    world.settle()
    for placed, words, rule in (
        (pos, "a POS order", {"pos_orders": "generic"}),
        (elsewhere, f"placed at location {other['id']}", {"only_location": ""}),
    ):
        found = doctor.diagnose(world.hub, world.plugin_id, placed["name"])
        assert _failed(found)[0] is CheckName.PLATFORM_STATUS and words in found.verdict
        with world.hub.db.unit_of_work() as session:
            plugins.update_import_rules(session, world.plugin_id, rule)
        doctor.apply(world.hub, world.plugin_id, placed["name"], ActionKind.SYNC_NOW)
        world.settle(partial(_imported, world, placed["id"]))


def test_a_platform_that_keeps_rate_limiting_gets_an_answer_within_the_doctor_s_patience(
    world: World,
) -> None:
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.settle(lambda: _imported(world, placed["id"]))
    world.sandbox.inject_fault(world.shop, "rate_limit", count=None, path_contains="orders")
    started = time.monotonic()
    found = doctor.diagnose(world.hub, world.plugin_id, str(placed["id"]))
    assert time.monotonic() - started < doctor.PATIENCE_SECONDS + 3
    assert found.found is None and found.order_id is not None  # what Tradewind holds, said
    assert "is in Tradewind" in found.verdict and "could not be asked" in found.verdict
    assert "rate limit" in found.verdict
    world.sandbox.clear_faults(world.shop)
    assert doctor.diagnose(world.hub, world.plugin_id, str(placed["id"])).found is True


def test_an_order_with_withheld_buyer_data_is_in_tradewind_and_offered_its_page(
    world: World,
) -> None:
    world.sandbox.withhold_customer_data(world.shop)
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.settle(lambda: _imported(world, placed["id"]))
    found = doctor.diagnose(world.hub, world.plugin_id, placed["name"])
    assert _failed(found) == [CheckName.NOTIFICATIONS]
    assert "buyer data is incomplete" in found.verdict and "email" in found.verdict
    assert found.action.kind is ActionKind.EDIT_CUSTOMER and found.order_id is not None
