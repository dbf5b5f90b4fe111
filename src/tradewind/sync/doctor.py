"""The order doctor's checks: "why didn't order X import?" answered from what Tradewind
holds and what the platform says about the order now, in the order of the merchant's
seven-step procedure (toggle, channels, age, notifications, authorization, status on the
platform, then what the engine did with it). Pure: it reads the facts it is handed and
returns each check with its evidence, one verdict sentence and the one action that fixes
it. Gathering the facts (the live read, the database) is the use case's
(``tradewind.app.doctor``)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import PluginState
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync import decisions
from tradewind.sync.decisions import Decision
from tradewind.sync.doctor_facts import Earlier, Facts, Notice, Reading, would_decide
from tradewind.sync.orders import ENABLE_GRACE, skip_reason
from tradewind.vocabulary import Toggle


class Result(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "not_applicable"


class ActionKind(StrEnum):
    SWITCH_ON_IMPORT_ORDERS = "switch_on_import_orders"
    FIX_CHANNELS = "fix_channels"
    BACKFILL = "backfill"
    REAUTHORIZE = "reauthorize"
    SYNC_NOW = "sync_now"
    MAP_PRODUCT = "map_product"
    EDIT_CUSTOMER = "edit_customer"
    EDIT_IMPORT_RULES = "edit_import_rules"
    NONE = "none"


# The actions a face may carry out for the merchant on the doctor's word: they change
# nothing the merchant did not mean (the rest open a page or need the platform).
SAFE_ACTIONS = frozenset(
    {ActionKind.SWITCH_ON_IMPORT_ORDERS, ActionKind.BACKFILL, ActionKind.SYNC_NOW}
)


class CheckName(StrEnum):
    """The checks, in the seed's order."""

    IMPORT_ORDERS = "import_orders"
    CHANNELS = "channels"
    AGE = "age"
    NOTIFICATIONS = "notifications"
    AUTHORIZATION = "authorization"
    PLATFORM_STATUS = "platform_status"
    DECISION = "decision"
    EXECUTIONS = "executions"


TITLES: dict[CheckName, str] = {
    CheckName.IMPORT_ORDERS: "Import Orders is on",
    CheckName.CHANNELS: "The plugin is on exactly one channel",
    CheckName.AGE: "Placed after the plugin was enabled",
    CheckName.NOTIFICATIONS: "No open error naming the order or its products",
    CheckName.AUTHORIZATION: "The plugin's authorization works",
    CheckName.PLATFORM_STATUS: "The order's status on the platform is one the plugin imports",
    CheckName.DECISION: "Tradewind's last decision about it",
    CheckName.EXECUTIONS: "The work and the platform calls about it",
}


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    label: str  # the button's words
    does: str  # what pressing it does
    start: dt.datetime | None = None  # a backfill's range [start, end)
    end: dt.datetime | None = None
    sku: str = ""  # the SKU to map

    @property
    def safe(self) -> bool:
        return self.kind in SAFE_ACTIONS


NO_ACTION = Action(ActionKind.NONE, "", "Nothing to do.")


@dataclass(frozen=True, slots=True)
class Check:
    name: CheckName
    result: Result
    evidence: str
    verdict: str = ""  # when it failed: the sentence that explains the order
    action: Action = NO_ACTION

    @property
    def title(self) -> str:
        return TITLES[self.name]


