"""What the Settings → Webhooks pages and the API read back: an endpoint's deliveries and
their attempts, the event log, and an endpoint's success rate and latency by hour."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradewind.errors import NotFound
from tradewind.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
)
from tradewind.webhooks.service import get_delivery

_PURPOSE = "webhook secrets"
_HEADERS_PURPOSE = "webhook headers"
# The old secret keeps signing this long after a rotation.
ROTATION_OVERLAP = dt.timedelta(hours=24)
MAX_HEADERS = 20
MAX_CONCURRENCY = 16
# Headers a subscription may not set: ours (the signature scheme's, the body's, the
# connection's) and Authorization.
RESERVED_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "content-type",
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "host",
        "connection",
        "user-agent",
        "cookie",
    }
)
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")


def deliveries(
    session: Session,
    *,
    subscription_id: int | None = None,
    event_id: str | None = None,
    status: DeliveryStatus | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    if subscription_id is not None:
        query = query.where(WebhookDelivery.subscription_id == subscription_id)
    if event_id is not None:
        query = query.where(WebhookDelivery.event_id == event_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if before_id:
        query = query.where(WebhookDelivery.id < before_id)
    return list(session.scalars(query))


def attempts(session: Session, delivery_id: int) -> list[WebhookAttempt]:
    get_delivery(session, delivery_id)
    return list(
        session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.number, WebhookAttempt.id)
        )
    )


def events(
    session: Session,
    *,
    event_type: str | None = None,
    channel_id: int | None = None,
    before: str | None = None,
    limit: int = 50,
) -> list[WebhookEvent]:
    query = select(WebhookEvent).order_by(WebhookEvent.id.desc()).limit(limit)
    if event_type is not None:
        query = query.where(WebhookEvent.type == event_type)
    if channel_id is not None:
        query = query.where(WebhookEvent.channel_id == channel_id)
    if before:
        query = query.where(WebhookEvent.id < before)
    return list(session.scalars(query))


def get_event(session: Session, event_id: str) -> WebhookEvent:
    found = session.get(WebhookEvent, event_id)
    if found is None:
        raise NotFound(f"there is no webhook event {event_id}")
    return found


@dataclass(frozen=True, slots=True)
class EndpointStats:
    """An endpoint's recent health: attempts, the share that succeeded, latency."""

    attempts: int
    succeeded: int
    p50_ms: int | None
    p95_ms: int | None

    @property
    def success_rate(self) -> float | None:
        return self.succeeded / self.attempts if self.attempts else None


def stats(session: Session, subscription_id: int, since: dt.datetime) -> EndpointStats:
    durations = sorted(
        session.scalars(
            select(WebhookAttempt.duration_ms)
            .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
            .where(
                WebhookDelivery.subscription_id == subscription_id,
                WebhookAttempt.started_at >= since,
            )
        )
    )
    succeeded = session.scalar(
        select(func.count())
        .select_from(WebhookAttempt)
        .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookAttempt.started_at >= since,
            WebhookAttempt.succeeded.is_(True),
        )
    )

    def pick(share: float) -> int | None:
        return (
            durations[min(len(durations) - 1, int(share * len(durations)))] if durations else None
        )

    return EndpointStats(len(durations), int(succeeded or 0), pick(0.5), pick(0.95))


@dataclass(frozen=True, slots=True)
class Hour:
    """One hour of an endpoint's attempts (the UI's latency chart)."""

    start: dt.datetime
    attempts: int
    succeeded: int
    p95_ms: int | None


def hourly(session: Session, subscription_id: int, now: dt.datetime, hours: int = 24) -> list[Hour]:
    """The last ``hours`` hours of attempts, oldest first (empty hours included)."""
    first = now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=hours - 1)
    rows = session.execute(
        select(WebhookAttempt.started_at, WebhookAttempt.duration_ms, WebhookAttempt.succeeded)
        .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookAttempt.started_at >= first,
        )
    ).all()
    buckets: list[list[tuple[int, bool]]] = [[] for _ in range(hours)]
    for started_at, duration, ok in rows:
        index = int((started_at - first).total_seconds() // 3600)
        if 0 <= index < hours:
            buckets[index].append((duration, bool(ok)))
    result = []
    for index, items in enumerate(buckets):
        durations = sorted(duration for duration, _ in items)
        p95 = durations[min(len(durations) - 1, int(0.95 * len(durations)))] if durations else None
        result.append(
            Hour(
                start=first + dt.timedelta(hours=index),
                attempts=len(items),
                succeeded=sum(1 for _, ok in items if ok),
                p95_ms=p95,
            )
        )
    return result
