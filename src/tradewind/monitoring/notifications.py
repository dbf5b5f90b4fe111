"""Notifications: typed problems a person must see, each with what to do about it.

A notification is de-duplicated by (kind, plugin, subject): raising the same problem
again counts an occurrence on the open notification instead of adding another. It is
resolved automatically when its cause clears (``resolve``); if the cause comes back, the
same notification reopens (unread, one more occurrence), so a problem that comes and goes
is one notice with its history, not a new one each time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, cast

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from tradewind.db import Base, UTCDateTime, prepared, str_enum, utcnow


class NotificationKind(StrEnum):
    MISSING_PRODUCT = "missing_product"
    MISSING_CUSTOMER_FIELDS = "missing_customer_fields"
    RATE_LIMITED = "rate_limited"
    AUTHORIZATION_LOST = "authorization_lost"
    IMPORT_CONFLICT = "import_conflict"
    PLATFORM_UNAVAILABLE = "platform_unavailable"
    WEBHOOKS_MISSING = "webhooks_missing"
    RECORD_REJECTED = "record_rejected"
    CONFIGURATION = "configuration"
    CREDENTIALS_UNREADABLE = "credentials_unreadable"
    ORDERS_MISSING = "orders_missing"
    WEBHOOKS_SILENT = "webhooks_silent"
    AUTHORIZATION_EXPIRING = "authorization_expiring"
    WEBHOOK_DELIVERY_FAILED = "webhook_delivery_failed"
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint_disabled"
    PRIVACY_REQUEST = "privacy_request"


class Action(StrEnum):
    """The fix a notification offers."""

    MAP_PRODUCT = "map_product"
    EDIT_CUSTOMER = "edit_customer"
    WAIT = "wait"
    REAUTHORIZE = "reauthorize"
    FIX_CHANNELS = "fix_channels"
    RETRY = "retry"
    OPEN_PLUGIN = "open_plugin"
    OPEN_WEBHOOKS = "open_webhooks"


@dataclass(frozen=True, slots=True)
class KindInfo:
    title: str
    action: Action


KINDS: MappingProxyType[NotificationKind, KindInfo] = MappingProxyType(
    {
        NotificationKind.MISSING_PRODUCT: KindInfo("Missing product", Action.MAP_PRODUCT),
        NotificationKind.MISSING_CUSTOMER_FIELDS: KindInfo(
            "Missing customer fields", Action.EDIT_CUSTOMER
        ),
        NotificationKind.RATE_LIMITED: KindInfo("API rate limit", Action.WAIT),
        NotificationKind.AUTHORIZATION_LOST: KindInfo("Authorization lost", Action.REAUTHORIZE),
        NotificationKind.IMPORT_CONFLICT: KindInfo("Order import conflict", Action.FIX_CHANNELS),
        NotificationKind.PLATFORM_UNAVAILABLE: KindInfo("Platform unavailable", Action.RETRY),
        NotificationKind.WEBHOOKS_MISSING: KindInfo("Webhooks missing", Action.OPEN_PLUGIN),
        NotificationKind.RECORD_REJECTED: KindInfo("Record rejected", Action.RETRY),
        NotificationKind.CONFIGURATION: KindInfo("Configuration needed", Action.OPEN_PLUGIN),
        NotificationKind.CREDENTIALS_UNREADABLE: KindInfo(
            "Credentials cannot be decrypted", Action.OPEN_PLUGIN
        ),
        NotificationKind.ORDERS_MISSING: KindInfo("Orders missing", Action.OPEN_PLUGIN),
        NotificationKind.WEBHOOKS_SILENT: KindInfo("Webhooks silent", Action.OPEN_PLUGIN),
        NotificationKind.AUTHORIZATION_EXPIRING: KindInfo(
            "Authorization ending", Action.REAUTHORIZE
        ),
        NotificationKind.WEBHOOK_DELIVERY_FAILED: KindInfo(
            "Webhook delivery failed", Action.OPEN_WEBHOOKS
        ),
        NotificationKind.WEBHOOK_ENDPOINT_DISABLED: KindInfo(
            "Webhook endpoint disabled", Action.OPEN_WEBHOOKS
        ),
        NotificationKind.PRIVACY_REQUEST: KindInfo("Customer data request", Action.OPEN_PLUGIN),
    }
)


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # One open notification per (kind, plugin, subject).
        Index(
            "uq_notifications_open",
            "dedupe_key",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
        Index("ix_notifications_dedupe_key", "dedupe_key"),  # to reopen a resolved one
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind), index=True)
    plugin_id: Mapped[int | None] = mapped_column(
        ForeignKey("plugins.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(String(255))
    dedupe_key: Mapped[str] = mapped_column(String(400))
    message: Mapped[str] = mapped_column(Text)
    action: Mapped[Action] = mapped_column(str_enum(Action))
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    first_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)

    @property
    def title(self) -> str:
        return KINDS[self.kind].title


def _key(kind: NotificationKind, plugin_id: int | None, subject: str) -> str:
    return f"{kind.value}:{plugin_id if plugin_id is not None else '-'}:{subject}"[:400]


def raise_notification(
    session: Session,
    kind: NotificationKind,
    *,
    subject: str,
    message: str,
    plugin_id: int | None = None,
    action: Action | None = None,
    occurrences: int = 1,
) -> Notification:
    """Open the notification, or count another occurrence (``occurrences``: that many,
    told at once) of the open one, or reopen the latest resolved one."""
    now = utcnow()
    key = _key(kind, plugin_id, subject)
    if not _reopen(session, key, message, occurrences, now):
        session.execute(
            prepared(session, "notification", _upsert),
            {
                "kind": kind.value,
                "plugin_id": plugin_id,
                "subject": subject[:255],
                "dedupe_key": key,
                "message": message,
                "action": (action or KINDS[kind].action).value,
                "occurrences": occurrences,
                "first_seen": now,
                "last_seen": now,
            },
        )
    found = session.scalar(
        select(Notification)
        .where(Notification.dedupe_key == key, Notification.resolved_at.is_(None))
        .execution_options(populate_existing=True)
    )
    assert found is not None
    return found


_TABLE = cast(Table, Notification.__table__)
_OPEN = (
    select(_TABLE.c.id)
    .where(_TABLE.c.dedupe_key == bindparam("key"), _TABLE.c.resolved_at.is_(None))
    .exists()
)
_LATEST_RESOLVED = (
    select(func.max(_TABLE.c.id))
    .where(_TABLE.c.dedupe_key == bindparam("key"), _TABLE.c.resolved_at.is_not(None))
    .scalar_subquery()
)
_REOPEN = (
    update(_TABLE)
    .where(_TABLE.c.id == _LATEST_RESOLVED, _TABLE.c.resolved_at.is_not(None), ~_OPEN)
    .values(
        resolved_at=None,
        read_at=None,
        occurrences=_TABLE.c.occurrences + bindparam("count"),
        last_seen=bindparam("now"),
        message=bindparam("message"),
    )
)


def _reopen(session: Session, key: str, message: str, count: int, now: dt.datetime) -> bool:
    """Reopen the latest resolved notification of ``key`` unless one is open; whether it
    did. (Two transactions racing to reopen it: the second finds it open and counts.)"""
    result = session.execute(_REOPEN, {"key": key, "message": message, "count": count, "now": now})
    return bool(getattr(result, "rowcount", 0))


def _upsert(insert: Any) -> Any:
    """Open the notification or count another occurrence (order imports raise many)."""
    table = Notification.__table__
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=["dedupe_key"],
        index_where=text("resolved_at IS NULL"),
        set_={
            "occurrences": table.c.occurrences + statement.excluded.occurrences,
            "last_seen": statement.excluded.last_seen,
            "message": statement.excluded.message,
            "read_at": None,
        },
    )


def resolve(
    session: Session,
    kind: NotificationKind,
    *,
    subject: str | None = None,
    plugin_id: int | None = None,
) -> int:
    """Resolve open notifications of ``kind`` (for one subject, or all of the plugin's)."""
    query = update(Notification).where(
        Notification.kind == kind,
        Notification.resolved_at.is_(None),
    )
    if plugin_id is not None:
        query = query.where(Notification.plugin_id == plugin_id)
    if subject is not None:
        query = query.where(Notification.dedupe_key == _key(kind, plugin_id, subject))
    result = session.execute(query.values(resolved_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def resolve_subjects(
    session: Session, kind: NotificationKind, *, plugin_id: int | None, subjects: Collection[str]
) -> int:
    """``resolve`` for many subjects of one plugin in one statement (an order's lines)."""
    if not subjects:
        return 0
    keys = sorted({_key(kind, plugin_id, subject) for subject in subjects})
    result = session.execute(
        update(Notification)
        .where(Notification.dedupe_key.in_(keys), Notification.resolved_at.is_(None))
        .values(resolved_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def open_notifications(
    session: Session, *, plugin_id: int | None = None, kind: NotificationKind | None = None
) -> list[Notification]:
    query = (
        select(Notification)
        .where(Notification.resolved_at.is_(None))
        .order_by(Notification.last_seen.desc(), Notification.id.desc())
    )
    if plugin_id is not None:
        query = query.where(Notification.plugin_id == plugin_id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return list(session.scalars(query))


def unread_count(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.resolved_at.is_(None), Notification.read_at.is_(None))
        )
        or 0
    )


def mark_read(session: Session, notification_ids: list[int] | None = None) -> int:
    """Mark the given notifications (or every open one) as read."""
    query = update(Notification).where(
        Notification.read_at.is_(None), Notification.resolved_at.is_(None)
    )
    if notification_ids is not None:
        query = query.where(Notification.id.in_(notification_ids))
    result = session.execute(query.values(read_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