@dataclass(frozen=True)
class Diagnosis:
    plugin_id: int
    plugin_name: str
    platform: str  # the connector
    store: str
    asked: str
    external_id: str
    number: str
    placed_at: dt.datetime | None
    found: bool | None  # on the platform (None: it could not be asked)
    order_id: int | None  # the Tradewind order, when imported
    checks: tuple[Check, ...]
    verdict: str
    action: Action
    at: dt.datetime
    # What the doctor would decide now (kept as the order's decision, path ``doctor``).
    would: tuple[Decision, str, str] | None = None
    bad_input: bool = False  # not found on the platform
    history: tuple[Earlier, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Imported, or nothing stops it."""
        return not self.bad_input and all(c.result is not Result.FAILED for c in self.checks)

    @property
    def exit_code(self) -> int:
        if self.bad_input:
            return 2
        return 0 if self.order_id is not None or self.ok else 1

    def support_details(self) -> str:
        """The facts a support ticket needs (the seed's list), as plain text."""
        placed = _at(self.placed_at) if self.placed_at else "unknown (the platform was not read)"
        order = self.number or self.asked
        if self.external_id and self.external_id != order:
            order += f" (id {self.external_id})"
        lines = [
            f"Order on the platform: {order}",
            f"Platform and plugin: {self.platform} store {self.store}, "
            f"plugin {self.plugin_name!r} (id {self.plugin_id})",
            f"Placed: {placed}",
            f"What was tried (the Tradewind order doctor, {_at(self.at)}):",
        ]
        lines += [f"- {c.title}: {c.result.value} — {c.evidence}" for c in self.checks]
        lines.append(f"Verdict: {self.verdict}")
        if self.action.kind is not ActionKind.NONE:
            lines.append(f"Offered: {self.action.label} ({self.action.does})")
        return "\n".join(lines)


def _at(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def _day(moment: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    start = moment.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + dt.timedelta(days=1)


# ------------------------------------------------------------------------- the checks


def check_toggle(facts: Facts) -> Check:
    if Toggle.IMPORT_ORDERS in facts.plugin.toggles:
        return Check(CheckName.IMPORT_ORDERS, Result.PASSED, "Import Orders is on")
    return Check(
        CheckName.IMPORT_ORDERS,
        Result.FAILED,
        "Import Orders is off",
        f"Import Orders is off for {facts.plugin.name}, so no order from {facts.store} imports.",
        Action(
            ActionKind.SWITCH_ON_IMPORT_ORDERS,
            "Switch Import Orders on",
            "Turns Import Orders on; new orders import and this one is read again.",
        ),
    )


def check_channels(facts: Facts) -> Check:
    count = len(facts.plugin.channel_ids)
    if Toggle.IMPORT_ORDERS not in facts.plugin.toggles:
        return Check(
            CheckName.CHANNELS, Result.NOT_APPLICABLE, f"on {count} channel(s); not importing"
        )
    if facts.conflict is None:
        return Check(CheckName.CHANNELS, Result.PASSED, "on exactly one channel")
    return Check(
        CheckName.CHANNELS,
        Result.FAILED,
        facts.conflict,
        f"{facts.plugin.name} is on {count} channels; order import is stopped until it is "
        "on exactly one."
        if count
        else f"{facts.plugin.name} is on no channel, so its orders have nowhere to go.",
        Action(
            ActionKind.FIX_CHANNELS,
            "Fix the plugin's channels",
            "Opens the plugin's Channels field: keep the one channel its orders belong to.",
        ),
    )


def check_age(facts: Facts) -> Check:
    record, enabled = facts.live.record, facts.plugin.enabled_at
    if record is None:
        return Check(CheckName.AGE, Result.NOT_APPLICABLE, "the order was not read")
    if enabled is None:
        return Check(CheckName.AGE, Result.PASSED, f"placed {_at(record.placed_at)}")
    evidence = f"placed {_at(record.placed_at)}; the plugin was enabled {_at(enabled)}"
    if record.placed_at >= enabled - ENABLE_GRACE:
        return Check(CheckName.AGE, Result.PASSED, evidence)
    start, end = _day(record.placed_at)
    return Check(
        CheckName.AGE,
        Result.FAILED,
        evidence,
        f"Order {record.number} was placed {_at(record.placed_at)}, before {facts.plugin.name} "
        "was enabled; older orders import only through Sync historical orders or the order "
        "wizard.",
        Action(
            ActionKind.BACKFILL,
            f"Sync historical orders of {start:%Y-%m-%d}",
            f"Imports the orders placed {start:%Y-%m-%d} (UTC) that the plugin's rules import "
            "(or add this one with the order wizard).",
            start=start,
            end=end,
        ),
    )


_NOTICED = (
    NotificationKind.MISSING_PRODUCT,
    NotificationKind.MISSING_CUSTOMER_FIELDS,
    NotificationKind.RECORD_REJECTED,
)


def _names(facts: Facts) -> set[str]:
    names = {facts.asked, facts.external_id, facts.number, facts.number.lstrip("#")}
    return {name for name in names if name}


def _skus(facts: Facts) -> set[str]:
    record = facts.live.record
    return {line.sku for line in record.lines if line.sku} if record is not None else set()


def _named(text: str, word: str) -> bool:
    """Whether ``text`` names ``word`` as a whole (order 1001 is not named by "#10012")."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def _mentions(notice: Notice, words: set[str]) -> str:
    text = f"{notice.subject} {notice.message}"
    return next((word for word in sorted(words) if _named(text, word)), "")


def check_notifications(facts: Facts) -> Check:
    names, skus = _names(facts), _skus(facts)
    found: list[tuple[Notice, str]] = []
    for notice in facts.notices:
        if notice.kind is NotificationKind.RATE_LIMITED:
            found.append((notice, ""))
        elif notice.kind in _NOTICED:
            sku = _mentions(notice, skus)
            if _mentions(notice, names) or sku:
                found.append((notice, sku))
    if not found:
        return Check(
            CheckName.NOTIFICATIONS, Result.PASSED, "no open notification names it or its SKUs"
        )
    notice, sku = found[0]
    evidence = "; ".join(f"{n.kind.value}: {n.message}" for n, _ in found)
    if notice.kind is NotificationKind.RATE_LIMITED:
        action = Action(
            ActionKind.NONE,
            "Wait",
            "Tradewind retries once the platform's limit allows; check again in 15 minutes.",
        )
        verdict = f"{facts.store} is throttling {facts.plugin.name}: {notice.message}"
    elif notice.kind is NotificationKind.MISSING_PRODUCT:
        action = Action(
            ActionKind.MAP_PRODUCT,
            f"Map {sku}" if sku else "Map the product",
            "Opens the product mapping: import or create the product, or map the SKU.",
            sku=sku,
        )
        verdict = f"The order names a product Tradewind does not know: {notice.message}"
    elif notice.kind is NotificationKind.MISSING_CUSTOMER_FIELDS:
        action = Action(
            ActionKind.EDIT_CUSTOMER,
            "Complete the buyer's data",
            "Opens the order: fill in the customer's missing fields or the address.",
        )
        verdict = f"The order's buyer data is incomplete: {notice.message}"
    else:
        action = Action(ActionKind.SYNC_NOW, "Sync it now", _SYNC_NOW)
        verdict = f"Tradewind refused the order: {notice.message}"
    return Check(CheckName.NOTIFICATIONS, Result.FAILED, evidence, verdict, action)


_REAUTHORIZE = Action(
    ActionKind.REAUTHORIZE,
    "Reauthorize",
    "Opens the platform's authorization again; paused work resumes once it succeeds.",
)


def check_authorization(facts: Facts) -> Check:
    state = facts.plugin.state
    live = facts.live
    if live.reading is Reading.AUTH_FAILED or state in (
        PluginState.NEEDS_REAUTHORIZATION,
        PluginState.CREDENTIALS_UNREADABLE,
    ):
        detail = live.error or facts.plugin.last_error or state.value
        return Check(
            CheckName.AUTHORIZATION,
            Result.FAILED,
            f"plugin state {state.value}: {detail}",
            f"{facts.plugin.name} has lost its authorization on {facts.store}: no order comes "
            "through until it is reauthorized (the doctor ran every local check; the order "
            "itself could not be read).",
            _REAUTHORIZE,
        )
    if state is PluginState.INACTIVE:
        return Check(
            CheckName.AUTHORIZATION,
            Result.FAILED,
            "plugin state inactive",
            f"{facts.plugin.name} is not running: activate it and its orders import.",
            Action(ActionKind.NONE, "Activate the plugin", "Activate it on the plugin page."),
        )
    if live.reading is Reading.FOUND or live.reading is Reading.NOT_FOUND:
        return Check(
            CheckName.AUTHORIZATION,
            Result.PASSED,
            f"plugin state {state.value}; the platform answered the doctor",
        )
    return Check(
        CheckName.AUTHORIZATION,
        Result.NOT_APPLICABLE,
        f"plugin state {state.value}; the platform could not be asked: {live.error}",
    )


def check_platform_status(facts: Facts) -> Check:
    live, record = facts.live, facts.live.record
    if live.reading is Reading.NOT_FOUND:
        return Check(
            CheckName.PLATFORM_STATUS,
            Result.FAILED,
            f"{facts.store} has no order {facts.asked}",
            not_found(facts),
        )
    if record is None:
        return Check(
            CheckName.PLATFORM_STATUS,
            Result.NOT_APPLICABLE,
            f"the order could not be read from {facts.store}",
        )
    evidence = (
        f"status {record.status.value}, financial {record.financial_status.value}, "
        f"fulfilment {record.fulfillment_status.value}, source {record.source.value}"
        + (", a test order" if record.test else "")
        + (f", location {record.location_ref}" if record.location_ref else "")
        + (f", held for review ({record.review_hold})" if record.review_hold else "")
    )
    rules = plugins.import_rules(facts.plugin)
    skip = skip_reason(facts.plugin, rules, record, backfill=True)  # the age is checked above
    if skip is None:
        return Check(CheckName.PLATFORM_STATUS, Result.PASSED, evidence)
    if skip.deferred:  # held for review: the platform's to release, not the rules'
        platform = facts.plugin.connector.title()
        return Check(
            CheckName.PLATFORM_STATUS,
            Result.FAILED,
            evidence,
            f"Order {record.number} is held for review on {facts.store} "
            f"({record.review_hold}); Tradewind imports it once the hold is released.",
            Action(
                ActionKind.NONE,
                f"Release the hold in {platform}",
                f"Release the hold in {platform}; Tradewind imports it by itself.",
            ),
        )
    return Check(
        CheckName.PLATFORM_STATUS,
        Result.FAILED,
        f"{evidence} — {skip.reason}",
        f"Order {record.number} is not imported by {facts.plugin.name}'s rules: {skip.reason}.",
        Action(
            ActionKind.EDIT_IMPORT_RULES,
            "Change the import rules",
            f"Opens the plugin's order rules. {decisions.fix_for(skip.code)}",
        ),
    )


_SYNC_NOW = "Reads the order from the platform again now and imports it if nothing stops it."
_IN_SHADOW = "The plugin is in shadow: it creates no orders; it would import order {} once live."


def _changes(history: Sequence[Earlier]) -> str:
    """The recent changes of decision, oldest first (the last few)."""
    if len(history) < 2:
        return ""
    steps = " → ".join(
        f"{e.decision.value}{f' ({e.code})' if e.code else ''} by {e.path} {_at(e.seen_at)}"
        for e in history[-4:]
    )
    return f"; changes: {steps}"


def check_decision(facts: Facts) -> Check:
    found = facts.decision
    if found is None:
        return Check(
            CheckName.DECISION,
            Result.NOT_APPLICABLE,
            "no sync has seen this order (no webhook, poll or backfill reached it)",
        )
    evidence = (
        f"{found.decision.value} {_at(found.seen_at)} by {found.path}"
        + (f": {found.reason}" if found.reason else "")
        + _changes(facts.history)
    )
    # Would import: what a plugin in shadow decides of an order nothing stops.
    if found.decision in (
        Decision.IMPORTED,
        Decision.UPDATED,
        Decision.UNCHANGED,
        Decision.WOULD_IMPORT,
    ):
        return Check(CheckName.DECISION, Result.PASSED, evidence)
    now = would_decide(facts)
    if found.decision in (Decision.SKIPPED, Decision.DEFERRED) and now and now[1] != found.code:
        # Skipped or deferred for a reason the live order no longer has (the rules or the
        # channels were fixed since): nothing in the past stops it now.
        return Check(CheckName.DECISION, Result.PASSED, f"{evidence}; that no longer holds")
    code = found.code.partition(":")[0]
    if code == "auth_failed":
        action = _REAUTHORIZE
    elif code == "rate_limited":
        action = Action(ActionKind.NONE, "Wait", decisions.fix_for(code))
    else:
        action = Action(ActionKind.SYNC_NOW, "Sync it now", _SYNC_NOW)
    return Check(
        CheckName.DECISION,
        Result.FAILED,
        evidence,
        f"Tradewind last {found.decision.value} order {facts.number or facts.asked} "
        f"({_at(found.seen_at)}): {found.reason or found.code}.",
        action,
    )


def check_executions(facts: Facts) -> Check:
    """The work that re-read the order (by webhook or sync now) and the calls it made:
    work waiting after an error, or failed for good, is the answer to "stuck in a queue"."""
    names = _names(facts)
    ids = {work.id for work in facts.work}
    touching = [
        call
        for call in facts.calls
        if (call.work_id is not None and call.work_id in ids)
        or any(_named(call.error, name) for name in names)
    ]
    failed_calls = [call for call in touching if call.outcome != "success"]
    stuck = [
        work
        for work in facts.work
        if work.state == "failed" or (work.state == "pending" and work.last_error)
    ]
    summary = f"{len(facts.work)} re-read(s) of the order, {len(touching)} call(s) for it" + (
        f", {len(failed_calls)} failed" if failed_calls else ""
    )
    if stuck:
        work = stuck[0]
        waiting = (
            f"waits until {_at(work.not_before)} after {work.attempts} attempt(s)"
            if work.state == "pending"
            else f"failed for good after {work.attempts} attempt(s)"
        )
        return Check(
            CheckName.EXECUTIONS,
            Result.FAILED,
            f"{summary}; its re-read {waiting}: {work.last_error}",
            f"Tradewind's re-read of the order {waiting}: {work.last_error}",
            Action(ActionKind.SYNC_NOW, "Sync it now", _SYNC_NOW),
        )
    if touching and touching[0].outcome != "success":  # the latest call about it failed
        last = touching[0]
        return Check(
            CheckName.EXECUTIONS,
            Result.FAILED,
            f"{summary}; last {last.operation} {_at(last.started_at)}: {last.error}",
            f"The last call to {facts.store} about the order failed: {last.error}",
            Action(ActionKind.SYNC_NOW, "Sync it now", _SYNC_NOW),
        )
    if not touching and not facts.work:
        return Check(
            CheckName.EXECUTIONS, Result.NOT_APPLICABLE, "no work or call has named the order"
        )
    return Check(CheckName.EXECUTIONS, Result.PASSED, summary)


CHECKS = (
    check_toggle,
    check_channels,
    check_age,
    check_notifications,
    check_authorization,
    check_platform_status,
    check_decision,
    check_executions,
)


def not_found(facts: Facts) -> str:
    return f"{facts.asked} not found on {facts.store}: check the number, or the store."


def diagnose(facts: Facts, now: dt.datetime) -> Diagnosis:
    """Every check in order; the verdict is the order being in Tradewind, not being on
    the platform at all, or else the first check that failed."""
    checks = tuple(check(facts) for check in CHECKS)
    failed = [check for check in checks if check.result is Result.FAILED]
    record = facts.live.record
    number = record.number if record is not None else facts.number
    bad_input = False
    if facts.imported is not None:
        order_id, held = facts.imported
        verdict = f"Order {held} is in Tradewind (order {order_id})."
        action = NO_ACTION
        extra = next((c for c in failed if c.name is CheckName.NOTIFICATIONS), None)
        if extra is not None:
            verdict = f"Order {held} is in Tradewind (order {order_id}), but: {extra.verdict}"
            action = extra.action
        elif facts.live.reading is Reading.FAILED:
            verdict += f" {facts.store} could not be asked about it now ({facts.live.error})."
    elif facts.live.reading is Reading.NOT_FOUND:
        verdict, action, bad_input = not_found(facts), NO_ACTION, True
    elif failed:
        verdict, action = failed[0].verdict, failed[0].action
    elif facts.live.reading is Reading.FAILED:
        verdict = (
            f"{facts.store} could not be asked about order {facts.asked} now "
            f"({facts.live.error}); every local check passed. Try again in a few minutes."
        )
        action = NO_ACTION
    elif facts.plugin.in_shadow:
        verdict, action = _IN_SHADOW.format(number or facts.asked), NO_ACTION
    else:
        verdict = (
            f"Nothing stops order {number or facts.asked} from importing; it has not arrived "
            "yet (a webhook may have been lost). Sync it now."
        )
        action = Action(ActionKind.SYNC_NOW, "Sync it now", _SYNC_NOW)
    return Diagnosis(
        plugin_id=facts.plugin.id,
        plugin_name=facts.plugin.name,
        platform=facts.plugin.connector,
        store=facts.store,
        asked=facts.asked,
        external_id=record.external_id if record is not None else facts.external_id,
        number=number,
        placed_at=record.placed_at if record is not None else None,
        found={Reading.FOUND: True, Reading.NOT_FOUND: False}.get(facts.live.reading),
        order_id=facts.imported[0] if facts.imported is not None else None,
        checks=checks,
        verdict=verdict,
        action=action,
        at=now,
        would=would_decide(facts),
        bad_input=bad_input,
        history=tuple(facts.history),
    )
