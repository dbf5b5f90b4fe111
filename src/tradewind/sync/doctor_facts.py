"""What the order doctor reads before it judges (``tradewind.sync.doctor``): the live read
of the order from the platform, the plugin's open notifications, the decisions and the
work and calls about the order, gathered by the use case (``tradewind.app.doctor``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tradewind.connectors.records import OrderRecord
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync.decisions import Decision
from tradewind.sync.orders import skip_reason
from tradewind.vocabulary import Toggle


class Reading(StrEnum):
    """How the live read of the order went."""

    FOUND = "found"
    NOT_FOUND = "not_found"
    AUTH_FAILED = "auth_failed"
    NOT_ASKED = "not_asked"  # the plugin waits for reauthorization: the platform is not asked
    FAILED = "failed"  # rate limit beyond patience, outage, connector error


@dataclass(frozen=True, slots=True)
class Live:
    reading: Reading
    record: OrderRecord | None = None
    error: str = ""


@dataclass(frozen=True, slots=True)
class Notice:
    kind: NotificationKind
    subject: str
    message: str


@dataclass(frozen=True, slots=True)
class Earlier:
    seen_at: dt.datetime
    path: str
    decision: Decision
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class Call:
    started_at: dt.datetime
    operation: str
    outcome: str
    error: str
    work_id: int | None = None


@dataclass(frozen=True, slots=True)
class Work:
    """A re-read of the order queued by a webhook or by sync now (newest first)."""

    id: int
    state: str  # pending, running, done, failed
    attempts: int
    last_error: str
    not_before: dt.datetime


@dataclass(frozen=True, slots=True)
class Facts:
    """All the doctor reads, gathered before it judges."""

    asked: str  # what the merchant typed
    store: str  # the platform account ("demo.myshopify.com")
    plugin: Plugin
    conflict: str | None  # plugins.import_conflict
    live: Live
    external_id: str = ""  # the order's id on the platform, when known
    number: str = ""
    notices: Sequence[Notice] = ()  # the plugin's open notifications
    decision: Earlier | None = None  # the latest decision before this run
    history: Sequence[Earlier] = ()
    calls: Sequence[Call] = ()  # the plugin's recent executions
    work: Sequence[Work] = ()  # the re-reads of this order
    imported: tuple[int, str] | None = None  # (Tradewind order id, its number)


def would_decide(facts: Facts) -> tuple[Decision, str, str] | None:
    """What an import would decide about the order now (decision, code, reason), without
    importing; ``None`` when the order was not read."""
    record = facts.live.record
    if record is None:
        return None
    if facts.imported is not None:
        return Decision.UNCHANGED, "", "held in Tradewind"
    if Toggle.IMPORT_ORDERS not in facts.plugin.toggles:
        return Decision.SKIPPED, "toggle_off:import_orders", "Import Orders is off"
    if facts.conflict is not None:
        return Decision.DEFERRED, "import_conflict", facts.conflict
    rules = plugins.import_rules(facts.plugin)
    skip = skip_reason(facts.plugin, rules, record, backfill=False)
    if skip is not None:
        return Decision.DEFERRED if skip.deferred else Decision.SKIPPED, skip.code, skip.reason
    if facts.plugin.in_shadow:
        return Decision.WOULD_IMPORT, "shadow", "would import (shadow: nothing is created)"
    return Decision.DEFERRED, "", "nothing stops it; not imported yet (sync now imports it)"
