"""Import decisions: for every external order a sync sees — by webhook, poll, probe,
backfill or the doctor — what Tradewind decided (imported, updated, unchanged, skipped,
failed, deferred), why, as a stable code with its sentence, and the fix. "Why didn't
order X import?" is then answered from the record, not from memory.

Only the latest decision per order is kept in ``import_decisions``; a change of decision
(or of its reason) also goes to ``import_decision_history``, so an order re-read a
hundred times unchanged writes one history row, not a hundred. Retention keeps both
bounded: history older than ``HISTORY_DAYS`` goes, and so do latest decisions older than
``UNIMPORTED_DAYS`` of orders that never became a Tradewind order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, delete, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tradewind.db import Base, UTCDateTime, str_enum, utcnow
from tradewind.sync.models import WorkKind

HISTORY_DAYS = 30
UNIMPORTED_DAYS = 90


class Decision(StrEnum):
    IMPORTED = "imported"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"
    DEFERRED = "deferred"
    # Seen by a plugin in shadow: it would import the order, and created nothing.
    WOULD_IMPORT = "would_import"


class SeenBy(StrEnum):
    """The path by which the order was seen."""

    WEBHOOK = "webhook"  # a re-read named by a webhook (or asked for by id)
    POLL = "poll"
    PROBE = "probe"
    BACKFILL = "backfill"
    DOCTOR = "doctor"


PATHS: dict[WorkKind, SeenBy] = {
    WorkKind.IMPORT_ORDER: SeenBy.WEBHOOK,
    WorkKind.POLL_ORDERS: SeenBy.POLL,
    WorkKind.PROBE_ORDERS: SeenBy.PROBE,
    WorkKind.BACKFILL: SeenBy.BACKFILL,
}

# The fix of each reason, by the code's stem (before ``:``).
FIXES: dict[str, str] = {
    "toggle_off": "Switch Import Orders on for the plugin.",
    "import_conflict": "Attach the plugin to exactly one channel.",
    "placed_before_enabled": (
        "Run Sync historical orders over the day it was placed, or add it with the order wizard."
    ),
    "status_not_imported": "Add the status to the plugin's imported statuses, if wanted.",
    "fulfillment_not_imported": "Add the fulfilment status to the imported ones, if wanted.",
    "unpaid": "Wait for the payment, or switch Ignore financial status on.",
    "held_for_review": "Release the hold on the platform; Tradewind imports it by itself.",
    "test_order": "Switch Import test orders on, if test orders should import.",
    "pos_skipped": "Set POS orders to import, if wanted.",
    "other_location": "Choose no single location, or the order's, in the import rules.",
    "made_here": "None needed: the order was made in Tradewind and is held there already.",
    "rejected": "Fix what the message names on the platform or in Tradewind, then sync now.",
    "missing_product": "Map the SKU to a product.",
    "missing_customer_fields": "Fill in the customer's missing fields.",
    "rate_limited": "None needed: Tradewind retries once the platform's limit allows.",
    "auth_failed": "Reauthorize the plugin.",
    "platform_error": "None needed: Tradewind retries; if it goes on, check the platform.",
    "shadow": "Go live on the plugin page: orders placed from then on import.",
}


def fix_for(code: str) -> str:
    return FIXES.get(code.partition(":")[0], "")


class ImportDecision(Base):
    """The latest decision about one external order of a plugin."""

    __tablename__ = "import_decisions"
    __table_args__ = (
        UniqueConstraint("plugin_id", "external_id"),
        Index("ix_import_decisions_plugin_number", "plugin_id", "number"),
        Index("ix_import_decisions_seen", "seen_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    number: Mapped[str] = mapped_column(String(64), default="")
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    path: Mapped[SeenBy] = mapped_column(str_enum(SeenBy))
    decision: Mapped[Decision] = mapped_column(str_enum(Decision))
    code: Mapped[str] = mapped_column(String(160), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))


class DecisionHistory(Base):
    """An earlier (or the current) decision about an order, kept while it is recent."""

    __tablename__ = "import_decision_history"
    __table_args__ = (
        Index("ix_import_decision_history_order", "plugin_id", "external_id", "id"),
        Index("ix_import_decision_history_seen", "seen_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    path: Mapped[SeenBy] = mapped_column(str_enum(SeenBy))
    decision: Mapped[Decision] = mapped_column(str_enum(Decision))
    code: Mapped[str] = mapped_column(String(160), default="")
    reason: Mapped[str] = mapped_column(Text, default="")


@dataclass(frozen=True, slots=True)
class Seen:
    """One decision to record."""

    external_id: str
    number: str
    path: SeenBy
    decision: Decision
    code: str = ""
    reason: str = ""
    order_id: int | None = None


def record(session: Session, plugin_id: int, seen: Seen) -> None:
    """Keep ``seen`` as the order's latest decision (and in the history when the
    decision or its reason changed)."""
    record_many(session, plugin_id, [seen])


def record_many(session: Session, plugin_id: int, seen: Sequence[Seen]) -> None:
    """``record`` for a page of orders: one read of their latest decisions, the new
    ones and the history written in one statement each (the last of an order's wins)."""
    wanted = {item.external_id[:128]: item for item in seen}
    if not wanted:
        return
    found = {
        decision.external_id: decision
        for decision in session.scalars(
            select(ImportDecision).where(
                ImportDecision.plugin_id == plugin_id,
                ImportDecision.external_id.in_(sorted(wanted)),
            )
        )
    }
    now = utcnow()
    new: list[dict[str, object]] = []
    history: list[dict[str, object]] = []
    for external_id, item in wanted.items():
        row = {
            "plugin_id": plugin_id,
            "external_id": external_id,
            "seen_at": now,
            "path": item.path,
            "decision": item.decision,
            "code": item.code[:160],
            "reason": item.reason,
        }
        known = found.get(external_id)
        if known is None:
            new.append({**row, "number": item.number[:64], "order_id": item.order_id})
            history.append(row)
            continue
        if (known.decision, known.code) != (item.decision, item.code):
            history.append(row)
        known.number = item.number[:64] or known.number
        known.seen_at, known.path, known.decision = now, item.path, item.decision
        known.code, known.reason = item.code[:160], item.reason
        if item.order_id is not None:
            known.order_id = item.order_id
    if new:
        session.execute(insert(ImportDecision), new)
    if history:
        session.execute(insert(DecisionHistory), history)


def latest(session: Session, plugin_id: int, order: str) -> ImportDecision | None:
    """The latest decision about ``order`` (its platform id, or its number with or
    without ``#``)."""
    by_id = session.scalar(
        select(ImportDecision).where(
            ImportDecision.plugin_id == plugin_id, ImportDecision.external_id == order
        )
    )
    if by_id is not None:
        return by_id
    numbers = {order, order.lstrip("#"), f"#{order.lstrip('#')}"}
    return session.scalar(
        select(ImportDecision)
        .where(ImportDecision.plugin_id == plugin_id, ImportDecision.number.in_(sorted(numbers)))
        .order_by(ImportDecision.seen_at.desc())
        .limit(1)
    )


def history(session: Session, plugin_id: int, external_id: str) -> list[DecisionHistory]:
    return list(
        session.scalars(
            select(DecisionHistory)
            .where(
                DecisionHistory.plugin_id == plugin_id,
                DecisionHistory.external_id == external_id,
            )
            .order_by(DecisionHistory.id)
        )
    )


def recent(
    session: Session,
    plugin_id: int,
    *,
    decision: Decision | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[ImportDecision]:
    query = select(ImportDecision).where(ImportDecision.plugin_id == plugin_id)
    if decision is not None:
        query = query.where(ImportDecision.decision == decision)
    if before_id is not None:
        query = query.where(ImportDecision.id < before_id)
    return list(session.scalars(query.order_by(ImportDecision.id.desc()).limit(limit)))


def waiting(
    session: Session, plugin_id: int, codes: Collection[str], limit: int = 100
) -> list[str]:
    """The external ids of orders deferred for one of ``codes``, longest waiting first."""
    return list(
        session.scalars(
            select(ImportDecision.external_id)
            .where(
                ImportDecision.plugin_id == plugin_id,
                ImportDecision.decision == Decision.DEFERRED,
                ImportDecision.code.in_(sorted(codes)),
            )
            .order_by(ImportDecision.seen_at)
            .limit(limit)
        )
    )


def prune(session: Session, now: dt.datetime | None = None) -> tuple[int, int]:
    """Retention: history older than ``HISTORY_DAYS``; latest decisions older than
    ``UNIMPORTED_DAYS`` about orders that are not Tradewind orders. Returns the rows
    removed (history, latest)."""
    now = now or utcnow()
    gone_history = session.execute(
        delete(DecisionHistory).where(
            DecisionHistory.seen_at < now - dt.timedelta(days=HISTORY_DAYS)
        )
    )
    gone_latest = session.execute(
        delete(ImportDecision).where(
            ImportDecision.seen_at < now - dt.timedelta(days=UNIMPORTED_DAYS),
            ImportDecision.order_id.is_(None),
        )
    )
    return int(getattr(gone_history, "rowcount", 0) or 0), int(
        getattr(gone_latest, "rowcount", 0) or 0
    )
