"""Outgoing webhooks: subscriptions (endpoints) with their secret shown once, rotation,
pause and resume, test events and recovery; the event log; deliveries with every attempt,
and resend; the event types with their published JSON Schemas."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import Depends, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from tradewind.api.pagination import Page, PageParams, page_params, paginate
from tradewind.api.problems import responses
from tradewind.api.routers import resource_router
from tradewind.api.security import hub_of
from tradewind.db import utcnow
from tradewind.errors import NotFound
from tradewind.hub import Hub
from tradewind.webhooks import history, service
from tradewind.webhooks.catalogue import API_VERSION, CATALOGUE, envelope_schema
from tradewind.webhooks.examples import EXAMPLES
from tradewind.webhooks.models import (
    DeliveryStatus,
    SubscriptionStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)

router = resource_router("outgoing webhooks")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


WRITE_ONLY = "(write-only)"


class SubscriptionIn(BaseModel):
    url: str = Field(max_length=2048, description="https:// (public hosts only).")
    event_types: list[str] = Field(
        default_factory=list, max_length=64, description='Empty (or ["*"]) for every type.'
    )
    channel_id: int | None = Field(
        default=None, description="Only this channel's orders, shipments and returns."
    )
    description: str = Field(default="", max_length=255)
    custom_headers: dict[str, str] = Field(
        default_factory=dict, description="Sent with every delivery; never ours or Authorization."
    )
    max_concurrency: int = Field(default=4, description="Requests in flight at once, 1–16.")


class SubscriptionPatch(BaseModel):
    url: str | None = Field(default=None, max_length=2048)
    event_types: list[str] | None = Field(default=None, max_length=64)
    channel_id: int | None = None
    description: str | None = Field(default=None, max_length=255)
    custom_headers: dict[str, str] | None = None
    max_concurrency: int | None = None


class StatsOut(BaseModel):
    attempts: int
    succeeded: int
    success_rate: float | None
    p50_ms: int | None
    p95_ms: int | None


class SubscriptionOut(BaseModel):
    id: int
    url: str
    description: str
    event_types: list[str] = Field(description="Empty: every type.")
    channel_id: int | None
    custom_headers: dict[str, str] = Field(
        description="The names, each with the mask `(write-only)`: their values may be "
        "credentials, so they are kept encrypted and never shown."
    )
    max_concurrency: int
    status: SubscriptionStatus
    disabled_reason: str
    failing_since: dt.datetime | None
    secret: str = Field(description="The last 4 characters of the signing secret.")
    stats_24h: StatsOut
    created_at: dt.datetime


class SubscriptionCreated(SubscriptionOut):
    signing_secret: str = Field(description="Shown this once: store it to verify signatures.")


class RotatedOut(BaseModel):
    signing_secret: str = Field(description="The new secret, shown this once.")
    previous_valid_until: dt.datetime = Field(description="The old secret signs too until then.")


class RecoverIn(BaseModel):
    since: dt.datetime = Field(description="Failed deliveries created since then go again.")


class RecoveredOut(BaseModel):
    queued: int


class TestIn(BaseModel):
    event_type: str = Field(max_length=64)


class TestOut(BaseModel):
    event_id: str


class EventOut(BaseModel):
    id: str
    type: str
    api_version: str
    channel_id: int | None
    occurred_at: dt.datetime
    test: bool
    body: dict[str, Any] = Field(description="The envelope exactly as sent (parsed).")


class DeliveryOut(Out):
    id: int
    event_id: str
    subscription_id: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: dt.datetime | None
    last_status: int | None
    last_error: str
    created_at: dt.datetime
    completed_at: dt.datetime | None


class AttemptOut(Out):
    number: int
    trigger: str
    started_at: dt.datetime
    duration_ms: int
    request_headers: dict[str, str] = Field(description="As sent; signatures redacted.")
    response_status: int | None
    response_headers: dict[str, Any]
    response_body: str = Field(description="The first 4 KiB.")
    error_kind: str | None
    error: str
    succeeded: bool


class DeliveryDetail(DeliveryOut):
    attempt_history: list[AttemptOut]


class EventTypeOut(BaseModel):
    type: str
    description: str
    api_version: str
    schema_: dict[str, Any] = Field(alias="schema", description="JSON Schema of the event.")
    example: dict[str, Any] = Field(description="An example `data`.")

    model_config = ConfigDict(populate_by_name=True)


def _subscription_out(hub: Hub, session: Any, row: WebhookSubscription) -> SubscriptionOut:
    stats = history.stats(session, row.id, utcnow() - dt.timedelta(hours=24))
    return SubscriptionOut(
        id=row.id,
        url=row.url,
        description=row.description,
        event_types=list(row.event_types or []),
        channel_id=row.channel_id,
        custom_headers=dict.fromkeys(service.header_names(row), WRITE_ONLY),
        max_concurrency=row.max_concurrency,
        status=row.status,
        disabled_reason=row.disabled_reason,
        failing_since=row.failing_since,
        secret=service.secret_hint(hub.vault, row),
        stats_24h=StatsOut(
            attempts=stats.attempts,
            succeeded=stats.succeeded,
            success_rate=stats.success_rate,
            p50_ms=stats.p50_ms,
            p95_ms=stats.p95_ms,
        ),
        created_at=row.created_at,
    )


def _event_out(row: WebhookEvent) -> EventOut:
    return EventOut(
        id=row.id,
        type=row.type,
        api_version=row.api_version,
        channel_id=row.channel_id,
        occurred_at=row.occurred_at,
        test=row.test,
        body=json.loads(row.body),
    )


# ------------------------------------------------------------------ subscriptions


@router.get("/webhook-subscriptions", response_model=Page[SubscriptionOut])
def list_subscriptions(
    request: Request, page: PageParams = Depends(page_params)
) -> Page[SubscriptionOut]:
    hub = hub_of(request)
    with hub.db.read() as session:
        rows = [row for row in service.list_subscriptions(session) if row.id > page.after_id]
        return paginate(
            rows[: page.limit + 1],
            page.limit,
            lambda row: _subscription_out(hub, session, row),
            lambda row: row.id,
        )


@router.post(
    "/webhook-subscriptions",
    status_code=status.HTTP_201_CREATED,
    response_model=SubscriptionCreated,
)
def create_subscription(request: Request, body: SubscriptionIn) -> SubscriptionCreated:
    """Add an endpoint. The answer carries its signing secret, this once."""
    hub = hub_of(request)
    with hub.db.unit_of_work() as session:
        row, secret = service.create_subscription(
            session,
            hub.vault,
            service.UrlRules(hub.outbound),
            url=body.url,
            event_types=body.event_types,
            channel_id=body.channel_id,
            description=body.description,
            custom_headers=body.custom_headers,
            max_concurrency=body.max_concurrency,
        )
        out = _subscription_out(hub, session, row)
    return SubscriptionCreated(**out.model_dump(), signing_secret=secret)


@router.get(
    "/webhook-subscriptions/{subscription_id}",
    response_model=SubscriptionOut,
    responses=responses(404),
)
def get_subscription(request: Request, subscription_id: int) -> SubscriptionOut:
    hub = hub_of(request)
    with hub.db.read() as session:
        return _subscription_out(hub, session, service.get_subscription(session, subscription_id))


@router.patch(
    "/webhook-subscriptions/{subscription_id}",
    response_model=SubscriptionOut,
    responses=responses(404),
)
def update_subscription(
    request: Request, subscription_id: int, body: SubscriptionPatch
) -> SubscriptionOut:
    """Change what is given (``channel_id: null`` removes the channel filter)."""
    hub = hub_of(request)
    given = body.model_fields_set
    with hub.db.unit_of_work() as session:
        row = service.update_subscription(
            session,
            hub.vault,
            service.UrlRules(hub.outbound),
            subscription_id,
            url=body.url,
            event_types=body.event_types,
            channel_id=body.channel_id if "channel_id" in given else "keep",
            description=body.description,
            custom_headers=body.custom_headers,
            max_concurrency=body.max_concurrency,
        )
        return _subscription_out(hub, session, row)


@router.delete(
    "/webhook-subscriptions/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(404),
)
def delete_subscription(request: Request, subscription_id: int) -> Response:
    """Remove the endpoint with its deliveries and their attempts."""
    with hub_of(request).db.unit_of_work() as session:
        service.delete_subscription(session, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/webhook-subscriptions/{subscription_id}/pause",
    response_model=SubscriptionOut,
    responses=responses(404),
)
def pause_subscription(request: Request, subscription_id: int) -> SubscriptionOut:
    """Stop sending; deliveries keep being written and wait."""
    hub = hub_of(request)
    with hub.db.unit_of_work() as session:
        return _subscription_out(hub, session, service.pause(session, subscription_id))


@router.post(
    "/webhook-subscriptions/{subscription_id}/resume",
    response_model=SubscriptionOut,
    responses=responses(404),
)
def resume_subscription(request: Request, subscription_id: int) -> SubscriptionOut:
    """Send again (a paused or a disabled endpoint): what waits goes out."""
    hub = hub_of(request)
    with hub.db.unit_of_work() as session:
        return _subscription_out(hub, session, service.resume(session, subscription_id))


@router.post(
    "/webhook-subscriptions/{subscription_id}/rotate-secret",
    response_model=RotatedOut,
    responses=responses(404),
)
def rotate_secret(request: Request, subscription_id: int) -> RotatedOut:
    """A new signing secret (shown once); the old one keeps signing for 24 hours."""
    hub = hub_of(request)
    now = utcnow()
    with hub.db.unit_of_work() as session:
        secret = service.rotate_secret(session, hub.vault, subscription_id, now=now)
    return RotatedOut(signing_secret=secret, previous_valid_until=now + service.ROTATION_OVERLAP)


@router.post(
    "/webhook-subscriptions/{subscription_id}/recover",
    response_model=RecoveredOut,
    responses=responses(404),
)
def recover(request: Request, subscription_id: int, body: RecoverIn) -> RecoveredOut:
    """Send again every failed delivery of the endpoint since ``since``, oldest first."""
    since = body.since if body.since.tzinfo else body.since.replace(tzinfo=dt.UTC)
    with hub_of(request).db.unit_of_work() as session:
        return RecoveredOut(queued=service.recover(session, subscription_id, since))


@router.post(
    "/webhook-subscriptions/{subscription_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TestOut,
    responses=responses(404),
)
def send_test(request: Request, subscription_id: int, body: TestIn) -> TestOut:
    """Send a test event (``"test": true``, the type's example data) to this endpoint."""
    with hub_of(request).db.unit_of_work() as session:
        return TestOut(event_id=service.send_test(session, subscription_id, body.event_type))


# ------------------------------------------------------------------------ events


@router.get("/webhook-events", response_model=list[EventOut])
def list_events(
    request: Request,
    type: str | None = Query(default=None, max_length=64),
    channel_id: int | None = None,
    before: str | None = Query(
        default=None, max_length=40, description="An event id: the page after it."
    ),
    limit: int = Query(default=50, ge=1, le=200),
) -> list[EventOut]:
    """The event log, newest first."""
    with hub_of(request).db.read() as session:
        rows = history.events(
            session, event_type=type, channel_id=channel_id, before=before, limit=limit
        )
        return [_event_out(row) for row in rows]


@router.get("/webhook-events/{event_id}", response_model=EventOut, responses=responses(404))
def get_event(request: Request, event_id: str) -> EventOut:
    with hub_of(request).db.read() as session:
        return _event_out(history.get_event(session, event_id))


@router.get("/webhook-event-types", response_model=list[EventTypeOut])
def list_event_types() -> list[EventTypeOut]:
    """Every event type with its JSON Schema and an example."""
    return [_event_type(name) for name in CATALOGUE]


@router.get(
    "/webhook-event-types/{event_type}", response_model=EventTypeOut, responses=responses(404)
)
def get_event_type(event_type: str) -> EventTypeOut:
    if event_type not in CATALOGUE:
        raise NotFound(f"{event_type!r} is not an event type")
    return _event_type(event_type)


def _event_type(name: str) -> EventTypeOut:
    return EventTypeOut(
        type=name,
        description=CATALOGUE[name].description,
        api_version=API_VERSION,
        schema_=envelope_schema(name),
        example=EXAMPLES[name],
    )


# -------------------------------------------------------------------- deliveries


@router.get("/webhook-deliveries", response_model=Page[DeliveryOut])
def list_deliveries(
    request: Request,
    page: PageParams = Depends(page_params),
    subscription_id: int | None = None,
    event_id: str | None = Query(default=None, max_length=40),
    status_: DeliveryStatus | None = Query(default=None, alias="status"),
) -> Page[DeliveryOut]:
    """Deliveries, newest first."""
    with hub_of(request).db.read() as session:
        rows: list[WebhookDelivery] = history.deliveries(
            session,
            subscription_id=subscription_id,
            event_id=event_id,
            status=status_,
            before_id=page.after_id or None,
            limit=page.limit + 1,
        )
        return paginate(rows, page.limit, DeliveryOut.model_validate, lambda row: row.id)


@router.get(
    "/webhook-deliveries/{delivery_id}", response_model=DeliveryDetail, responses=responses(404)
)
def get_delivery(request: Request, delivery_id: int) -> DeliveryDetail:
    """A delivery with every attempt: what was sent and what came back."""
    with hub_of(request).db.read() as session:
        row = service.get_delivery(session, delivery_id)
        tried: list[WebhookAttempt] = history.attempts(session, delivery_id)
        return DeliveryDetail(
            **DeliveryOut.model_validate(row).model_dump(),
            attempt_history=[AttemptOut.model_validate(item) for item in tried],
        )


@router.post(
    "/webhook-deliveries/{delivery_id}/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryOut,
    responses=responses(404),
)
def resend(request: Request, delivery_id: int) -> DeliveryOut:
    """Send the delivery again now: a new attempt, the same ``webhook-id`` and body."""
    with hub_of(request).db.unit_of_work() as session:
        return DeliveryOut.model_validate(service.resend(session, delivery_id))
