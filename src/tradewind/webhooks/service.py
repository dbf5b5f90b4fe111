"""Subscriptions and what a person does with deliveries: add an endpoint (its URL through
the outbound address policy, its secret shown once), change, pause, resume, rotate the
secret, resend one delivery, recover an endpoint's failed deliveries, send a test event.
Every function runs inside the caller's unit of work."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tradewind.connectors.errors import Unavailable
from tradewind.connectors.outbound import OutboundPolicy, OutboundRefused, parse_address
from tradewind.core.channels.models import Channel
from tradewind.db import utcnow
from tradewind.errors import Invalid, NotFound
from tradewind.events import record
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.vault import Vault, VaultError
from tradewind.webhooks import examples, signing
from tradewind.webhooks.catalogue import CATALOGUE, UnknownEventType, check_types
from tradewind.webhooks.models import (
    AttemptTrigger,
    DeliveryStatus,
    SubscriptionStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from tradewind.webhooks.outbox import DeliveriesQueued, EndpointDisabled, Outgoing, publish

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


@dataclass(frozen=True, slots=True)
class UrlRules:
    """What a subscription URL must be: through the outbound address policy, and https
    unless plain http is allowed (loopback receivers while sandbox hosts are allowed)."""

    policy: OutboundPolicy

    def check(self, url: str) -> str:
        cleaned = url.strip()
        try:
            parsed = self.policy.check_url(cleaned)
        except OutboundRefused as exc:
            raise Invalid(str(exc), fields={"url": exc.reason}) from None
        except Unavailable as exc:  # the name does not resolve
            raise Invalid(str(exc), fields={"url": "does not resolve"}) from None
        if parsed.scheme != "https":
            address = parse_address(parsed.host)
            loopback = parsed.host == "localhost" or (address is not None and address.is_loopback)
            if not (self.policy.allow_loopback and loopback):
                raise Invalid(
                    "use an https:// URL: events are sent over TLS only (http:// is for "
                    "loopback receivers while TRADEWIND_ALLOW_SANDBOX_HOSTS is on)",
                    fields={"url": "not https"},
                )
        return cleaned


def _event_types(names: Sequence[str] | None) -> list[str]:
    if not names or list(names) == ["*"]:
        return []
    try:
        return check_types(list(names))
    except UnknownEventType as exc:
        raise Invalid(str(exc), fields={"event_types": "unknown event type"}) from None


def _headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for name, value in (headers or {}).items():
        lowered = name.strip().lower()
        if not _TOKEN.fullmatch(lowered):
            raise Invalid(f"{name!r} is not a header name", fields={"custom_headers": name})
        if lowered in RESERVED_HEADERS or lowered.startswith("tradewind-"):
            raise Invalid(
                f"the header {name.strip()} is set by Tradewind and cannot be overridden",
                fields={"custom_headers": name.strip()},
            )
        if len(value) > 1024 or any(ch in value for ch in "\r\n\0"):
            raise Invalid(
                f"the value of {name.strip()} must be one line of at most 1024 characters",
                fields={"custom_headers": name.strip()},
            )
        cleaned[lowered] = value
    if len(cleaned) > MAX_HEADERS:
        raise Invalid(
            f"at most {MAX_HEADERS} custom headers", fields={"custom_headers": "too many"}
        )
    return cleaned


def _channel(session: Session, channel_id: int | None) -> int | None:
    if channel_id is not None and session.get(Channel, channel_id) is None:
        raise Invalid(f"there is no channel {channel_id}", fields={"channel_id": "unknown"})
    return channel_id


def _concurrency(value: int) -> int:
    if not 1 <= value <= MAX_CONCURRENCY:
        raise Invalid(
            f"concurrency is 1 to {MAX_CONCURRENCY} requests at a time",
            fields={"max_concurrency": f"1–{MAX_CONCURRENCY}"},
        )
    return value


def _owner(subscription: WebhookSubscription) -> str:
    return f"webhook_subscription:{subscription.id}"


def _seal(
    vault: Vault,
    subscription: WebhookSubscription,
    current: str,
    previous: str = "",
    previous_until: dt.datetime | None = None,
) -> None:
    data = {"current": current}
    if previous and previous_until is not None:
        data |= {"previous": previous, "previous_until": previous_until.isoformat()}
    subscription.secrets = vault.seal(_PURPOSE, _owner(subscription), data)


def create_subscription(
    session: Session,
    vault: Vault,
    rules: UrlRules,
    *,
    url: str,
    event_types: Sequence[str] | None = None,
    channel_id: int | None = None,
    description: str = "",
    custom_headers: Mapping[str, str] | None = None,
    max_concurrency: int = 4,
) -> tuple[WebhookSubscription, str]:
    """A new active subscription and its secret (returned here, and never again)."""
    headers = _headers(custom_headers)
    subscription = WebhookSubscription(
        url=rules.check(url),
        event_types=_event_types(event_types),
        channel_id=_channel(session, channel_id),
        description=description.strip()[:255],
        max_concurrency=_concurrency(max_concurrency),
        secrets="",
        status=SubscriptionStatus.ACTIVE,
    )
    session.add(subscription)
    session.flush()  # the id binds the sealed secret to this row
    secret = signing.new_secret()
    _seal(vault, subscription, secret)
    _seal_headers(vault, subscription, headers)
    session.flush()
    return subscription, secret


def _seal_headers(
    vault: Vault, subscription: WebhookSubscription, headers: Mapping[str, str]
) -> None:
    """Keep the names in the clear and the values sealed (write-only from then on)."""
    subscription.custom_headers = sorted(headers)
    subscription.header_values = (
        vault.seal(_HEADERS_PURPOSE, _owner(subscription), headers) if headers else None
    )


def seal_plain_headers(session: Session, vault: Vault) -> int:
    """Seal the custom header values of endpoints made before they were sealed (kept as
    {name: value} in the clear until edited); how many endpoints were sealed. The
    engine's first sweep does it, so such values leave the row without anyone's edit."""
    sealed = 0
    for subscription in session.scalars(
        select(WebhookSubscription).where(WebhookSubscription.header_values.is_(None))
    ):
        plain = subscription.custom_headers
        if isinstance(plain, dict) and plain:
            _seal_headers(vault, subscription, {str(k): str(v) for k, v in plain.items()})
            sealed += 1
    return sealed


def header_names(subscription: WebhookSubscription) -> list[str]:
    """The custom headers' names: all that is shown of them."""
    return [str(name) for name in subscription.custom_headers or []]


