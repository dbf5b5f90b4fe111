"""The order doctor as a person asks for it (the CLI, the API, the UI): "why didn't order X
import?" It reads the order live from the platform through the plugin (by its id, or by
its number: from what Tradewind already knows of it, else from the platform's recent
orders), gathers what Tradewind holds about the plugin and the order, and hands both to
the checks (``tradewind.sync.doctor``). What it would decide now is kept as the order's
decision (path ``doctor``); nothing is imported. The offered action can be carried out
here where it is safe (switch Import Orders on, sync the order now, backfill its day).

Like the shipping calls, it runs outside any transaction, waits out a short rate limit,
and turns refused credentials into needs-reauthorization — and then still answers from
the local checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import partial
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.app import actions
from tradewind.app.calls import patiently
from tradewind.app.schemas import DecisionChangeOut
from tradewind.connectors.base import Capability, ImportsOrders
from tradewind.connectors.errors import AuthFailed, ConnectorError, RateLimited, Rejected
from tradewind.connectors.ratelimit import Priority
from tradewind.connectors.records import OrderQuery, OrderRecord
from tradewind.connectors.registry import UnknownConnector
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin, PluginState
from tradewind.db import utcnow
from tradewind.errors import Invalid, TradewindError
from tradewind.hub import Hub
from tradewind.monitoring import executions, notifications
from tradewind.monitoring.executions import record_calls
from tradewind.sync import decisions, ledger
from tradewind.sync import doctor as checks
from tradewind.sync.doctor import ActionKind, CheckName, Diagnosis, Result
from tradewind.sync.doctor_facts import Call, Earlier, Facts, Live, Notice, Reading, Work
from tradewind.sync.drain import authorization_lost
from tradewind.sync.models import SyncWork, WorkKind
from tradewind.sync.runtime import CallBuffer, open_connector
from tradewind.vault import VaultError
from tradewind.vocabulary import Toggle

# How long the doctor waits for the platform's rate limit before answering without it.
PATIENCE_SECONDS = 5.0
# A number (rather than an id) is looked for among the orders placed this recently: inside
# the window platforms list without extra permission (Shopify: 60 days without
# read_all_orders), so the search itself is never refused.
SEARCH_DAYS = 59
SEARCH_PAGES = 20
RECENT_CALLS = 200
T = TypeVar("T")


def askable(hub: Hub, candidates: Sequence[Plugin]) -> list[Plugin]:
    """Of ``candidates``, the plugins whose connector imports orders (those the doctor
    can be asked about, whether or not Import Orders is on)."""
    found = []
    for plugin in candidates:
        try:
            if Capability.IMPORT_ORDERS in hub.info_for(plugin).capabilities:
                found.append(plugin)
        except UnknownConnector:
            continue
    return found


def store_of(plugin: Plugin) -> str:
    """The platform account the plugin reaches, as a merchant names it."""
    return plugin.remote_account or plugin.name


def _numbers(order: str) -> set[str]:
    bare = order.strip().lstrip("#")
    return {order.strip(), bare, f"#{bare}"}


def _patiently(use: Callable[[], T]) -> T:
    return patiently(use, PATIENCE_SECONDS)


def _known_id(session: Session, plugin_id: int, order: str) -> tuple[str, str]:
    """(external id, number) of ``order`` as Tradewind already knows it, or ("", "")."""
    found = session.execute(
        select(Order.external_id, Order.number).where(
            Order.plugin_id == plugin_id, Order.number.in_(sorted(_numbers(order)))
        )
    ).first()
    if found is not None and found[0]:
        return str(found[0]), str(found[1])
    decision = decisions.latest(session, plugin_id, order.strip()[:128])
    if decision is not None:
        return decision.external_id, decision.number
    return "", ""


def _search(connector: ImportsOrders, order: str) -> OrderRecord | None:
    """The order numbered ``order`` among the platform's recent orders."""
    wanted = _numbers(order)
    query = OrderQuery(field="created_at", since=utcnow() - dt.timedelta(days=SEARCH_DAYS))
    cursor: str | None = None
    for _ in range(SEARCH_PAGES):
        page = _patiently(partial(connector.list_orders, query, cursor, Priority.LIVE))
        for record in page.records:
            if record.number in wanted:
                return record
        cursor = page.next_cursor
        if cursor is None:
            break
    return None


