"""The gap report: per plugin and day, the platform's orders of that day (from its list
API) against what Tradewind holds and decided — imported, skipped with the reason,
failed, waiting, and **missing**: orders the plugin's rules would import that Tradewind
has neither imported nor decided anything about (a webhook dropped and no poll caught
it). A missing order is a finding, with a re-read of exactly those orders one call away;
a day with missing orders raises a notification. Runs daily for the day before, and on
demand for any day."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tradewind.connectors.records import OrderRecord
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.db import Base, UTCDateTime, utcnow
from tradewind.errors import Invalid
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync import ledger
from tradewind.sync.decisions import Decision, ImportDecision
from tradewind.sync.models import WorkKind
from tradewind.sync.orders import skip_reason

MAX_LISTED = 1000  # missing ids kept per report (the count is always whole)


class GapReport(Base):
    __tablename__ = "gap_reports"
    __table_args__ = (UniqueConstraint("plugin_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    ran_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    on_platform: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    waiting: Mapped[int] = mapped_column(Integer, default=0)
    missing: Mapped[int] = mapped_column(Integer, default=0)
    # reason code → count, for the skipped (by a decision or by the rules now)
    reasons: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # [{"id", "number", "placed_at"}] of the missing orders (up to MAX_LISTED)
    missing_orders: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


def window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


def record_report(
    session: Session, plugin_id: int, day: dt.date, records: Sequence[OrderRecord]
) -> GapReport:
    """Compare the day's orders on the platform with Tradewind's, and keep the report
    (a report of the same day is replaced)."""
    plugin = plugins.get_plugin(session, plugin_id)
    rules = plugins.import_rules(plugin)
    ids = sorted({record.external_id for record in records})
    held = set(
        session.scalars(
            select(Order.external_id).where(
                Order.plugin_id == plugin_id, Order.external_id.in_(ids)
            )
        )
    )
    decided = {
        decision.external_id: decision
        for decision in session.scalars(
            select(ImportDecision).where(
                ImportDecision.plugin_id == plugin_id, ImportDecision.external_id.in_(ids)
            )
        )
    }
    counts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    missing: list[OrderRecord] = []
    for record in {r.external_id: r for r in records}.values():
        decision = decided.get(record.external_id)
        if record.external_id in held:
            counts["imported"] += 1
        elif decision is not None and decision.decision is Decision.SKIPPED:
            counts["skipped"] += 1
            reasons[decision.code] += 1
        elif decision is not None and decision.decision is Decision.FAILED:
            counts["failed"] += 1
        elif decision is not None and decision.decision is Decision.DEFERRED:
            counts["waiting"] += 1
        elif record.origin_ref:
            counts["imported"] += 1  # made in Tradewind: held as its own order
        elif (skip := skip_reason(plugin, rules, record, backfill=False)) is not None:
            if skip.deferred:  # held on the platform: it comes once released
                counts["waiting"] += 1
            else:  # never seen, and the rules skip it anyway
                counts["skipped"] += 1
                reasons[skip.code] += 1
        else:
            missing.append(record)
    report = session.scalar(
        select(GapReport).where(GapReport.plugin_id == plugin_id, GapReport.day == day)
    )
    if report is None:
        report = GapReport(plugin_id=plugin_id, day=day)
        session.add(report)
    report.ran_at = utcnow()
    report.on_platform = len({r.external_id for r in records})
    report.imported, report.skipped = counts["imported"], counts["skipped"]
    report.failed, report.waiting, report.missing = (
        counts["failed"],
        counts["waiting"],
        len(missing),
    )
    report.reasons = dict(reasons)
    report.missing_orders = [
        {"id": r.external_id, "number": r.number, "placed_at": r.placed_at.isoformat()}
        for r in sorted(missing, key=lambda r: r.placed_at)[:MAX_LISTED]
    ]
    subject = f"orders of {day.isoformat()}"
    if missing:
        numbers = ", ".join(r.number for r in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        notifications.raise_notification(
            session,
            NotificationKind.ORDERS_MISSING,
            plugin_id=plugin_id,
            subject=subject,
            message=(
                f"{len(missing)} order(s) placed on {plugin.name} on {day.isoformat()} "
                f"({numbers}{more}) are not in Tradewind and no sync ever saw them. "
                "Import exactly those from the plugin's gap report."
            ),
        )
    else:
        notifications.resolve(
            session, NotificationKind.ORDERS_MISSING, plugin_id=plugin_id, subject=subject
        )
    session.flush()
    return report


def request_report(session: Session, plugin_id: int, day: dt.date) -> None:
    """Have the day's report made now, as the plugin's work (a day to come is refused)."""
    if day > utcnow().date():
        raise Invalid(f"{day} has not happened yet", fields={"day": "today or earlier"})
    plugins.get_plugin(session, plugin_id)
    ledger.enqueue(session, plugin_id, WorkKind.GAP_REPORT, day.isoformat())


def import_missing(session: Session, plugin_id: int, day: dt.date) -> int:
    """Re-read exactly the missing orders of the day's report; how many were queued."""
    report = session.scalar(
        select(GapReport).where(GapReport.plugin_id == plugin_id, GapReport.day == day)
    )
    if report is None or not report.missing_orders:
        return 0
    ids = [str(found["id"]) for found in report.missing_orders]
    ledger.enqueue_many(session, plugin_id, WorkKind.IMPORT_ORDER, ids)
    return len(ids)


def reports(session: Session, plugin_id: int, limit: int = 31) -> list[GapReport]:
    return list(
        session.scalars(
            select(GapReport)
            .where(GapReport.plugin_id == plugin_id)
            .order_by(GapReport.day.desc())
            .limit(limit)
        )
    )