def custom_headers(vault: Vault, subscription: WebhookSubscription) -> dict[str, str]:
    """The custom headers sent with each of the subscription's deliveries. Raises
    ``VaultError`` when no key opens them."""
    if subscription.header_values:
        return vault.open(_HEADERS_PURPOSE, _owner(subscription), subscription.header_values)
    legacy = subscription.custom_headers
    return {str(k): str(v) for k, v in legacy.items()} if isinstance(legacy, dict) else {}


def update_subscription(
    session: Session,
    vault: Vault,
    rules: UrlRules,
    subscription_id: int,
    *,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    channel_id: int | Literal["keep"] | None = "keep",
    description: str | None = None,
    custom_headers: Mapping[str, str] | None = None,
    max_concurrency: int | None = None,
) -> WebhookSubscription:
    subscription = get_subscription(session, subscription_id)
    if url is not None:
        subscription.url = rules.check(url)
    if event_types is not None:
        subscription.event_types = _event_types(event_types)
    if channel_id != "keep":
        subscription.channel_id = _channel(session, channel_id)
    if description is not None:
        subscription.description = description.strip()[:255]
    if custom_headers is not None:
        _seal_headers(vault, subscription, _headers(custom_headers))
    if max_concurrency is not None:
        subscription.max_concurrency = _concurrency(max_concurrency)
    session.flush()
    return subscription


def get_subscription(session: Session, subscription_id: int) -> WebhookSubscription:
    found = session.get(WebhookSubscription, subscription_id)
    if found is None:
        raise NotFound(f"there is no webhook subscription {subscription_id}")
    return found


