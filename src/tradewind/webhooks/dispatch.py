"""Sending deliveries: one endpoint at a time per process, its due deliveries claimed from
the database, signed, POSTed, and each attempt recorded with what came of it.

* **Claims.** A drain holds the subscription's lease (one drainer per endpoint across
  every process; the lease ends by itself if the process dies), then claims eight rounds
  of the endpoint's concurrency of due deliveries under a lease token (``FOR UPDATE SKIP
  LOCKED`` on PostgreSQL; SQLite has one writer), sends them with at most that many in
  flight and records them together with the next claim, while that one is sent. A
  delivery whose sender died is due again when its lease ends: at least once, never
  lost, and a repeat carries the same ``webhook-id`` and body.
* **Fairness.** Each endpoint drains in its own queue task, for at most
  ``drain_seconds`` a round, so a slow or dead endpoint holds one worker and never the
  deliveries of another.
* **Outcomes** (``classify``): 2xx succeeds; an answer with ``webhook-delivery:
  abort-message`` fails without retries; network errors, timeouts, 408, 429 and 5xx are
  retried on ``SCHEDULE`` with ±20 % jitter (``Retry-After`` wins when given, up to
  an hour); 410 disables the endpoint; anything else (3xx included: redirects are not
  followed) fails the delivery. A resend or recover is one attempt.
* **Disabling.** An endpoint whose attempts have all failed for 5 days is disabled; a
  delivery that fails for good raises a notification (once, while it stays open).
* **The address policy** applies on every attempt: the outbound transport resolves,
  checks and connects to the checked address.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import random
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import httpx2
import structlog
from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from tradewind.connectors.errors import Unavailable
from tradewind.connectors.outbound import OutboundRefused
from tradewind.db import utcnow
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.vault import VaultError
from tradewind.webhooks import service, signing
from tradewind.webhooks.models import (
    AttemptTrigger,
    DeliveryStatus,
    SubscriptionStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)

if TYPE_CHECKING:
    from tradewind.hub import Hub

log = structlog.get_logger(__name__)

# Seconds before attempt n+1 (the first is immediate): about 47 hours in all.
SCHEDULE: tuple[int, ...] = (0, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400)
MAX_ATTEMPTS = len(SCHEDULE)
JITTER = 0.2
RETRY_AFTER_CAP = 3600.0
DISABLE_AFTER = dt.timedelta(days=5)
TIMEOUT = httpx2.Timeout(15.0, connect=5.0)
# No attempt lasts longer: 5 s to connect, 15 s for the whole answer (a receiver that
# drips it is cut off), so a claim held twice this long (it waits for the claim in
# flight, then is sent) plus the engine's lease is never sent twice by two live workers;
# a dead worker's claim is free once it ends.
ATTEMPT_SECONDS = 20.0
ANSWER_SECONDS = 15.0
READ_LIMIT = 64 * 1024  # read at most this much of an answer
KEEP_BODY = 4 * 1024  # and keep this much with the attempt
USER_AGENT = "Tradewind-Webhooks/1.0"
RETRIED_STATUSES = frozenset({408, 429})
# A claim takes this many rounds of the endpoint's concurrency at once (fewer
# transactions per delivery); a killed worker's repeats are at most one claim.
CLAIM_ROUNDS = 8

Kick = Callable[[int, dt.datetime | None], None]


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    RETRY = "retry"
    FAILED = "failed"
    GONE = "gone"  # 410: the endpoint is disabled


@dataclass(frozen=True, slots=True)
class Answer:
    """What one attempt got: a status with headers and the start of the body, or an
    error of a kind (timeout, connect, refused, network)."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error_kind: str | None = None
    error: str = ""
    duration_ms: int = 0


def classify(answer: Answer) -> Outcome:
    if answer.status is None:
        return Outcome.RETRY  # network error, timeout, refused by the policy (DNS may change)
    if 200 <= answer.status < 300:
        return Outcome.SUCCEEDED
    if answer.headers.get("webhook-delivery", "").lower() == "abort-message":
        return Outcome.FAILED  # the receiver asks for no more tries of this one
    if answer.status == 410:
        return Outcome.GONE
    if answer.status in RETRIED_STATUSES or answer.status >= 500:
        return Outcome.RETRY
    return Outcome.FAILED


