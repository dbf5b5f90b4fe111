"""Sending deliveries: one endpoint at a time per process, its due deliveries claimed from
the database, signed, POSTed, and each attempt recorded with what came of it (what an
answer means and when the next try is due: ``attempts``).

* **Claims.** A drain holds the subscription's lease (one drainer per endpoint across
  every process; the lease ends by itself if the process dies), then claims due
  deliveries under a lease token (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has
  one writer), sends them with at most the endpoint's concurrency in flight and records
  them together with the next claim, while that one is sent. A claim starts at eight
  rounds of the concurrency; the next is what the endpoint answered in
  ``CLAIM_SECONDS`` at the last one's pace (up to ``MAX_CLAIM``), so a busy endpoint
  costs a few statements per hundreds of deliveries and a slow one claims a round at a
  time. An attempt is started only while its claim has
  ``ATTEMPT_SECONDS`` left; what is left unsent is handed back, due as it was. So live
  workers never send one claim twice, and a delivery whose sender died is due again
  when its lease ends: at least once, never lost, a repeat with the same ``webhook-id``
  and body.
* **Connections.** Each endpoint has its keep-alive connections (as many as its
  concurrency) kept from one drain to the next (``connections``), through the outbound
  address policy: every connection is made to an address resolved and checked when it
  is opened.
* **Fairness.** Each endpoint drains in its own queue task, for at most
  ``drain_seconds`` a round, so a slow or dead endpoint holds one worker and never the
  deliveries (or the connections) of another.
* **Disabling.** An endpoint whose attempts have all failed for 5 days is disabled; a
  delivery that fails for good raises a notification (once, while it stays open).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, cast

import httpx2
import structlog
from sqlalchemy import Table, insert, or_, select, update
from sqlalchemy.orm import Session

from tradewind.connectors.outbound import tls_context
from tradewind.db import utcnow
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.vault import VaultError
from tradewind.webhooks import service, signing
from tradewind.webhooks.attempts import (
    ATTEMPT_SECONDS,
    MAX_ATTEMPTS,
    TIMEOUT,
    USER_AGENT,
    Answer,
    Claimed,
    Outcome,
    Sent,
    attempt_row,
    classify,
    describe,
    next_delay,
    post,
    retry_after,
)
from tradewind.webhooks.connections import Connections
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

DISABLE_AFTER = dt.timedelta(days=5)
# A first claim takes this many rounds of the endpoint's concurrency; the next ones as
# many as the endpoint took in CLAIM_SECONDS at its last claim's pace (up to MAX_CLAIM):
# few transactions per delivery for a fast endpoint, few held by a slow one.
CLAIM_ROUNDS = 8
CLAIM_SECONDS = 5.0
MAX_CLAIM = 512
POOLS_KEPT = 256  # endpoints whose idle connections a process keeps
# Attempts are inserted through Core (one executemany, no ORM bookkeeping per row).
_ATTEMPTS = cast(Table, WebhookAttempt.__table__)

Kick = Callable[[int, dt.datetime | None], None]
Poster = Callable[[bytes, dict[str, str]], Answer]  # POST a body with headers: the answer


@dataclass(frozen=True, slots=True)
class Endpoint:
    """What sending to one subscription needs, read once per claim."""

    id: int
    url: str
    headers: dict[str, str]
    signer: signing.Signer
    concurrency: int


@dataclass(frozen=True, slots=True)
class Claim:
    endpoint: Endpoint
    token: str
    batch: list[Claimed]
    # No attempt of it starts after this (``time.monotonic``): it ends before the claim.
    send_until: float


class Dispatcher:
    """Drains endpoints for one process. ``clock`` and ``rng`` are the test seams for
    time and jitter; ``transport`` for the network (default: the hub's, or a pool per
    endpoint under its outbound policy)."""

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
        self._opened: dict[tuple[int, str, str, int], tuple[signing.Signer, dict[str, str]]] = {}
        # How long a claim (of an endpoint, of deliveries) lasts without being renewed:
        # its attempts start within ATTEMPT_SECONDS of it and last at most as long.
        self.lease = dt.timedelta(seconds=2 * ATTEMPT_SECONDS + hub.settings.lease_seconds)
        self.kick = kick
        self.clock = clock
        self.rng = rng
        self._transport = transport
        self._pools: dict[tuple[int, str, int], Connections] = {}
        self._pools_lock = threading.Lock()
        # The endpoints this process drains now, and those asked for meanwhile.
        self._draining: set[int] = set()
        self._again: set[int] = set()
        self._draining_lock = threading.Lock()

    # ------------------------------------------------------------------ draining

    def drain(self, subscription_id: int) -> int:
        """Send what is due for the subscription (for at most ``drain_seconds``); returns
        how many attempts were made. Drained already, by this process or another:
        nothing (one drainer per endpoint, so its concurrency is never exceeded and a
        slow endpoint holds one worker). A drain asked for while this process drains the
        endpoint is asked for again when that one ends: what it was told of is sent."""
        with self._draining_lock:
            if subscription_id in self._draining:
                self._again.add(subscription_id)
                return 0
            self._draining.add(subscription_id)
        try:
            return self._drain(subscription_id)
        finally:
            with self._draining_lock:
                self._draining.discard(subscription_id)
                again = subscription_id in self._again
                self._again.discard(subscription_id)
            if again and self.kick is not None:
                self.kick(subscription_id, None)

    def _drain(self, subscription_id: int) -> int:
        holder = f"{self.holder}:{uuid.uuid4().hex[:6]}"[:64]
        taken, claim = self._take(subscription_id, holder)
        if not taken:
            return 0
        if claim is None:  # nothing due: the lease was given back with the look
            self._kick_next(subscription_id)
            return 0
        made = 0
        stop = time.monotonic() + self.hub.settings.drain_seconds
        size: int | None = None  # the next claim's size; None: the first's
        took = 0.0  # seconds the last claim took to send
        try:
            with contextlib.ExitStack() as stack:
                poster: Poster | None = None
                pool: ThreadPoolExecutor | None = None
                pool_size = 0
                previous: tuple[str, list[Sent]] | None = None  # sent, to be recorded
                # Pipelined: while one claim's requests are in flight (at most the
                # endpoint's concurrency at once), the previous claim's outcomes are
                # recorded and the next deliveries claimed, in one transaction.
                while claim is not None or previous is not None:
                    flying: tuple[str, list[Future[list[Sent]]], float] | None = None
                    if claim is not None:
                        endpoint = claim.endpoint
                        if poster is None:
                            poster = self._poster(stack, endpoint)
                        if pool is None or pool_size != endpoint.concurrency:
                            pool_size = endpoint.concurrency
                            pool = stack.enter_context(ThreadPoolExecutor(max_workers=pool_size))
                        # ``concurrency`` senders take the claim's deliveries one after
                        # another (a task each would cost a wake-up per delivery).
                        items = iter(claim.batch)
                        flying = (
                            claim.token,
                            [
                                pool.submit(
                                    self._send_all, poster, endpoint, items, claim.send_until
                                )
                                for _ in range(min(pool_size, len(claim.batch)))
                            ],
                            time.monotonic(),
                        )
                    more = holder if time.monotonic() < stop else None
                    if previous is not None:
                        size = _next_size(previous[1], took, pool_size)
                        claim = self._settle(subscription_id, previous[0], previous[1], more, size)
                    elif flying is not None and more is not None:
                        claim = self._claim(subscription_id, holder, size)
                    else:
                        claim = None
                    previous = None
                    if flying is not None:
                        previous = (
                            flying[0],
                            [sent for future in flying[1] for sent in future.result()],
                        )
                        took = time.monotonic() - flying[2]
                        made += sum(1 for sent in previous[1] if sent.answer is not None)
        finally:
            self._release(subscription_id, holder)
        self._kick_next(subscription_id)
        return made

    def _poster(self, stack: contextlib.ExitStack, endpoint: Endpoint) -> Poster:
        """How this drain POSTs to the endpoint: through the given transport (the test
        seam, or the hub's) with httpx2, else over the endpoint's kept connections."""
        transport = self._transport or self.hub.transport
        if transport is not None:
            client = stack.enter_context(
                httpx2.Client(
                    transport=transport, follow_redirects=False, timeout=TIMEOUT, trust_env=False
                )
            )
            return partial(post, client, endpoint.url)
        return self._connections(endpoint).post

    def _connections(self, endpoint: Endpoint) -> Connections:
        """The endpoint's keep-alive connections, kept across drains; its own, so a dead
        endpoint holds none of another's."""
        key = (endpoint.id, endpoint.url, endpoint.concurrency)
        with self._pools_lock:
            found = self._pools.get(key)
            if found is None:
                while len(self._pools) >= POOLS_KEPT:
                    self._pools.pop(next(iter(self._pools))).close()
                found = self._pools[key] = Connections(
                    self.hub.outbound, endpoint.url, keep=endpoint.concurrency, tls=tls_context
                )
            return found

    def close(self) -> None:
        """Close the connections kept open."""
        with self._pools_lock:
            for pool in self._pools.values():
                pool.close()
            self._pools.clear()

    def _take(self, subscription_id: int, holder: str) -> tuple[bool, Claim | None]:
        """Take the endpoint's lease and claim its first deliveries, in one transaction
        (on SQLite every write queues for the one writer); with nothing due the lease is
        given back in it. Whether it was taken, and the claim."""
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
            if not getattr(result, "rowcount", 0):
                return False, None
            claim = self._claim_in(session, subscription_id, holder, None)
            if claim is None:
                self._release_in(session, subscription_id, holder)
            return True, claim

    def _release(self, subscription_id: int, holder: str) -> None:
        with self.hub.db.unit_of_work() as session:
            self._release_in(session, subscription_id, holder)

    @staticmethod
    def _release_in(session: Session, subscription_id: int, holder: str) -> None:
        session.execute(
            update(WebhookSubscription)
            .where(
                WebhookSubscription.id == subscription_id,
                WebhookSubscription.lease_holder == holder,
            )
            .values(lease_holder="", lease_until=None)
        )

    def _claim(self, subscription_id: int, holder: str, size: int | None) -> Claim | None:
        """Renew the endpoint's lease and claim its next due deliveries (oldest due
        first); ``None`` when nothing is due, the lease was lost or the endpoint stopped."""
        with self.hub.db.unit_of_work() as session:
            return self._claim_in(session, subscription_id, holder, size)

    def _claim_in(
        self, session: Session, subscription_id: int, holder: str, size: int | None
    ) -> Claim | None:
        now = self.clock()
        claimed_at = time.monotonic()
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
            .limit(size or subscription.max_concurrency * CLAIM_ROUNDS)
        )
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = list(session.scalars(due))
        if not ids:
            return None
        try:
            signer, headers = self._opened_for(subscription, now)
        except VaultError as exc:
            log.error(
                "webhook secrets or headers unreadable",
                subscription=subscription_id,
                error=str(exc),
            )
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
            headers=headers,
            signer=signer,
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
        return Claim(endpoint, token, batch, send_until=claimed_at + ATTEMPT_SECONDS)

    def _opened_for(
        self, subscription: WebhookSubscription, now: dt.datetime
    ) -> tuple[signing.Signer, dict[str, str]]:
        """The subscription's signer (its secrets in force) and custom headers, opened
        once per sealed values and minute (a rotation or an edit writes new sealed
        values, so it is seen at the next claim)."""
        key = (
            subscription.id,
            subscription.secrets,
            subscription.header_values or "",
            int(now.timestamp() // 60),
        )
        cached = self._opened.get(key)
        if cached is None:
            cached = (
                signing.Signer(service.secrets_in_force(self.hub.vault, subscription, now)),
                service.custom_headers(self.hub.vault, subscription),
            )
            if len(self._opened) > 1000:
                self._opened.clear()
            self._opened[key] = cached
        return cached

    # ------------------------------------------------------------------- sending

    def _send_all(
        self, poster: Poster, endpoint: Endpoint, items: Iterator[Claimed], until: float
    ) -> list[Sent]:
        """Send the next of ``items`` until none is left (several threads share them: a
        list's iterator hands each item to one thread)."""
        return [self._send(poster, endpoint, item, until) for item in items]

    def _send(self, poster: Poster, endpoint: Endpoint, item: Claimed, send_until: float) -> Sent:
        started_at = self.clock()
        if time.monotonic() > send_until:
            return Sent(item, {}, started_at, None)  # too late in the claim: handed back
        timestamp = int(started_at.timestamp())
        headers = {
            **endpoint.headers,
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": item.event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": endpoint.signer.sign(item.event_id, timestamp, item.body),
            "tradewind-event-type": item.event_type,
            "tradewind-attempt": str(item.number),
            "tradewind-subscription-id": str(endpoint.id),
        }
        answer = poster(item.body.encode(), headers)
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
        self,
        subscription_id: int,
        token: str,
        sent: Sequence[Sent],
        holder: str | None,
        size: int | None,
    ) -> Claim | None:
        """Record the attempts and what follows from them, in one transaction (the
        successes in one statement per status code, what was not sent in one), and with
        ``holder`` claim the next ``size`` deliveries in it (``None``: nothing more, or
        the endpoint was disabled)."""
        now = self.clock()
        outcomes = [
            (item, item.answer, classify(item.answer)) for item in sent if item.answer is not None
        ]
        unsent = [item.claimed.delivery_id for item in sent if item.answer is None]
        with self.hub.db.unit_of_work() as session:
            subscription = session.get(WebhookSubscription, subscription_id)
            if subscription is None:
                return None  # deleted meanwhile: its deliveries went with it
            if outcomes:
                session.execute(
                    insert(_ATTEMPTS),
                    [attempt_row(item, answer, outcome) for item, answer, outcome in outcomes],
                )
            if unsent:
                session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id.in_(unsent), WebhookDelivery.lease_token == token)
                    .values(lease_token=None, lease_until=None)
                )
            succeeded: dict[int, list[int]] = {}
            for item, answer, outcome in outcomes:
                if outcome is Outcome.SUCCEEDED:
                    code = answer.status or 200  # a success always has its status
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
                (item, outcome) for item, _, outcome in outcomes if outcome is not Outcome.SUCCEEDED
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
            return self._claim_in(session, subscription_id, holder, size)

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
        assert answer is not None  # only attempts made are settled
        if delivery.lease_token != token:
            return  # another sender took it over after our lease ended: its result counts
        delivery.attempts += 1
        delivery.last_status = answer.status
        delivery.last_error = describe(answer)
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


def _next_size(sent: Sequence[Sent], took: float, concurrency: int) -> int:
    """The next claim's size after ``sent`` took ``took`` seconds: what the endpoint
    answers in ``CLAIM_SECONDS`` at that pace, from one round of its concurrency up to
    ``MAX_CLAIM`` (one round when some of it could not even be started)."""
    if any(item.answer is None for item in sent):
        return concurrency
    pace = len(sent) / max(took, 0.001)
    return max(concurrency, min(int(pace * CLAIM_SECONDS), MAX_CLAIM))


def _redact(value: str) -> str:
    return f"… ({len(value)} characters)"
