"""Settings → Webhooks: the merchant's endpoints with their success rate and latency, the
event log, each delivery's attempts (what was sent, secrets redacted, and what came
back), and the buttons: add, test, rotate secret, pause, resume, recover, resend."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from tradewind.auth.service import SessionUser
from tradewind.core.channels import service as channels
from tradewind.db import utcnow
from tradewind.errors import Invalid, TradewindError
from tradewind.web.app import page, redirect
from tradewind.web.session import hub_of, reader, writer
from tradewind.webhooks import history, service
from tradewind.webhooks.catalogue import CATALOGUE
from tradewind.webhooks.models import DeliveryStatus

router = APIRouter(include_in_schema=False)

HOME = "/settings/webhooks"
RECOVER_WINDOWS = {"1h": 1, "24h": 24, "7d": 24 * 7}


def _headers(text: str) -> dict[str, str]:
    """``Name: value`` lines."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise Invalid(f"a header is Name: value, got {line.strip()!r}")
        found[name.strip()] = value.strip()
    return found


def _overview(request: Request, **extra: Any) -> HTMLResponse:
    hub = hub_of(request)
    now = utcnow()
    with hub.db.read() as session:
        rows = [
            {
                "subscription": item,
                "secret": service.secret_hint(hub.vault, item),
                "stats": history.stats(session, item.id, now - dt.timedelta(hours=24)),
                "hours": history.hourly(session, item.id, now),
            }
            for item in service.list_subscriptions(session)
        ]
        channel_list = channels.list_channels(session)
    return page(
        request,
        "webhooks.html",
        title="Webhooks",
        rows=rows,
        channels=channel_list,
        types=list(CATALOGUE.values()),
        windows=list(RECOVER_WINDOWS),
        **extra,
    )


@router.get("/settings/webhooks")
def overview(request: Request, _user: SessionUser = Depends(reader)) -> HTMLResponse:
    return _overview(request)


@router.post("/settings/webhooks")
def add(
    request: Request,
    url: str = Form(..., max_length=2048),
    event_types: list[str] = Form([]),
    channel_id: str = Form(""),
    description: str = Form("", max_length=255),
    headers: str = Form("", max_length=20000),
    _user: SessionUser = Depends(writer),
) -> Response:
    """Add an endpoint; the page shows its secret this once (never in a redirect)."""
    hub = hub_of(request)
    try:
        with hub.db.unit_of_work() as session:
            subscription, secret = service.create_subscription(
                session,
                hub.vault,
                service.UrlRules(hub.outbound),
                url=url,
                event_types=event_types,
                channel_id=int(channel_id) if channel_id.strip().isdigit() else None,
                description=description,
                custom_headers=_headers(headers),
            )
    except TradewindError as exc:
        return _overview(request, error=exc.message, form={"url": url, "description": description})
    return _overview(request, created=subscription.id, secret=secret)


@router.post("/settings/webhooks/{subscription_id}/rotate")
def rotate(
    request: Request, subscription_id: int, _user: SessionUser = Depends(writer)
) -> Response:
    hub = hub_of(request)
    with hub.db.unit_of_work() as session:
        secret = service.rotate_secret(session, hub.vault, subscription_id)
    return _overview(request, created=subscription_id, secret=secret, rotated=True)


@router.post("/settings/webhooks/{subscription_id}/pause")
def pause(request: Request, subscription_id: int, _user: SessionUser = Depends(writer)) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        service.pause(session, subscription_id)
    return redirect(request, HOME, f"Endpoint {subscription_id} paused: its deliveries wait.")


@router.post("/settings/webhooks/{subscription_id}/resume")
def resume(
    request: Request, subscription_id: int, _user: SessionUser = Depends(writer)
) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        service.resume(session, subscription_id)
    return redirect(request, HOME, f"Endpoint {subscription_id} active again.")