def retry_after(headers: dict[str, str], now: dt.datetime) -> float | None:
    """``Retry-After`` in seconds (a number or an HTTP date), 1 s to an hour."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 1.0), RETRY_AFTER_CAP)  # never a tight loop on "0"


def next_delay(attempts_made: int, rng: Callable[[], float] = random.random) -> float | None:
    """Seconds until the next attempt after ``attempts_made``, or ``None`` when they are
    spent."""
    if attempts_made >= MAX_ATTEMPTS:
        return None
    base = SCHEDULE[attempts_made]
    return base * (1 - JITTER + 2 * JITTER * rng())


@dataclass(frozen=True, slots=True)
class Claimed:
    delivery_id: int
    event_id: str
    event_type: str
    body: str
    number: int  # this attempt's number
    trigger: AttemptTrigger


@dataclass(frozen=True, slots=True)
class Endpoint:
    """What sending to one subscription needs, read once per claim."""

    id: int
    url: str
    headers: dict[str, str]
    secrets: list[str]
    concurrency: int


@dataclass(frozen=True, slots=True)
class Sent:
    claimed: Claimed
    request_headers: dict[str, str]
    started_at: dt.datetime
    answer: Answer


class Dispatcher:
    """Drains endpoints for one process. ``clock`` and ``rng`` are the test seams for
    time and jitter; ``transport`` for the network (default: the hub's, or its outbound
    policy's)."""

    def __init__(
        self,
        hub: Hub,
        *,
        holder: str,
        kick: Kick | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        rng: Callable[[], float] = random.random,
        transport: httpx2.BaseTransport | None = None,
    ) -> None:
        self.hub = hub
        self.holder = holder
        self._opened: dict[tuple[int, str, int], list[str]] = {}
        # How long a claim (of an endpoint, of deliveries) lasts without being renewed:
        # pipelined, a claim waits for the one in flight, then is sent itself.
        self.lease = dt.timedelta(seconds=2 * ATTEMPT_SECONDS + hub.settings.lease_seconds)
        self.kick = kick
        self.clock = clock
        self.rng = rng
        self._transport = transport

    # ------------------------------------------------------------------ draining

    def drain(self, subscription_id: int) -> int:
        """Send what is due for the subscription (for at most ``drain_seconds``); returns
        how many attempts were made. Another process draining it already: nothing."""
        holder = f"{self.holder}:{uuid.uuid4().hex[:6]}"[:64]
        if not self._take(subscription_id, holder):
            return 0
        made = 0
        stop = time.monotonic() + self.hub.settings.drain_seconds
        try:
            with self._client() as client, contextlib.ExitStack() as stack:
                pool: ThreadPoolExecutor | None = None
                pool_size = 0
                claim = self._claim(subscription_id, holder)
                previous: tuple[str, list[Sent]] | None = None  # sent, to be recorded
                # Pipelined: while one claim's requests are in flight (at most the
                # endpoint's concurrency at once), the previous claim's outcomes are
                # recorded and the next deliveries claimed, in one transaction.
                while claim is not None or previous is not None:
                    flying: tuple[str, list[Future[Sent]]] | None = None
                    if claim is not None:
                        endpoint, token, batch = claim
                        if pool is None or pool_size != endpoint.concurrency:
                            pool_size = endpoint.concurrency
                            pool = stack.enter_context(ThreadPoolExecutor(max_workers=pool_size))
                        flying = (
                            token,
                            [pool.submit(self._send, client, endpoint, item) for item in batch],
                        )
                    more = holder if time.monotonic() < stop else None
                    if previous is not None:
                        claim = self._settle(subscription_id, previous[0], previous[1], more)
                    elif flying is not None and more is not None:
                        claim = self._claim(subscription_id, holder)
                    else:
                        claim = None
                    previous = None
                    if flying is not None:
                        previous = (flying[0], [future.result() for future in flying[1]])
                        made += len(previous[1])
        finally:
            self._release(subscription_id, holder)
        self._kick_next(subscription_id)
        return made

    def _client(self) -> httpx2.Client:
        transport = self._transport or self.hub.transport or self.hub.outbound.transport()
        return httpx2.Client(
            transport=transport, follow_redirects=False, timeout=TIMEOUT, trust_env=False
        )

    def _take(self, subscription_id: int, holder: str) -> bool:
        now = self.clock()
        with self.hub.db.unit_of_work() as session:
            result = session.execute(
                update(WebhookSubscription)
                .where(
                    WebhookSubscription.id == subscription_id,
                    WebhookSubscription.status == SubscriptionStatus.ACTIVE,
                    or_(
                        WebhookSubscription.lease_until.is_(None),
                        WebhookSubscription.lease_until < now,
                    ),
                )
                .values(lease_holder=holder, lease_until=now + self.lease)
            )
            return bool(getattr(result, "rowcount", 0))

    def _release(self, subscription_id: int, holder: str) -> None:
        with self.hub.db.unit_of_work() as session:
            session.execute(
                update(WebhookSubscription)
                .where(
                    WebhookSubscription.id == subscription_id,
                    WebhookSubscription.lease_holder == holder,
                )
                .values(lease_holder="", lease_until=None)
            )

    def _claim(
        self, subscription_id: int, holder: str
    ) -> tuple[Endpoint, str, list[Claimed]] | None:
        """Renew the endpoint's lease and claim its next due deliveries (oldest due
        first); ``None`` when nothing is due, the lease was lost or the endpoint stopped."""
        with self.hub.db.unit_of_work() as session:
            return self._claim_in(session, subscription_id, holder)

    def _claim_in(
        self, session: Session, subscription_id: int, holder: str
    ) -> tuple[Endpoint, str, list[Claimed]] | None:
        now = self.clock()
        token = uuid.uuid4().hex
        renewed = session.execute(
            update(WebhookSubscription)
            .where(
                WebhookSubscription.id == subscription_id,
                WebhookSubscription.lease_holder == holder,
                WebhookSubscription.status == SubscriptionStatus.ACTIVE,
            )
            .values(lease_until=now + self.lease)
        )
        if not getattr(renewed, "rowcount", 0):
            return None
        subscription = session.get(WebhookSubscription, subscription_id)
        assert subscription is not None
        due = (
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.subscription_id == subscription_id,
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.next_attempt_at <= now,
                or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(subscription.max_concurrency * CLAIM_ROUNDS)
        )
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = list(session.scalars(due))
        if not ids:
            return None
        try:
            secrets = self._secrets(subscription, now)
        except VaultError as exc:
            log.error("webhook secret unreadable", subscription=subscription_id, error=str(exc))
            return None
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids))
            .values(lease_token=token, lease_until=now + self.lease)
        )
        rows = session.execute(
            select(
                WebhookDelivery.id,
                WebhookDelivery.attempts,
                WebhookDelivery.trigger,
                WebhookEvent.id,
                WebhookEvent.type,
                WebhookEvent.body,
            )
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.id.in_(ids))
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        ).all()
        endpoint = Endpoint(
            id=subscription.id,
            url=subscription.url,
            headers=dict(subscription.custom_headers or {}),
            secrets=secrets,
            concurrency=subscription.max_concurrency,
        )
        batch = [
            Claimed(
                delivery_id=row[0],
                number=row[1] + 1,
                trigger=row[2],
                event_id=row[3],
                event_type=row[4],
                body=row[5],
            )
            for row in rows
        ]
        return endpoint, token, batch

    def _secrets(self, subscription: WebhookSubscription, now: dt.datetime) -> list[str]:
        """The subscription's secrets in force, opened once per sealed value and minute
        (a rotation writes a new sealed value, so it is seen at the next claim)."""
        key = (subscription.id, subscription.secrets, int(now.timestamp() // 60))
        cached = self._opened.get(key)
        if cached is None:
            cached = service.secrets_in_force(self.hub.vault, subscription, now)
            if len(self._opened) > 1000:
                self._opened.clear()
            self._opened[key] = cached
        return cached

    # ------------------------------------------------------------------- sending

    def _send(self, client: httpx2.Client, endpoint: Endpoint, item: Claimed) -> Sent:
        started_at = self.clock()
        timestamp = int(started_at.timestamp())
        headers = {
            **endpoint.headers,
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": item.event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signing.signature(
                endpoint.secrets, item.event_id, timestamp, item.body
            ),
            "tradewind-event-type": item.event_type,
            "tradewind-attempt": str(item.number),
            "tradewind-subscription-id": str(endpoint.id),
        }
        answer = post(client, endpoint.url, item.body.encode(), headers)
        # Kept with the attempt: the signatures and the custom headers' values (they may
        # carry the receiver's own credentials) are redacted.
        kept = {
            **headers,
            **{name: _redact(value) for name, value in endpoint.headers.items()},
            "webhook-signature": signing.redacted(headers["webhook-signature"]),
        }
        return Sent(item, kept, started_at, answer)

    # ------------------------------------------------------------------ settling

    def _settle(
        self, subscription_id: int, token: str, sent: Sequence[Sent], holder: str | None
    ) -> tuple[Endpoint, str, list[Claimed]] | None:
        """Record the attempts and what follows from them, in one transaction (the
        successes in one statement per status code), and with ``holder`` claim the next
        deliveries in it (``None``: nothing more, or the endpoint was disabled)."""
        now = self.clock()
        outcomes = [(item, classify(item.answer)) for item in sent]
        with self.hub.db.unit_of_work() as session:
            subscription = session.get(WebhookSubscription, subscription_id)
            if subscription is None:
                return None  # deleted meanwhile: its deliveries went with it
            session.execute(
                insert(WebhookAttempt),
                [_attempt_row(item, outcome) for item, outcome in outcomes],
            )
            succeeded: dict[int, list[int]] = {}
            for item, outcome in outcomes:
                if outcome is Outcome.SUCCEEDED:
                    code = item.answer.status or 200  # a success always has its status
                    succeeded.setdefault(code, []).append(item.claimed.delivery_id)
            for code, ids in succeeded.items():
                session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id.in_(ids), WebhookDelivery.lease_token == token)
                    .values(
                        status=DeliveryStatus.SUCCEEDED,
                        attempts=WebhookDelivery.attempts + 1,
                        last_status=code,
                        last_error=f"HTTP {code}",
                        lease_token=None,
                        lease_until=None,
                        trigger=AttemptTrigger.AUTO,
                        completed_at=now,
                        next_attempt_at=None,
                    )
                )
            if succeeded and subscription.failing_since is not None:
                subscription.failing_since = None  # it works again: what it failed is over
                notifications.resolve(
                    session,
                    NotificationKind.WEBHOOK_DELIVERY_FAILED,
                    subject=f"webhook endpoint {subscription.id}",
                )
            failed = [
                (item, outcome) for item, outcome in outcomes if outcome is not Outcome.SUCCEEDED
            ]
            if failed:
                found = {
                    row.id: row
                    for row in session.scalars(
                        select(WebhookDelivery).where(
                            WebhookDelivery.id.in_([item.claimed.delivery_id for item, _ in failed])
                        )
                    )
                }
                for item, outcome in failed:
                    delivery = found.get(item.claimed.delivery_id)
                    if delivery is not None:
                        self._settle_failure(
                            session, subscription, delivery, token, item, outcome, now
                        )
            if holder is None or subscription.status is not SubscriptionStatus.ACTIVE:
                return None
            return self._claim_in(session, subscription_id, holder)

    def _settle_failure(
        self,
        session: Session,
        subscription: WebhookSubscription,
        delivery: WebhookDelivery,
        token: str,
        sent: Sent,
        outcome: Outcome,
        now: dt.datetime,
    ) -> None:
        answer = sent.answer
        if delivery.lease_token != token:
            return  # another sender took it over after our lease ended: its result counts
        delivery.attempts += 1
        delivery.last_status = answer.status
        delivery.last_error = _describe(answer)
        delivery.lease_token = None
        delivery.lease_until = None
        manual = delivery.trigger is not AttemptTrigger.AUTO
        delivery.trigger = AttemptTrigger.AUTO
        if subscription.failing_since is None:
            subscription.failing_since = now
        if outcome is Outcome.RETRY and not manual:
            delay = retry_after(answer.headers, now) if answer.status is not None else None
            if delay is None:
                delay = next_delay(delivery.attempts, self.rng)
            elif delivery.attempts >= MAX_ATTEMPTS:
                delay = None
            if delay is not None:
                delivery.next_attempt_at = now + dt.timedelta(seconds=delay)
                self._maybe_disable(session, subscription, now)
                return
        delivery.status = DeliveryStatus.FAILED
        delivery.completed_at = now
        delivery.next_attempt_at = None
        if outcome is Outcome.GONE and subscription.status is SubscriptionStatus.ACTIVE:
            service.disable(session, subscription, "the endpoint answered 410 Gone")
            return
        notifications.raise_notification(
            session,
            NotificationKind.WEBHOOK_DELIVERY_FAILED,
            subject=f"webhook endpoint {subscription.id}",
            message=f"A {sent.claimed.event_type} event ({sent.claimed.event_id}) could not be "
            f"delivered to {subscription.url} after {delivery.attempts} attempts: "
            f"{delivery.last_error}. Fix the endpoint, then resend or recover.",
        )
        self._maybe_disable(session, subscription, now)

    @staticmethod
    def _maybe_disable(
        session: Session, subscription: WebhookSubscription, now: dt.datetime
    ) -> None:
        since = subscription.failing_since
        if (
            since is not None
            and now - since >= DISABLE_AFTER
            and subscription.status is SubscriptionStatus.ACTIVE
        ):
            service.disable(
                session,
                subscription,
                f"every attempt has failed since {since.isoformat(timespec='seconds')}",
            )

    def _kick_next(self, subscription_id: int) -> None:
        """Announce the subscription's next due delivery (the reconciler is the net)."""
        if self.kick is None:
            return
        with self.hub.db.read() as session:
            subscription = session.get(WebhookSubscription, subscription_id)
            if subscription is None or subscription.status is not SubscriptionStatus.ACTIVE:
                return
            due = session.scalar(
                select(WebhookDelivery.next_attempt_at)
                .where(
                    WebhookDelivery.subscription_id == subscription_id,
                    WebhookDelivery.status == DeliveryStatus.PENDING,
                )
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(1)
            )
        if due is not None:
            self.kick(subscription_id, due)


