"""The sync ledger: due work as rows.

Huey is at-most-once, so the database holds what must be done; queue messages carry only a
plugin id ("drain plugin 12"), and a lost message, a flushed Redis or a killed worker only
delays work (the reconciler re-kicks it). Every function here runs inside the caller's
unit of work.

Work recorded in a transaction is written when it commits, all of it in one statement
sorted by (plugin, kind, key): webhooks, triggers and jobs add work to the same pending
rows, and two transactions that upserted them in different orders deadlocked.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import case, func, literal, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from tradewind.db import dialect_insert, prepared, run_last_writes, utcnow, write_last
from tradewind.events import DomainEvent, record
from tradewind.sync.models import PRIORITY, PluginLease, SyncWork, WorkKind, WorkState

LEASE_SECONDS = 60
# Kinds claimed together (and committed together), and how many at most.
BATCHES: dict[WorkKind, int] = {WorkKind.IMPORT_ORDER: 50, WorkKind.WEBHOOK: 50}


@dataclass(frozen=True)
class WorkQueued(DomainEvent):
    """Work for ``plugin_id`` is due at ``due`` (to the second): kick a drainer then."""

    name: ClassVar[str] = "sync.work_queued"
    plugin_id: int
    due: dt.datetime


def enqueue(
    session: Session,
    plugin_id: int,
    kind: WorkKind,
    key: str = "",
    *,
    delay: float = 0.0,
    payload: dict[str, Any] | None = None,
    priority: int | None = None,
) -> None:
    """Record due work. While a pending row for (plugin, kind, key) exists this keeps its
    earliest due time (leading edge: later changes never push it back, so latency stays
    bounded) and refreshes the payload (the fresher one, when payloads carry versions:
    ``fresher``)."""
    enqueue_many(session, plugin_id, kind, [key], delay=delay, payload=payload, priority=priority)


def _upsert(insert: Any) -> Any:
    """The upsert behind ``enqueue``: on the hot path of every webhook, so prepared once."""
    table = SyncWork.__table__
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=["plugin_id", "kind", "key"],
        index_where=text("state = 'pending'"),  # must match the partial index
        set_={
            "not_before": case(
                (statement.excluded.not_before < table.c.not_before, statement.excluded.not_before),
                else_=table.c.not_before,
            ),
            "payload": _fresher(table.c.payload, statement.excluded.payload),
            "updated_at": statement.excluded.updated_at,
        },
    )


# A payload may say which version of its subject it carries (``VERSION``: the platform's
# ``updated_at``, UTC ISO, and ``DIGEST``: of the state delivered): pending work then keeps
# the newest state whatever order deliveries arrive in. Two different states stamped
# with the same version cannot be told apart: the work becomes a re-read (``REREAD``),
# which nothing displaces. Payloads without a version: the latest one, as ever.
VERSION, DIGEST, REREAD = "version", "digest", "reread"
AMBIGUOUS: dict[str, Any] = {REREAD: "1"}


def _fresher(held: Any, new: Any) -> Any:
    """The SQL of ``fresher`` for the upsert: ``held`` is the pending row's payload."""
    held_v, new_v = held[VERSION].as_string(), new[VERSION].as_string()
    return case(
        (held[REREAD].as_string().is_not(None), held),
        (held_v.is_(None) | new_v.is_(None), new),
        (held_v > new_v, held),
        (held_v < new_v, new),
        (
            func.coalesce(held[DIGEST].as_string(), "")
            == func.coalesce(new[DIGEST].as_string(), ""),
            new,
        ),
        else_=literal(AMBIGUOUS, SyncWork.__table__.c.payload.type),
    )


