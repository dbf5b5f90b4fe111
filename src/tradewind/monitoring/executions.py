"""Executions: every connector operation, recorded with its duration and outcome, and
the per-plugin success rate and latency that are charted from them."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from tradewind.connectors.http import Call
from tradewind.db import Base, UTCDateTime, utcnow


class Execution(Base):
    __tablename__ = "executions"
    __table_args__ = (Index("ix_executions_plugin_started", "plugin_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    operation: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[float] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(32))
    http_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text, default="")
    work_id: Mapped[int | None] = mapped_column(Integer)


def record_calls(
    session: Session, plugin_id: int, calls: Sequence[Call], work_id: int | None = None
) -> None:
    if not calls:
        return
    # The table's own insert, past the ORM's bulk machinery: every call is recorded.
    session.connection().execute(
        insert(cast(Table, Execution.__table__)),
        [
            {
                "plugin_id": plugin_id,
                "operation": call.operation,
                "started_at": call.started_at,
                "duration_ms": round(call.duration_ms, 2),
                "outcome": call.outcome,
                "http_status": call.http_status,
                "error": call.error,
                "work_id": work_id,
            }
            for call in calls
        ],
    )


@dataclass(frozen=True)
class HourStats:
    hour: dt.datetime
    calls: int
    successes: int
    p50_ms: float
    p95_ms: float

    @property
    def success_rate(self) -> float:
        return self.successes / self.calls if self.calls else 1.0


def hourly_stats(
    session: Session, plugin_id: int, *, since: dt.datetime, until: dt.datetime | None = None
) -> list[HourStats]:
    """Success rate and p50/p95 latency per hour for one plugin."""
    query = (
        select(Execution.started_at, Execution.duration_ms, Execution.outcome)
        .where(Execution.plugin_id == plugin_id, Execution.started_at >= since)
        .order_by(Execution.started_at)
    )
    if until is not None:
        query = query.where(Execution.started_at < until)
    buckets: dict[dt.datetime, list[tuple[float, bool]]] = {}
    for started, duration, outcome in session.execute(query):
        hour = started.replace(minute=0, second=0, microsecond=0)
        buckets.setdefault(hour, []).append((duration, outcome == "success"))
    return [
        HourStats(
            hour=hour,
            calls=len(rows),
            successes=sum(ok for _, ok in rows),
            p50_ms=_percentile([d for d, _ in rows], 50),
            p95_ms=_percentile([d for d, _ in rows], 95),
        )
        for hour, rows in sorted(buckets.items())
    ]


def _percentile(values: list[float], pct: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def recent(session: Session, plugin_id: int, *, limit: int = 100) -> list[Execution]:
    return list(
        session.scalars(
            select(Execution)
            .where(Execution.plugin_id == plugin_id)
            .order_by(Execution.id.desc())
            .limit(limit)
        )
    )


def list_executions(
    session: Session,
    *,
    plugin_id: int | None = None,
    outcome: str | None = None,
    before_id: int = 0,
    limit: int = 100,
) -> list[Execution]:
    """Newest first; ``before_id`` continues a previous page."""
    query = select(Execution).order_by(Execution.id.desc()).limit(limit)
    if plugin_id is not None:
        query = query.where(Execution.plugin_id == plugin_id)
    if outcome is not None:
        query = query.where(Execution.outcome == outcome)
    if before_id:
        query = query.where(Execution.id < before_id)
    return list(session.scalars(query))


# How the plugin page's outcome filter reads: "ok" is a success, "failed" anything else.
OUTCOMES = ("ok", "failed")


@dataclass(frozen=True)
class ExecutionFilter:
    """Which of a plugin's executions are shown: an outcome ("ok", "failed" or any) and an
    operation (or any), newest first, ``since`` bounding the summary's window."""

    plugin_id: int
    since: dt.datetime
    outcome: str = ""
    operation: str = ""

    def where(self) -> list[ColumnElement[bool]]:
        clauses = [Execution.plugin_id == self.plugin_id]
        if self.outcome == "ok":
            clauses.append(Execution.outcome == "success")
        elif self.outcome == "failed":
            clauses.append(Execution.outcome != "success")
        if self.operation:
            clauses.append(Execution.operation == self.operation)
        return clauses


@dataclass(frozen=True)
class Summary:
    calls: int
    failures: int
    p50_ms: float | None
    p95_ms: float | None


def page_of(
    session: Session, shown: ExecutionFilter, *, offset: int, limit: int
) -> tuple[list[Execution], int]:
    """One page of the filtered executions (any age, newest first) and how many match."""
    total = session.scalar(select(func.count()).select_from(Execution).where(*shown.where()))
    rows = session.scalars(
        select(Execution)
        .where(*shown.where())
        .order_by(Execution.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows), int(total or 0)


def summary(session: Session, shown: ExecutionFilter) -> Summary:
    """Calls, failures and p50/p95 duration of the filtered executions since ``since``."""
    rows = session.execute(
        select(Execution.duration_ms, Execution.outcome).where(
            *shown.where(), Execution.started_at >= shown.since
        )
    ).all()
    durations = [duration for duration, _ in rows]
    return Summary(
        calls=len(rows),
        failures=sum(1 for _, outcome in rows if outcome != "success"),
        p50_ms=_percentile(durations, 50) if durations else None,
        p95_ms=_percentile(durations, 95) if durations else None,
    )


def operations(session: Session, plugin_id: int) -> list[str]:
    """The operations a plugin has recorded, for the filter's list."""
    return list(
        session.scalars(
            select(Execution.operation)
            .where(Execution.plugin_id == plugin_id)
            .distinct()
            .order_by(Execution.operation)
        )
    )


def latest_runs(
    session: Session, plugin_id: int, names: Sequence[str], *, limit: int = 5
) -> dict[str, list[Execution]]:
    """The newest executions of each named action of a plugin: a template's hook or pull
    ``name`` records its calls as ``name.<step>``."""
    return {
        name: list(
            session.scalars(
                select(Execution)
                .where(
                    Execution.plugin_id == plugin_id,
                    Execution.operation.startswith(f"{name}.", autoescape=True),
                )
                .order_by(Execution.id.desc())
                .limit(limit)
            )
        )
        for name in names
    }


def purge(
    session: Session,
    *,
    success_days: int = 30,
    failure_days: int = 120,
    now: dt.datetime | None = None,
) -> int:
    """Drop executions past retention: successes after ``success_days``, the rest after
    ``failure_days``."""
    now = now or utcnow()
    removed = session.execute(
        delete(Execution).where(
            Execution.outcome == "success",
            Execution.started_at < now - dt.timedelta(days=success_days),
        )
    )
    removed_failures = session.execute(
        delete(Execution).where(
            Execution.outcome != "success",
            Execution.started_at < now - dt.timedelta(days=failure_days),
        )
    )
    return int(getattr(removed, "rowcount", 0) or 0) + int(
        getattr(removed_failures, "rowcount", 0) or 0
    )
