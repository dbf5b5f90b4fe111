"""The order doctor's checks on their own (issue 15, part 3): given the facts, each check
passes, fails or does not apply in the seed's order, and the verdict is the order being
in Tradewind, not being on the platform, or else the first check that failed — with the
one action that fixes it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from tradewind.connectors.records import OrderLineRecord, OrderRecord
from tradewind.core.plugins.models import Plugin, PluginChannel, PluginState, PluginToggle
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync.decisions import Decision
from tradewind.sync.doctor import ActionKind, CheckName, Diagnosis, Result, diagnose
from tradewind.sync.doctor_facts import Earlier, Facts, Live, Notice, Reading, Work
from tradewind.vocabulary import FinancialStatus, OrderSource, Toggle

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
ENABLED = NOW - dt.timedelta(days=2)


def _plugin(
    *,
    toggles: tuple[Toggle, ...] = (Toggle.IMPORT_ORDERS,),
    channels: tuple[int, ...] = (1,),
    state: PluginState = PluginState.ACTIVE,
    rules: dict[str, Any] | None = None,
) -> Plugin:
    plugin = Plugin(
        id=7,
        name="demo",
        connector="shopify",
        state=state,
        enabled_at=ENABLED,
        remote_account="demo.myshopify.com",
        rules=rules or {},
        last_error="",
    )
    plugin.toggle_rows = [PluginToggle(toggle=toggle) for toggle in toggles]
    plugin.channel_rows = [PluginChannel(channel_id=channel) for channel in channels]
    return plugin


def _record(**fields: Any) -> OrderRecord:
    values: dict[str, Any] = {
        "external_id": "5001",
        "number": "#1001",
        "financial_status": FinancialStatus.PAID,
        "placed_at": NOW - dt.timedelta(hours=1),
        "updated_at": NOW - dt.timedelta(hours=1),
        "currency": "USD",
        "lines": (OrderLineRecord(external_id="l1", sku="MUG", quantity=1),),
        **fields,
    }
    return OrderRecord(**values)


def _facts(**fields: Any) -> Facts:
    values: dict[str, Any] = {
        "asked": "#1001",
        "store": "demo.myshopify.com",
        "plugin": _plugin(),
        "conflict": None,
        "live": Live(Reading.FOUND, _record()),
        **fields,
    }
    return Facts(**values)


def _results(found: Diagnosis) -> dict[CheckName, Result]:
    return {check.name: check.result for check in found.checks}


def test_the_checks_run_in_the_seed_s_order() -> None:
    found = diagnose(_facts(), NOW)
    assert [c.name for c in found.checks] == [
        CheckName.IMPORT_ORDERS,
        CheckName.CHANNELS,
        CheckName.AGE,
        CheckName.NOTIFICATIONS,
        CheckName.AUTHORIZATION,
        CheckName.PLATFORM_STATUS,
        CheckName.DECISION,
        CheckName.EXECUTIONS,
    ]


def test_nothing_stops_it_so_sync_it_now() -> None:
    found = diagnose(_facts(), NOW)
    assert Result.FAILED not in _results(found).values()
    assert found.exit_code == 0 and found.action.kind is ActionKind.SYNC_NOW
    assert found.verdict.startswith("Nothing stops order #1001 from importing")
    assert found.would is not None and found.would[:2] == (Decision.DEFERRED, "")


def test_the_first_failed_check_is_the_verdict() -> None:
    facts = _facts(
        plugin=_plugin(toggles=()),
        live=Live(
            Reading.FOUND,
            _record(
                placed_at=ENABLED - dt.timedelta(days=1),
                financial_status=FinancialStatus.PENDING,
            ),
        ),
    )
    found = diagnose(facts, NOW)
    results = _results(found)
    assert results[CheckName.IMPORT_ORDERS] is Result.FAILED
    assert results[CheckName.CHANNELS] is Result.NOT_APPLICABLE  # only matters when importing
    assert results[CheckName.AGE] is Result.FAILED
    assert results[CheckName.PLATFORM_STATUS] is Result.FAILED  # every cause is shown
    assert found.action.kind is ActionKind.SWITCH_ON_IMPORT_ORDERS and found.exit_code == 1
    assert found.would is not None and found.would[1] == "toggle_off:import_orders"


def test_an_older_order_is_offered_the_backfill_of_its_day() -> None:
    placed = ENABLED - dt.timedelta(days=3, hours=5)
    found = diagnose(_facts(live=Live(Reading.FOUND, _record(placed_at=placed))), NOW)
    assert found.action.kind is ActionKind.BACKFILL and found.action.safe
    assert found.action.start == placed.replace(hour=0, minute=0, second=0, microsecond=0)
    assert found.action.end == found.action.start + dt.timedelta(days=1)
    assert "order wizard" in found.verdict


def test_an_import_conflict_names_the_channels() -> None:
    facts = _facts(plugin=_plugin(channels=(1, 2)), conflict="on 2 channels ('A', 'B')")
    found = diagnose(facts, NOW)
    assert found.action.kind is ActionKind.FIX_CHANNELS and not found.action.safe
    assert found.would is not None and found.would[:2] == (Decision.DEFERRED, "import_conflict")


@pytest.mark.parametrize(
    ("fields", "rules", "words"),
    [
        ({"financial_status": FinancialStatus.PENDING}, {}, "financial status is pending"),
        ({"test": True}, {}, "a test order"),
        ({"source": OrderSource.POS}, {"pos_orders": "skip"}, "a POS order"),
        ({"location_ref": "L2"}, {"only_location": "L1"}, "location L2"),
    ],
)
def test_the_plugin_s_rules_are_replayed_on_the_live_order(
    fields: dict[str, Any], rules: dict[str, Any], words: str
) -> None:
    facts = _facts(plugin=_plugin(rules=rules), live=Live(Reading.FOUND, _record(**fields)))
    found = diagnose(facts, NOW)
    assert [c.name for c in found.checks if c.result is Result.FAILED] == [
        CheckName.PLATFORM_STATUS
    ]
    assert words in found.verdict and found.action.kind is ActionKind.EDIT_IMPORT_RULES


def test_an_order_in_tradewind_is_the_verdict_whatever_else_changed() -> None:
    found = diagnose(_facts(plugin=_plugin(toggles=()), imported=(12, "#1001")), NOW)
    assert found.verdict == "Order #1001 is in Tradewind (order 12)."
    assert found.action.kind is ActionKind.NONE and found.exit_code == 0


def test_an_order_in_tradewind_with_an_unknown_product_is_offered_the_mapping() -> None:
    notice = Notice(NotificationKind.MISSING_PRODUCT, "order #1001", "SKU MUG is not known")
    found = diagnose(_facts(imported=(12, "#1001"), notices=[notice]), NOW)
    assert found.action.kind is ActionKind.MAP_PRODUCT and found.action.sku == "MUG"
    assert "is in Tradewind (order 12), but" in found.verdict


def test_notifications_about_other_orders_do_not_count_a_rate_limit_does() -> None:
    other = Notice(NotificationKind.RECORD_REJECTED, "order #2002", "Order #2002 refused")
    quiet = diagnose(_facts(notices=[other]), NOW)
    assert _results(quiet)[CheckName.NOTIFICATIONS] is Result.PASSED
    throttled = Notice(NotificationKind.RATE_LIMITED, "api", "429 for 20 minutes")
    found = diagnose(_facts(notices=[other, throttled]), NOW)
    assert _results(found)[CheckName.NOTIFICATIONS] is Result.FAILED
    assert found.action.kind is ActionKind.NONE and found.action.label == "Wait"


def test_not_on_the_platform_is_bad_input_and_the_local_checks_still_run() -> None:
    found = diagnose(_facts(plugin=_plugin(toggles=()), live=Live(Reading.NOT_FOUND)), NOW)
    assert found.bad_input and found.exit_code == 2 and found.found is False
    assert found.verdict == "#1001 not found on demo.myshopify.com: check the number, or the store."
    assert _results(found)[CheckName.IMPORT_ORDERS] is Result.FAILED
    assert found.would is None  # nothing seen, nothing recorded


def test_lost_authorization_still_runs_the_local_checks() -> None:
    facts = _facts(
        plugin=_plugin(state=PluginState.NEEDS_REAUTHORIZATION),
        live=Live(Reading.NOT_ASKED, error="the plugin waits for reauthorization"),
    )
    found = diagnose(facts, NOW)
    results = _results(found)
    assert results[CheckName.AUTHORIZATION] is Result.FAILED
    assert results[CheckName.IMPORT_ORDERS] is Result.PASSED
    assert results[CheckName.AGE] is Result.NOT_APPLICABLE
    assert results[CheckName.PLATFORM_STATUS] is Result.NOT_APPLICABLE
    assert found.action.kind is ActionKind.REAUTHORIZE and "every local check" in found.verdict


def test_a_platform_that_cannot_be_asked_is_said_not_guessed() -> None:
    found = diagnose(_facts(live=Live(Reading.FAILED, error="the platform's rate limit")), NOW)
    assert found.found is None and found.action.kind is ActionKind.NONE
    assert "could not be asked" in found.verdict and "rate limit" in found.verdict


def test_a_re_read_stuck_after_errors_and_the_last_decision() -> None:
    stuck = Work(3, "pending", 4, "orders.get: HTTP 503", NOW + dt.timedelta(minutes=5))
    found = diagnose(_facts(work=[stuck]), NOW)
    assert _results(found)[CheckName.EXECUTIONS] is Result.FAILED
    assert "HTTP 503" in found.verdict and found.action.kind is ActionKind.SYNC_NOW
    deferred = Earlier(NOW, "webhook", Decision.DEFERRED, "auth_failed", "401")
    unread = Live(Reading.FAILED, error="HTTP 503")
    found = diagnose(_facts(decision=deferred, live=unread), NOW)
    assert found.action.kind is ActionKind.REAUTHORIZE


def test_a_decision_whose_reason_no_longer_holds_does_not_stop_the_order() -> None:
    skipped = Earlier(NOW, "webhook", Decision.SKIPPED, "test_order", "a test order")
    facts = _facts(
        plugin=_plugin(rules={"import_test_orders": True}),
        live=Live(Reading.FOUND, _record(test=True)),
        decision=skipped,
    )
    found = diagnose(facts, NOW)
    decision = next(c for c in found.checks if c.name is CheckName.DECISION)
    assert decision.result is Result.PASSED and "no longer holds" in decision.evidence
    assert found.exit_code == 0 and found.action.kind is ActionKind.SYNC_NOW
    still = diagnose(dataclasses.replace(facts, plugin=_plugin()), NOW)  # test orders still off
    assert [c.name for c in still.checks if c.result is Result.FAILED] == [
        CheckName.PLATFORM_STATUS,
        CheckName.DECISION,
    ]


def test_support_details_carry_the_ticket_s_facts() -> None:
    found = diagnose(_facts(plugin=_plugin(toggles=())), NOW)
    details = found.support_details()
    assert "Order on the platform: #1001 (id 5001)" in details
    assert "shopify store demo.myshopify.com, plugin 'demo' (id 7)" in details
    assert "Placed: 2026-12-03 11:00 UTC" in details
    assert "- Import Orders is on: failed — Import Orders is off" in details
    assert details.count("\n- ") == len(found.checks)
    assert f"Verdict: {found.verdict}" in details
    assert dataclasses.replace(found, checks=()).support_details().count("\n- ") == 0


def test_a_notification_names_the_order_as_a_whole_number() -> None:
    longer = Notice(NotificationKind.RECORD_REJECTED, "order #10012", "Order #10012 refused")
    assert _results(diagnose(_facts(notices=[longer]), NOW))[CheckName.NOTIFICATIONS] is (
        Result.PASSED
    )
    this = Notice(NotificationKind.RECORD_REJECTED, "order #1001", "Order #1001 refused: bad tax")
    found = diagnose(_facts(notices=[longer, this]), NOW)
    assert "bad tax" in found.verdict and found.action.kind is ActionKind.SYNC_NOW


def test_the_decision_check_shows_the_recent_changes() -> None:
    history = [
        Earlier(NOW - dt.timedelta(hours=2), "webhook", Decision.SKIPPED, "unpaid", "unpaid"),
        Earlier(NOW - dt.timedelta(hours=1), "webhook", Decision.IMPORTED, "", ""),
    ]
    found = diagnose(_facts(decision=history[-1], history=history), NOW)
    decision = next(c for c in found.checks if c.name is CheckName.DECISION)
    assert decision.result is Result.PASSED
    assert "changes: skipped (unpaid) by webhook" in decision.evidence
    assert "→ imported by webhook" in decision.evidence


def test_a_plugin_on_no_channel_fails_the_channel_check_with_the_plugin_s_words() -> None:
    conflict = "Plugin 'demo' has Import Orders on but is attached to no channel"
    found = diagnose(_facts(plugin=_plugin(channels=()), conflict=conflict), NOW)
    channels = next(c for c in found.checks if c.name is CheckName.CHANNELS)
    assert channels.result is Result.FAILED and channels.evidence == conflict
    assert "on no channel" in found.verdict and found.action.kind is ActionKind.FIX_CHANNELS
