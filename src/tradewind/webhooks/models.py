"""Outgoing webhooks' tables: the merchant's subscriptions (endpoints), the events written
with the changes that caused them (the outbox), one delivery per (event, subscription),
and one attempt row per try.

Payloads live here, never in queue messages: a queue message names a subscription only,
and the database says what is due (the same rule as the sync ledger)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tradewind.db import Base, Timestamped, UTCDateTime, str_enum, utcnow
from tradewind.vault import SealedText


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # deliveries are kept and wait; resuming sends them
    DISABLED = "disabled"  # by Tradewind (410, failing for days); no new deliveries


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # due at ``next_attempt_at`` (or being sent under a lease)
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # attempts exhausted, or an answer that is not retried


class AttemptTrigger(StrEnum):
    AUTO = "auto"  # the schedule
    RESEND = "resend"  # a person resent this one delivery
    RECOVER = "recover"  # a person recovered an endpoint's failed deliveries


class WebhookSubscription(Timestamped, Base):
    """One endpoint of the merchant's: where events go, which ones, and how they are
    signed. ``event_types`` empty means every type."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(255), default="")
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    # The names of the custom headers (shown); their values may be the receiver's
    # credentials, so they are sealed by the vault in ``header_values`` ({name: value}).
    # (An endpoint made before they were sealed has {name: value} here until it is
    # edited: ``service.custom_headers`` reads both.)
    custom_headers: Mapped[list[str] | dict[str, str]] = mapped_column(JSON, default=list)
    header_values: Mapped[str | None] = mapped_column(SealedText)
    # The signing secrets, sealed by the vault: {"current": whsec, "previous": whsec,
    # "previous_until": ISO time}; the previous one signs too until then.
    secrets: Mapped[str] = mapped_column(SealedText)
    status: Mapped[SubscriptionStatus] = mapped_column(
        str_enum(SubscriptionStatus), default=SubscriptionStatus.ACTIVE
    )
    disabled_reason: Mapped[str] = mapped_column(Text, default="")
    # When the run of failed attempts since the last success began (None: not failing).
    failing_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    max_concurrency: Mapped[int] = mapped_column(Integer, default=4)
    # One process drains an endpoint at a time: it holds this lease while it sends.
    lease_holder: Mapped[str] = mapped_column(String(64), default="")
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:  # never includes the secrets
        return f"<WebhookSubscription {self.id} {self.url!r} {self.status.value}>"


class WebhookEvent(Base):
    """One event as it is sent: ``body`` is the exact serialised envelope that every
    delivery and retry signs and sends (re-serialising would change the bytes)."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # evt_…, the webhook-id
    type: Mapped[str] = mapped_column(String(64), index=True)
    api_version: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[int | None] = mapped_column(Integer, index=True)  # kept past the channel
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    body: Mapped[str] = mapped_column(Text)
    test: Mapped[bool] = mapped_column(Boolean, default=False)
    # What a newer event of the same type may replace it for while none of its
    # deliveries was tried ("inventory:<product>:<warehouse>"; see outbox.coalesce).
    subject: Mapped[str | None] = mapped_column(String(64), index=True)


class WebhookDelivery(Base):
    """One event to one subscription: its state, when it is next due, and who holds it."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id"),
        Index("ix_webhook_deliveries_due", "subscription_id", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True
    )
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    # What the next attempt is (a person's resend or recover, or the schedule).
    trigger: Mapped[AttemptTrigger] = mapped_column(
        str_enum(AttemptTrigger), default=AttemptTrigger.AUTO
    )
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class WebhookAttempt(Base):
    """One try of one delivery: what was sent (headers, signatures redacted) and what came
    back (status, headers, the first 4 KiB of the body), or the kind of error."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[AttemptTrigger] = mapped_column(str_enum(AttemptTrigger))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    request_headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    response_body: Mapped[str] = mapped_column(Text, default="")
    # timeout, connect, refused (the outbound policy), network, http (an unwanted status)
    error_kind: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str] = mapped_column(Text, default="")
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