def post(client: httpx2.Client, url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body``; the answer with at most ``READ_LIMIT`` bytes of its body read."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        with client.stream("POST", url, content=body, headers=headers) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_raw():
                chunks.append(chunk)
                size += len(chunk)
                if size >= READ_LIMIT:
                    break  # the rest is not read: closing drops the connection
                if time.monotonic() - started > ANSWER_SECONDS:
                    return Answer(
                        error_kind="timeout",
                        error=f"the answer took longer than {ANSWER_SECONDS:.0f} s",
                        duration_ms=took(),
                    )
            return Answer(
                status=response.status_code,
                headers=_headers(response.headers),
                body=b"".join(chunks)[:READ_LIMIT],
                duration_ms=took(),
            )
    except httpx2.TimeoutException as exc:
        return Answer(error_kind="timeout", error=str(exc) or "timed out", duration_ms=took())
    except httpx2.ConnectError as exc:
        return Answer(error_kind="connect", error=str(exc), duration_ms=took())
    except OutboundRefused as exc:
        return Answer(error_kind="refused", error=str(exc), duration_ms=took())
    except Unavailable as exc:  # the name does not resolve
        return Answer(error_kind="dns", error=str(exc), duration_ms=took())
    except httpx2.HTTPError as exc:
        return Answer(error_kind="network", error=str(exc), duration_ms=took())


def _attempt_row(sent: Sent, outcome: Outcome) -> dict[str, Any]:
    answer = sent.answer
    ok = outcome is Outcome.SUCCEEDED
    return {
        "delivery_id": sent.claimed.delivery_id,
        "number": sent.claimed.number,
        "trigger": sent.claimed.trigger,
        "started_at": sent.started_at,
        "duration_ms": answer.duration_ms,
        "request_headers": sent.request_headers,
        "response_status": answer.status,
        "response_headers": answer.headers,
        "response_body": answer.body[:KEEP_BODY].decode("utf-8", "replace"),
        "error_kind": answer.error_kind or (None if ok else "http"),
        "error": answer.error[:2000],
        "succeeded": ok,
    }


def _redact(value: str) -> str:
    return f"… ({len(value)} characters)"


def _headers(headers: Any) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in headers.items():
        if len(kept) >= 50:
            break
        kept[str(name).lower()] = str(value)[:500]
    return kept


def _describe(answer: Answer) -> str:
    if answer.status is None:
        return f"{answer.error_kind}: {answer.error}"[:500]
    if 300 <= answer.status < 400:
        return f"HTTP {answer.status} (redirects are not followed)"
    return f"HTTP {answer.status}"