def _read(hub: Hub, plugin: Plugin, order: str, known: str) -> Live:
    """The order as the platform holds it now (or why that could not be known)."""
    if plugin.state in (PluginState.NEEDS_REAUTHORIZATION, PluginState.CREDENTIALS_UNREADABLE):
        return Live(Reading.NOT_ASKED, error="the plugin waits for reauthorization")
    calls = CallBuffer()
    try:
        connector = open_connector(hub, plugin, calls)
    except (TradewindError, VaultError, ConnectorError) as exc:
        return Live(Reading.FAILED, error=str(exc))
    try:
        if not isinstance(connector, ImportsOrders):
            return Live(Reading.FAILED, error=f"the {plugin.connector} connector reads no orders")
        record: OrderRecord | None = None
        for candidate in dict.fromkeys(id_ for id_ in (known, order.strip()) if id_):
            try:
                record = _patiently(partial(connector.get_order, candidate))
            except Rejected:  # what was typed is no id of this platform: a number, then
                if candidate == known:
                    raise
                record = None
            if record is not None:
                break
        if record is None and not known:
            record = _search(connector, order)
        return Live(Reading.FOUND, record) if record else Live(Reading.NOT_FOUND)
    except AuthFailed as exc:
        with hub.db.unit_of_work() as session:
            authorization_lost(session, plugin.id, str(exc))
        return Live(Reading.AUTH_FAILED, error=str(exc))
    except RateLimited as exc:
        return Live(Reading.FAILED, error=f"the platform's rate limit: {exc}")
    except (ConnectorError, TradewindError) as exc:
        return Live(Reading.FAILED, error=str(exc))
    except Exception as exc:  # a broken connector is the platform's problem, not ours
        return Live(Reading.FAILED, error=f"the connector failed: {type(exc).__name__}: {exc}")
    finally:
        connector.close()
        with hub.db.unit_of_work() as session:
            record_calls(session, plugin.id, calls.take())


def _rereads(session: Session, plugin_id: int, external_id: str) -> list[Work]:
    if not external_id:
        return []
    rows = session.scalars(
        select(SyncWork)
        .where(
            SyncWork.plugin_id == plugin_id,
            SyncWork.kind == WorkKind.IMPORT_ORDER,
            SyncWork.key == external_id[:128],
        )
        .order_by(SyncWork.id.desc())
        .limit(10)
    )
    return [
        Work(row.id, row.state.value, row.attempts, row.last_error, row.not_before) for row in rows
    ]


def _by_a_sync(session: Session, latest: decisions.ImportDecision | None) -> Earlier | None:
    """The latest decision a sync made (the doctor's own, from an earlier run, says only
    what the doctor thought)."""
    if latest is None or latest.path is not decisions.SeenBy.DOCTOR:
        return _earlier(latest) if latest is not None else None
    earlier = decisions.history(session, latest.plugin_id, latest.external_id)
    synced = [e for e in earlier if e.path is not decisions.SeenBy.DOCTOR]
    return _earlier(synced[-1]) if synced else None


def _earlier(found: decisions.ImportDecision | decisions.DecisionHistory) -> Earlier:
    return Earlier(found.seen_at, found.path.value, found.decision, found.code, found.reason)


def diagnose(hub: Hub, plugin_id: int, order: str) -> Diagnosis:
    """Why ``order`` (its id on the platform, or its number) did or did not import
    through the plugin: every check, the verdict and the action."""
    order = order.strip()
    if not order:
        raise Invalid("name the order: its number on the platform, or its id")
    with hub.db.read() as session:
        plugin = plugins.get_plugin(session, plugin_id)
        known, number = _known_id(session, plugin_id, order)
    live = _read(hub, plugin, order, known)
    record = live.record
    external_id = record.external_id if record is not None else known
    with hub.db.read() as session:
        plugin = plugins.get_plugin(session, plugin_id)  # as the read left it
        latest = decisions.latest(session, plugin_id, external_id or order)
        held = (
            session.scalar(
                select(Order).where(Order.plugin_id == plugin_id, Order.external_id == external_id)
            )
            if external_id
            else None
        )
        facts = Facts(
            asked=order,
            store=store_of(plugin),
            plugin=plugin,
            conflict=plugins.import_conflict(session, plugin),
            live=live,
            external_id=external_id,
            number=record.number if record is not None else number,
            notices=[
                Notice(n.kind, n.subject, n.message)
                for n in notifications.open_notifications(session, plugin_id=plugin_id)
            ],
            decision=_by_a_sync(session, latest),
            history=[
                _earlier(e) for e in decisions.history(session, plugin_id, latest.external_id)[-10:]
            ]
            if latest is not None
            else [],
            calls=[
                Call(e.started_at, e.operation, e.outcome, e.error, e.work_id)
                for e in executions.recent(session, plugin_id, limit=RECENT_CALLS)
            ],
            work=_rereads(session, plugin_id, external_id),
            imported=(held.id, held.number) if held is not None else None,
        )
    diagnosis = checks.diagnose(facts, utcnow())
    if record is not None and diagnosis.would is not None:
        decision, code, reason = diagnosis.would
        with hub.db.unit_of_work() as session:
            decisions.record(
                session,
                plugin_id,
                decisions.Seen(
                    external_id=record.external_id,
                    number=record.number,
                    path=decisions.SeenBy.DOCTOR,
                    decision=decision,
                    code=code,
                    reason=reason,
                    order_id=diagnosis.order_id,
                ),
            )
    return diagnosis