def fresher(held: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Of two payloads for the same pending work, the one it keeps (see ``VERSION``)."""
    held_v, new_v = held.get(VERSION), new.get(VERSION)
    if held.get(REREAD) is not None:
        return held
    if held_v is None or new_v is None or held_v < new_v:
        return new
    if held_v > new_v:
        return held
    return new if held.get(DIGEST, "") == new.get(DIGEST, "") else dict(AMBIGUOUS)


def enqueue_many(
    session: Session,
    plugin_id: int,
    kind: WorkKind,
    keys: Sequence[str],
    *,
    delay: float = 0.0,
    payload: dict[str, Any] | None = None,
    priority: int | None = None,
) -> None:
    """``enqueue`` for many keys of one kind. The rows are written when the transaction
    commits (``_write_queued``), with every other row it queued, as one prepared
    ``executemany`` in one order; the same work queued twice meanwhile is one row (the
    earliest due time, the latest payload)."""
    if not keys:
        return
    now = utcnow()
    due = now + dt.timedelta(seconds=max(0.0, delay))
    rank = PRIORITY[kind] if priority is None else priority
    queued: dict[tuple[int, str, str], dict[str, Any]] = session.info.setdefault(_QUEUED, {})
    for key in keys:
        row = queued.get((plugin_id, kind.value, key))
        if row is not None:
            row.update(
                not_before=min(row["not_before"], due),
                payload=fresher(row["payload"], payload or {}),
            )
            continue
        queued[(plugin_id, kind.value, key)] = {
            "plugin_id": plugin_id,
            "kind": kind.value,
            "key": key,
            "state": WorkState.PENDING.value,
            "priority": rank,
            "not_before": due,
            "attempts": 0,
            "throttled": 0,
            "last_error": "",
            "payload": payload or {},
            "created_at": now,
            "updated_at": now,
        }
    write_last(session, _QUEUED, _write_queued)
    record(session, WorkQueued(plugin_id=plugin_id, due=due.replace(microsecond=0)))


_QUEUED = "tradewind.ledger.queued"


def _write_queued(session: Session) -> None:
    queued: dict[tuple[int, str, str], dict[str, Any]] = session.info.pop(_QUEUED, {})
    if queued:
        session.execute(
            prepared(session, "enqueue", _upsert), [queued[ident] for ident in sorted(queued)]
        )


def claim(
    session: Session,
    plugin_id: int,
    *,
    kinds: Iterable[WorkKind] | None = None,
    limit: int = 1,
    now: dt.datetime | None = None,
    lease_seconds: float = LEASE_SECONDS,
) -> tuple[str, list[SyncWork]]:
    """Take the plugin's next due work (highest priority, oldest first) and lease it.

    Some kinds travel in batches of the same kind (one claim, one commit for many rows):
    order re-reads and webhooks that are due, up to ``BATCHES[kind]``; and when the first
    due row is a stock push, every pending stock push of the plugin comes along (due or
    not), up to ``limit``, so they go out in the same batched calls instead of one call
    each as their windows end.
    """
    run_last_writes(session)  # work queued earlier in this transaction is claimable
    now = now or utcnow()
    base = select(SyncWork).where(
        SyncWork.plugin_id == plugin_id, SyncWork.state == WorkState.PENDING
    )
    if kinds is not None:
        base = base.where(SyncWork.kind.in_(list(kinds)))
    first = session.scalar(
        base.where(SyncWork.not_before <= now)
        .order_by(SyncWork.priority, SyncWork.not_before, SyncWork.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if first is None:
        return "", []
    rows = [first]
    size = limit if first.kind is WorkKind.PUSH_STOCK else BATCHES.get(first.kind, 1)
    if size > 1:
        more = base.where(SyncWork.kind == first.kind, SyncWork.id != first.id)
        if first.kind is not WorkKind.PUSH_STOCK:
            more = more.where(SyncWork.not_before <= now)
        rows += session.scalars(
            more.order_by(SyncWork.not_before, SyncWork.id)
            .limit(size - 1)
            .with_for_update(skip_locked=True)
        ).all()
    token = uuid.uuid4().hex
    until = now + dt.timedelta(seconds=lease_seconds)
    ids = [row.id for row in rows]
    # One UPDATE for the whole batch (a 5,000-product stock push is one statement), then
    # the loaded rows are told what it set.
    for start in range(0, len(ids), 5000):
        session.execute(
            update(SyncWork)
            .where(SyncWork.id.in_(ids[start : start + 5000]))
            .values(state=WorkState.RUNNING, lease_token=token, lease_until=until)
            .execution_options(synchronize_session=False)
        )
    for row in rows:
        set_committed_value(row, "state", WorkState.RUNNING)
        set_committed_value(row, "lease_token", token)
        set_committed_value(row, "lease_until", until)
    return token, rows


def complete(session: Session, work_ids: Sequence[int], token: str) -> int:
    """Mark leased work done; work whose lease was lost (taken over after expiry) is not
    touched, so each unit of work is completed once."""
    if not work_ids:
        return 0
    result = session.execute(
        update(SyncWork)
        .where(
            SyncWork.id.in_(list(work_ids)),
            SyncWork.lease_token == token,
            SyncWork.state == WorkState.RUNNING,
        )
        .values(
            state=WorkState.DONE,
            done_at=utcnow(),
            lease_token=None,
            lease_until=None,
        )  # last_error and attempts stay: the history of how it got done
    )
    return int(getattr(result, "rowcount", 0) or 0)


def retry_later(
    session: Session,
    work_ids: Sequence[int],
    token: str,
    *,
    delay: float,
    error: str,
    count_attempt: bool,
    throttled: bool | None = None,
) -> None:
    """Put leased work back as pending, due after ``delay`` seconds; a try not counted is
    counted as throttled unless ``throttled`` says otherwise.

    If new work for the same key was queued meanwhile, the pending twin already covers it
    and this row is closed instead (the twin carries the newer state).
    """
    run_last_writes(session)  # a twin queued earlier in this transaction counts
    due = utcnow() + dt.timedelta(seconds=delay)
    for row in session.scalars(
        select(SyncWork).where(
            SyncWork.id.in_(list(work_ids)),
            SyncWork.lease_token == token,
            SyncWork.state == WorkState.RUNNING,
        )
    ):
        _release(
            session,
            row,
            due=due,
            error=error,
            count_attempt=count_attempt,
            throttled=not count_attempt if throttled is None else throttled,
        )


def fail(session: Session, work_ids: Sequence[int], token: str, *, error: str) -> None:
    """Close leased work for good (the platform rejected it); the reason is kept."""
    session.execute(
        update(SyncWork)
        .where(
            SyncWork.id.in_(list(work_ids)),
            SyncWork.lease_token == token,
            SyncWork.state == WorkState.RUNNING,
        )
        .values(
            state=WorkState.FAILED,
            last_error=error[:2000],
            done_at=utcnow(),
            lease_token=None,
            lease_until=None,
        )
    )


def renew(session: Session, token: str, *, seconds: float = LEASE_SECONDS) -> None:
    session.execute(
        update(SyncWork)
        .where(SyncWork.lease_token == token, SyncWork.state == WorkState.RUNNING)
        .values(lease_until=utcnow() + dt.timedelta(seconds=seconds))
    )


def recover_stale(session: Session, *, now: dt.datetime | None = None) -> int:
    """Work left running by a worker that died goes back to pending (counted as an
    attempt, so a record that kills workers cannot loop forever unnoticed), in its place:
    due when it was due, so it runs before work queued after it."""
    run_last_writes(session)
    now = now or utcnow()
    stale = session.scalars(
        select(SyncWork)
        .where(SyncWork.state == WorkState.RUNNING, SyncWork.lease_until < now)
        .with_for_update(skip_locked=True)
    ).all()
    for row in stale:
        _release(
            session,
            row,
            due=min(row.not_before, now),
            error="the worker holding it stopped",
            count_attempt=True,
            throttled=False,
        )
    return len(stale)


def _release(
    session: Session,
    row: SyncWork,
    *,
    due: dt.datetime,
    error: str,
    count_attempt: bool,
    throttled: bool,
) -> None:
    twin = session.scalar(
        select(SyncWork.id).where(
            SyncWork.plugin_id == row.plugin_id,
            SyncWork.kind == row.kind,
            SyncWork.key == row.key,
            SyncWork.state == WorkState.PENDING,
        )
    )
    row.lease_token = None
    row.lease_until = None
    row.last_error = error[:2000]
    if twin is not None:
        row.state = WorkState.DONE
        row.done_at = utcnow()
        row.last_error = f"superseded by newer work #{twin}; {error}"[:2000]
        session.flush()
        return
    row.state = WorkState.PENDING
    row.not_before = due
    if count_attempt:
        row.attempts += 1
        row.throttled = 0
    if throttled:
        row.throttled += 1
    session.flush()
    record(session, WorkQueued(plugin_id=row.plugin_id, due=due.replace(microsecond=0)))


# ------------------------------------------------------------------------------- leases


def acquire_lease(session: Session, plugin_id: int, holder: str, *, seconds: float) -> bool:
    """Take the plugin's drain lease if it is free, expired, or already ours. A holder is
    one drain (never a process: its threads would all be "ours"), alive as long as it
    renews the lease (``renew_leases``)."""
    now = utcnow()
    insert = dialect_insert(session)(PluginLease.__table__).values(
        plugin_id=plugin_id, holder="", lease_until=now - dt.timedelta(seconds=1)
    )
    session.execute(insert.on_conflict_do_nothing(index_elements=["plugin_id"]))
    result = session.execute(
        update(PluginLease)
        .where(
            PluginLease.plugin_id == plugin_id,
            (PluginLease.lease_until < now) | (PluginLease.holder == holder),
        )
        .values(holder=holder, lease_until=now + dt.timedelta(seconds=seconds))
    )
    return bool(getattr(result, "rowcount", 0))


def renew_leases(
    session: Session, holders: Sequence[str], tokens: Sequence[str], *, seconds: float
) -> set[str]:
    """The heartbeat of a live worker: extend the plugin leases of ``holders`` and the
    claimed work of ``tokens``; returns the holders that still held their lease."""
    until = utcnow() + dt.timedelta(seconds=seconds)
    held = set(
        session.scalars(
            update(PluginLease)
            .where(PluginLease.holder.in_(sorted(holders)))
            .values(lease_until=until)
            .returning(PluginLease.holder)
        )
    )
    if tokens:
        session.execute(
            update(SyncWork)
            .where(SyncWork.lease_token.in_(sorted(tokens)), SyncWork.state == WorkState.RUNNING)
            .values(lease_until=until)
            .execution_options(synchronize_session=False)
        )
    return held


def release_lease(session: Session, plugin_id: int, holder: str) -> None:
    session.execute(
        update(PluginLease)
        .where(PluginLease.plugin_id == plugin_id, PluginLease.holder == holder)
        .values(holder="", lease_until=utcnow() - dt.timedelta(seconds=1))
    )


# ------------------------------------------------------------------------------ reading


def next_due(
    session: Session, plugin_id: int, kinds: Iterable[WorkKind] | None = None
) -> dt.datetime | None:
    run_last_writes(session)
    query = select(func.min(SyncWork.not_before)).where(
        SyncWork.plugin_id == plugin_id, SyncWork.state == WorkState.PENDING
    )
    if kinds is not None:
        query = query.where(SyncWork.kind.in_(list(kinds)))
    return session.scalar(query)


def depth(session: Session, plugin_id: int | None = None) -> dict[WorkKind, int]:
    """Pending work per kind (the queue depth shown on the dashboard)."""
    run_last_writes(session)
    query = (
        select(SyncWork.kind, func.count())
        .where(SyncWork.state == WorkState.PENDING)
        .group_by(SyncWork.kind)
    )
    if plugin_id is not None:
        query = query.where(SyncWork.plugin_id == plugin_id)
    return {kind: count for kind, count in session.execute(query)}