def list_subscriptions(session: Session) -> list[WebhookSubscription]:
    return list(session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))


def delete_subscription(session: Session, subscription_id: int) -> None:
    session.delete(get_subscription(session, subscription_id))
    session.flush()


def secrets_in_force(
    vault: Vault, subscription: WebhookSubscription, now: dt.datetime
) -> list[str]:
    """The secrets that sign now, current first. Raises ``VaultError`` when no key opens
    them."""
    data = vault.open(_PURPOSE, _owner(subscription), subscription.secrets)
    found = [data["current"]]
    until = data.get("previous_until")
    if data.get("previous") and until and dt.datetime.fromisoformat(until) > now:
        found.append(data["previous"])
    return found


def secret_hint(vault: Vault, subscription: WebhookSubscription) -> str:
    """What may be shown of the current secret: its last 4 characters."""
    try:
        current = vault.open(_PURPOSE, _owner(subscription), subscription.secrets)["current"]
    except VaultError:
        return "set (cannot be decrypted)"
    return f"whsec_…{current[-4:]}"


def rotate_secret(
    session: Session, vault: Vault, subscription_id: int, *, now: dt.datetime | None = None
) -> str:
    """A new current secret (returned once); the one it replaces signs too for 24 h."""
    subscription = get_subscription(session, subscription_id)
    moment = now or utcnow()
    current = vault.open(_PURPOSE, _owner(subscription), subscription.secrets)["current"]
    fresh = signing.new_secret()
    _seal(vault, subscription, fresh, current, moment + ROTATION_OVERLAP)
    session.flush()
    return fresh


def pause(session: Session, subscription_id: int) -> WebhookSubscription:
    """Stop sending: deliveries keep being written and wait for ``resume``."""
    subscription = get_subscription(session, subscription_id)
    subscription.status = SubscriptionStatus.PAUSED
    session.flush()
    return subscription


def resume(session: Session, subscription_id: int) -> WebhookSubscription:
    """Send again (a paused or disabled subscription): what waits goes out now."""
    subscription = get_subscription(session, subscription_id)
    subscription.status = SubscriptionStatus.ACTIVE
    subscription.disabled_reason = ""
    subscription.failing_since = None
    session.flush()
    notifications.resolve(
        session,
        NotificationKind.WEBHOOK_ENDPOINT_DISABLED,
        subject=f"webhook endpoint {subscription.id}",
    )
    record(session, DeliveriesQueued(subscription_id=subscription.id))
    return subscription


def disable(session: Session, subscription: WebhookSubscription, reason: str) -> None:
    """Tradewind stops an endpoint: no new deliveries; a notification and a
    ``webhook_endpoint.disabled`` event to the other endpoints say so."""
    subscription.status = SubscriptionStatus.DISABLED
    subscription.disabled_reason = reason
    session.flush()
    notifications.raise_notification(
        session,
        NotificationKind.WEBHOOK_ENDPOINT_DISABLED,
        subject=f"webhook endpoint {subscription.id}",
        message=f"Webhooks to {subscription.url} were disabled: {reason}. Fix the endpoint, "
        "then resume it and recover its failed deliveries.",
    )
    record(
        session,
        EndpointDisabled(subscription_id=subscription.id, url=subscription.url, reason=reason),
    )


# ------------------------------------------------------------------ deliveries


def get_delivery(session: Session, delivery_id: int) -> WebhookDelivery:
    found = session.get(WebhookDelivery, delivery_id)
    if found is None:
        raise NotFound(f"there is no webhook delivery {delivery_id}")
    return found


def resend(session: Session, delivery_id: int) -> WebhookDelivery:
    """Send one delivery again now (a new attempt, the same ``webhook-id`` and body),
    whatever its state; it is not resent while an attempt of it is in flight."""
    delivery = get_delivery(session, delivery_id)
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = utcnow()
    delivery.trigger = AttemptTrigger.RESEND
    delivery.completed_at = None
    session.flush()
    record(session, DeliveriesQueued(subscription_id=delivery.subscription_id))
    return delivery