def apply(hub: Hub, plugin_id: int, order: str, kind: ActionKind) -> str:
    """Carry out the action the doctor offers for ``order`` now, when it is ``kind`` and
    safe; returns what was done. The diagnosis is made again: the action is the one the
    facts call for now, never one a client made up."""
    diagnosis = diagnose(hub, plugin_id, order)
    action = diagnosis.action
    if action.kind is not kind:
        raise Invalid(
            f"the doctor offers {action.kind.value} for order {order} now, not {kind.value}: "
            f"{diagnosis.verdict}"
        )
    if not action.safe:
        raise Invalid(f"{kind.value} is done by a person: {action.does}")
    if kind is ActionKind.SWITCH_ON_IMPORT_ORDERS:
        with hub.db.unit_of_work() as session:
            plugin = plugins.get_plugin(session, plugin_id)
            plugins.set_toggle(session, hub.info_for(plugin), plugin_id, Toggle.IMPORT_ORDERS, True)
            if diagnosis.external_id:
                ledger.enqueue(session, plugin_id, WorkKind.IMPORT_ORDER, diagnosis.external_id)
        return "Import Orders is on; the order is read again."
    if kind is ActionKind.BACKFILL:
        if action.start is None or action.end is None:
            raise Invalid("the backfill has no range")
        run = actions.start_backfill(hub, plugin_id, action.start, min(action.end, utcnow()))
        return f"Sync historical orders {action.start:%Y-%m-%d} started (backfill {run.id})."
    if not diagnosis.external_id:
        raise Invalid(f"the platform's id of order {order} is not known; use Sync now")
    with hub.db.unit_of_work() as session:
        ledger.enqueue(session, plugin_id, WorkKind.IMPORT_ORDER, diagnosis.external_id)
    return f"Order {diagnosis.number or order} is read again now."


# ------------------------------------------------------------------ as the faces show it


class CheckOut(BaseModel):
    name: CheckName
    title: str
    result: Result
    evidence: str


class ActionOut(BaseModel):
    kind: ActionKind
    label: str
    does: str
    safe: bool  # the faces carry it out (POST …/doctor); the rest open a page
    start: dt.datetime | None = None  # backfill: the range [start, end)
    end: dt.datetime | None = None
    sku: str = ""


class DiagnosisOut(BaseModel):
    plugin_id: int
    plugin: str
    platform: str
    store: str
    order: str  # as asked
    external_id: str
    number: str
    placed_at: dt.datetime | None
    found: bool | None  # on the platform; None when it could not be asked
    order_id: int | None  # the Tradewind order, once imported
    checks: list[CheckOut]
    verdict: str
    action: ActionOut
    history: list[DecisionChangeOut]  # the order's recent changes of decision, oldest first
    support_details: str
    at: dt.datetime

    @classmethod
    def of(cls, diagnosis: Diagnosis) -> DiagnosisOut:
        action = diagnosis.action
        return cls(
            plugin_id=diagnosis.plugin_id,
            plugin=diagnosis.plugin_name,
            platform=diagnosis.platform,
            store=diagnosis.store,
            order=diagnosis.asked,
            external_id=diagnosis.external_id,
            number=diagnosis.number,
            placed_at=diagnosis.placed_at,
            found=diagnosis.found,
            order_id=diagnosis.order_id,
            checks=[
                CheckOut(name=c.name, title=c.title, result=c.result, evidence=c.evidence)
                for c in diagnosis.checks
            ],
            verdict=diagnosis.verdict,
            action=ActionOut(
                kind=action.kind,
                label=action.label,
                does=action.does,
                safe=action.safe,
                start=action.start,
                end=action.end,
                sku=action.sku,
            ),
            history=[DecisionChangeOut.model_validate(e) for e in diagnosis.history],
            support_details=diagnosis.support_details(),
            at=diagnosis.at,
        )