@router.post("/settings/webhooks/{subscription_id}/test")
def send_test(
    request: Request,
    subscription_id: int,
    event_type: str = Form(..., max_length=64),
    _user: SessionUser = Depends(writer),
) -> Response:
    try:
        with hub_of(request).db.unit_of_work() as session:
            event_id = service.send_test(session, subscription_id, event_type)
    except TradewindError as exc:
        return redirect(request, HOME, exc.message, error=True)
    return redirect(
        request, f"{HOME}/{subscription_id}", f"Test {event_type} event {event_id} queued."
    )


@router.post("/settings/webhooks/{subscription_id}/recover")
def recover(
    request: Request,
    subscription_id: int,
    window: str = Form("24h"),
    _user: SessionUser = Depends(writer),
) -> Response:
    hours = RECOVER_WINDOWS.get(window, 24)
    with hub_of(request).db.unit_of_work() as session:
        count = service.recover(session, subscription_id, utcnow() - dt.timedelta(hours=hours))
    return redirect(
        request,
        f"{HOME}/{subscription_id}",
        f"{count} failed deliveries of the last {window} queued again, oldest first.",
    )


@router.post("/settings/webhooks/{subscription_id}/delete")
def delete(
    request: Request, subscription_id: int, _user: SessionUser = Depends(writer)
) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        service.delete_subscription(session, subscription_id)
    return redirect(request, HOME, f"Endpoint {subscription_id} removed.")


@router.get("/settings/webhooks/events")
def event_log(
    request: Request,
    type: str = Query("", max_length=64),
    before: str = Query("", max_length=40),
    _user: SessionUser = Depends(reader),
) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        events = history.events(session, event_type=type or None, before=before or None, limit=50)
        delivered = {
            event.id: history.deliveries(session, event_id=event.id, limit=20) for event in events
        }
    return page(
        request,
        "webhook_events.html",
        title="Webhook events",
        events=events,
        delivered=delivered,
        types=list(CATALOGUE),
        chosen=type,
    )


@router.get("/settings/webhooks/deliveries/{delivery_id}")
def delivery_page(
    request: Request, delivery_id: int, _user: SessionUser = Depends(reader)
) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        delivery = service.get_delivery(session, delivery_id)
        event = history.get_event(session, delivery.event_id)
        attempts = history.attempts(session, delivery_id)
        subscription = service.get_subscription(session, delivery.subscription_id)
    return page(
        request,
        "webhook_delivery.html",
        title=f"Delivery {delivery_id}",
        delivery=delivery,
        event=event,
        body=json.dumps(json.loads(event.body), indent=2),
        attempts=attempts,
        subscription=subscription,
    )


@router.post("/settings/webhooks/deliveries/{delivery_id}/resend")
def resend(request: Request, delivery_id: int, _user: SessionUser = Depends(writer)) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        service.resend(session, delivery_id)
    return redirect(
        request, f"{HOME}/deliveries/{delivery_id}", "Resent: a new attempt is on its way."
    )


@router.get("/settings/webhooks/{subscription_id}")
def endpoint_page(
    request: Request,
    subscription_id: int,
    status: str = Query("", max_length=16),
    _user: SessionUser = Depends(reader),
) -> HTMLResponse:
    hub = hub_of(request)
    chosen = DeliveryStatus(status) if status in {s.value for s in DeliveryStatus} else None
    now = utcnow()
    with hub.db.read() as session:
        subscription = service.get_subscription(session, subscription_id)
        rows = history.deliveries(session, subscription_id=subscription_id, status=chosen)
        events = {row.event_id: history.get_event(session, row.event_id) for row in rows}
        stats = history.stats(session, subscription_id, now - dt.timedelta(hours=24))
        hours = history.hourly(session, subscription_id, now)
    return page(
        request,
        "webhook.html",
        title=f"Webhook endpoint {subscription_id}",
        subscription=subscription,
        secret=service.secret_hint(hub.vault, subscription),
        deliveries=rows,
        events=events,
        stats=stats,
        hours=hours,
        statuses=[s.value for s in DeliveryStatus],
        chosen=status,
        types=list(CATALOGUE),
        windows=list(RECOVER_WINDOWS),
    )