def recover(session: Session, subscription_id: int, since: dt.datetime) -> int:
    """Every failed delivery of the subscription since ``since`` goes again, oldest first:
    they are due one after the other, a fraction of a second apart (rate-limited)."""
    get_subscription(session, subscription_id)
    failed = list(
        session.scalars(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.subscription_id == subscription_id,
                WebhookDelivery.status == DeliveryStatus.FAILED,
                WebhookDelivery.created_at >= since,
            )
            .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
        )
    )
    now = utcnow()
    for position, delivery in enumerate(failed):
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = now + RECOVER_SPACING * position
        delivery.trigger = AttemptTrigger.RECOVER
        delivery.completed_at = None
    session.flush()
    if failed:
        record(session, DeliveriesQueued(subscription_id=subscription_id))
    return len(failed)


RECOVER_SPACING = dt.timedelta(milliseconds=100)


def send_test(session: Session, subscription_id: int, event_type: str) -> str:
    """A test event (``"test": true``, the type's example data) to this subscription
    only; returns its id. Sent even when the subscription does not take the type."""
    subscription = get_subscription(session, subscription_id)
    if event_type not in CATALOGUE:
        raise Invalid(
            f"{event_type!r} is not an event type; the types are: {', '.join(CATALOGUE)}",
            fields={"event_type": "unknown event type"},
        )
    ids = publish(
        session,
        [Outgoing(event_type, None, examples.EXAMPLES[event_type])],
        [subscription],
        utcnow(),
        test=True,
    )
    return ids[0]


def release_leases(session: Session, holder: str) -> None:
    """Free the subscriptions ``holder`` holds (a process stopping cleanly)."""
    session.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.lease_holder == holder)
        .values(lease_holder="", lease_until=None)
    )


# ------------------------------------------------------------------ the engine's


def due_subscriptions(session: Session, now: dt.datetime) -> list[int]:
    """Active subscriptions with a delivery due and no live drainer (the sweep kicks
    them: a lost queue message or a killed worker only delays a delivery)."""
    return list(
        session.scalars(
            select(WebhookSubscription.id)
            .where(
                WebhookSubscription.status == SubscriptionStatus.ACTIVE,
                (WebhookSubscription.lease_until.is_(None))
                | (WebhookSubscription.lease_until < now),
                select(WebhookDelivery.id)
                .where(
                    WebhookDelivery.subscription_id == WebhookSubscription.id,
                    WebhookDelivery.status == DeliveryStatus.PENDING,
                    WebhookDelivery.next_attempt_at <= now,
                )
                .exists(),
            )
            .order_by(WebhookSubscription.id)
        )
    )


EVENT_DAYS = 30
SUCCESS_ATTEMPT_DAYS = 7
FAILED_ATTEMPT_DAYS = 30
PURGE_BATCH = 1000


def purge(session: Session, now: dt.datetime, *, batch: int = PURGE_BATCH) -> bool:
    """One batch of retention (call again while it returns ``True``; one large delete
    would hold the database): events after 30 days (their deliveries and attempts with
    them), successful attempts after 7 days, failed ones after 30; at most ``batch`` rows
    of each. Returns whether a batch was full (more may be left)."""
    targets: list[tuple[type[Any], Any, list[Any]]] = [
        (
            WebhookAttempt,
            WebhookAttempt.id,
            [
                WebhookAttempt.succeeded.is_(True),
                WebhookAttempt.started_at < now - dt.timedelta(days=SUCCESS_ATTEMPT_DAYS),
            ],
        ),
        (
            WebhookAttempt,
            WebhookAttempt.id,
            [WebhookAttempt.started_at < now - dt.timedelta(days=FAILED_ATTEMPT_DAYS)],
        ),
        (
            WebhookEvent,
            WebhookEvent.id,
            [WebhookEvent.occurred_at < now - dt.timedelta(days=EVENT_DAYS)],
        ),
    ]
    full = False
    for model, key, conditions in targets:
        ids = list(session.scalars(select(key).where(*conditions).limit(batch)))
        if ids:
            session.execute(delete(model).where(key.in_(ids)))
        full = full or len(ids) == batch
    return full
