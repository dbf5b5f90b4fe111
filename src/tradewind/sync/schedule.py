"""The reconciler: the periodic sweep that makes the ledger self-healing.

Every few seconds, in every worker process (it is idempotent):
* work left running by a dead worker goes back to pending;
* each importing plugin's reconciliation poll is queued when due, and, for one that
  imports by webhook, the minutely probe for orders whose webhook never came;
* plugins waiting for reauthorization get a credentials probe;
* every plugin with due work and no live drainer is kicked (a lost queue message, a
  flushed Redis or a ``kill -9`` only delays work).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased

from tradewind.connectors.base import Capability
from tradewind.connectors.registry import UnknownConnector
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin, PluginState
from tradewind.db import insert_ignore, utcnow
from tradewind.hub import Hub
from tradewind.sync import decisions, ledger, tokens
from tradewind.sync.models import (
    CUSTOMERS_STREAM,
    ORDERS_STREAM,
    SHADOW_WAITS,
    PluginLease,
    SyncSchedule,
    SyncWork,
    WorkKind,
    WorkState,
)
from tradewind.vocabulary import Toggle

Kick = Callable[[int, dt.datetime | None], None]
WEBHOOKS_STREAM = "webhooks"
WEBHOOK_CHECK_SECONDS = 3600
PROBE_STREAM = "probe"
PROBE_SECONDS = 60
CUSTOMERS_POLL_SECONDS = 3600
TRACKING_STREAM = "tracking"
# The safety net under carriers' tracking webhooks: parcels on their way are re-read.
TRACKING_POLL_SECONDS = 4 * 3600
# Import decisions past their retention are removed, and tokens about to end are
# notified, this often (by each process's sweep).
PRUNE_SECONDS = 3600
_pruned = [-float(PRUNE_SECONDS)]
SILENCE_STREAM = "silence"
SILENCE_SECONDS = 15 * 60  # how often a plugin's webhooks are judged for silence
GAPS_STREAM = "gaps"
GAPS_SECONDS = 24 * 3600  # the day before, once a day
FULFILMENT_STREAM = "fulfilment"
# The safety net under a fulfilment tool's shipment notices: unshipped orders re-read.
FULFILMENT_POLL_SECONDS = 3600
# The work a due stream becomes: (kind, key).
STREAM_WORK: dict[str, tuple[WorkKind, str]] = {
    ORDERS_STREAM: (WorkKind.POLL_ORDERS, ORDERS_STREAM),
    WEBHOOKS_STREAM: (WorkKind.ENSURE_WEBHOOKS, ""),
    CUSTOMERS_STREAM: (WorkKind.IMPORT_CUSTOMERS, CUSTOMERS_STREAM),
    PROBE_STREAM: (WorkKind.PROBE_ORDERS, PROBE_STREAM),
    TRACKING_STREAM: (WorkKind.POLL_TRACKING, TRACKING_STREAM),
    FULFILMENT_STREAM: (WorkKind.POLL_FULFILMENT, FULFILMENT_STREAM),
    GAPS_STREAM: (WorkKind.GAP_REPORT, "daily"),
    SILENCE_STREAM: (WorkKind.CHECK_SILENCE, SILENCE_STREAM),
}


def probes_orders(capabilities: Collection[Capability], plugin: Plugin) -> bool:
    """Whether the plugin's orders come by webhook, so a dropped one is a gap to look
    for (the probe) rather than what the reconciliation poll is there for."""
    return (
        Toggle.IMPORT_ORDERS in plugin.toggles
        and Capability.IMPORT_ORDERS in capabilities
        and Capability.RECEIVE_WEBHOOKS in capabilities
    )


@dataclass(frozen=True)
class SweepReport:
    recovered: int
    polls_queued: int
    probes_queued: int
    kicked: list[int]


def sweep(hub: Hub, kick: Kick) -> SweepReport:
    now = utcnow()
    hub.refresh_templates()  # a template uploaded through another process is taken in
    with hub.db.unit_of_work() as session:
        recovered = ledger.recover_stale(session, now=now)
        polls = _queue_due_polls(hub, session, now)
        probes = _queue_auth_probes(session)
    if time.monotonic() - _pruned[0] >= PRUNE_SECONDS:
        _pruned[0] = time.monotonic()
        with hub.db.unit_of_work() as session:
            decisions.prune(session, now)
            tokens.notify_expiring(hub, session, now)
    with hub.db.read() as session:
        due = _plugins_to_kick(session, now)
    for plugin_id in due:
        kick(plugin_id, None)
    return SweepReport(recovered, polls, probes, due)


def _queue_due_polls(hub: Hub, session: Session, now: dt.datetime) -> int:
    """Scheduled streams: each importing plugin's order poll (its rules' interval), each
    webhook-managing plugin's subscription check (hourly: repair what the platform
    removed) and, with Import Customers on, an hourly read of the customers that changed
    (the first one reads them all)."""
    wanted: list[tuple[Plugin, str, int, int]] = []  # plugin, stream, interval, overlap
    for plugin in session.scalars(
        select(Plugin).where(Plugin.state.in_([PluginState.ACTIVE, PluginState.FAILING]))
    ):
        try:
            capabilities = hub.info_for(plugin).capabilities
        except UnknownConnector:
            continue  # the plugin page says so; nothing to schedule
        rules = plugins.import_rules(plugin)
        if Toggle.IMPORT_ORDERS in plugin.toggles and Capability.IMPORT_ORDERS in capabilities:
            wanted.append(
                (plugin, ORDERS_STREAM, rules.poll_minutes * 60, rules.poll_overlap_minutes * 60)
            )
        if Toggle.IMPORT_ORDERS in plugin.toggles and Capability.IMPORT_ORDERS in capabilities:
            wanted.append((plugin, GAPS_STREAM, GAPS_SECONDS, 0))
        if probes_orders(capabilities, plugin):
            wanted.append((plugin, PROBE_STREAM, PROBE_SECONDS, 0))
            wanted.append((plugin, SILENCE_STREAM, SILENCE_SECONDS, 0))
        if Capability.MANAGE_WEBHOOKS in capabilities:
            wanted.append((plugin, WEBHOOKS_STREAM, WEBHOOK_CHECK_SECONDS, 0))
        if (
            Toggle.IMPORT_CUSTOMERS in plugin.toggles
            and Capability.IMPORT_CUSTOMERS in capabilities
        ):
            wanted.append((plugin, CUSTOMERS_STREAM, CUSTOMERS_POLL_SECONDS, 0))
        connector = hub.connector_for(plugin)
        if callable(getattr(connector, "track", None)):
            wanted.append((plugin, TRACKING_STREAM, TRACKING_POLL_SECONDS, 0))
        if callable(getattr(connector, "shipments_of", None)):
            wanted.append((plugin, FULFILMENT_STREAM, FULFILMENT_POLL_SECONDS, 0))
    if not wanted:
        return 0
    insert_ignore(
        session,
        SyncSchedule.__table__,
        [
            {
                "plugin_id": plugin.id,
                "stream": stream,
                # A day's gap report (and the silence check) first run an interval after
                # their plugin is scheduled: there is nothing to judge before.
                "next_run_at": now + dt.timedelta(seconds=interval)
                if stream in (GAPS_STREAM, SILENCE_STREAM)
                else now,
                "interval_seconds": interval,
                "overlap_seconds": overlap,
                "last_result": "",
                "created_at": now,
                "updated_at": now,
            }
            for plugin, stream, interval, overlap in wanted
        ],
        conflict_columns=["plugin_id", "stream"],
    )
    streams = {(plugin.id, stream) for plugin, stream, _, _ in wanted}
    queued = 0
    for schedule in session.scalars(
        select(SyncSchedule).where(
            SyncSchedule.plugin_id.in_({plugin_id for plugin_id, _ in streams}),
            SyncSchedule.next_run_at <= now,
        )
    ):
        if (schedule.plugin_id, schedule.stream) not in streams:
            continue
        kind, key = STREAM_WORK[schedule.stream]
        ledger.enqueue(session, schedule.plugin_id, kind, key)
        # A poll moves this again when it finishes; meanwhile do not queue it twice.
        schedule.next_run_at = now + dt.timedelta(seconds=schedule.interval_seconds)
        queued += 1
    return queued


def _queue_auth_probes(session: Session) -> int:
    waiting = session.scalars(
        select(Plugin).where(Plugin.state == PluginState.NEEDS_REAUTHORIZATION)
    ).all()
    queued = 0
    for plugin in waiting:
        has_probe = session.scalar(
            select(SyncWork.id).where(
                SyncWork.plugin_id == plugin.id,
                SyncWork.kind == WorkKind.CHECK_AUTH,
                SyncWork.state.in_([WorkState.PENDING, WorkState.RUNNING]),
            )
        )
        if has_probe is None:
            ledger.enqueue(session, plugin.id, WorkKind.CHECK_AUTH, delay=60)
            queued += 1
    return queued


def _plugins_to_kick(session: Session, now: dt.datetime) -> list[int]:
    """Plugins with work they may run now and nobody draining them."""
    lease = aliased(PluginLease)
    busy = exists().where(and_(lease.plugin_id == SyncWork.plugin_id, lease.lease_until >= now))
    waiting = Plugin.shadow_since.is_not(None) & SyncWork.kind.in_(SHADOW_WAITS)
    runnable = (Plugin.state.in_([PluginState.ACTIVE, PluginState.FAILING]) & ~waiting) | (
        (Plugin.state == PluginState.NEEDS_REAUTHORIZATION) & (SyncWork.kind == WorkKind.CHECK_AUTH)
    )
    return list(
        session.scalars(
            select(SyncWork.plugin_id)
            .join(Plugin, Plugin.id == SyncWork.plugin_id)
            .where(SyncWork.state == WorkState.PENDING, SyncWork.not_before <= now, ~busy, runnable)
            .distinct()
        )
    )
