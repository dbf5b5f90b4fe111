"""``tradewind webhooks``: the merchant's endpoints for outgoing events, on the command
line (add, list, test, recover, rotate-secret, pause, resume, remove, deliveries, resend,
types)."""

from __future__ import annotations

import datetime as dt
import re

import typer

from tradewind.cli.common import console, fail, parse_assignments, running, table
from tradewind.core.channels import service as channels
from tradewind.db import utcnow
from tradewind.webhooks import history, service
from tradewind.webhooks.catalogue import CATALOGUE
from tradewind.webhooks.models import DeliveryStatus

app = typer.Typer(help="Outgoing webhooks to the merchant's other systems.", no_args_is_help=True)

_AGO = re.compile(r"(\d+)\s*([mhd])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_since(value: str) -> dt.datetime:
    """``24h``, ``30m``, ``7d`` ago, or an ISO 8601 time (UTC when it names no zone)."""
    ago = _AGO.fullmatch(value.strip())
    if ago:
        return utcnow() - dt.timedelta(**{_UNITS[ago.group(2)]: int(ago.group(1))})
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        fail(f"--since takes 24h, 30m, 7d or an ISO time, got {value!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@app.command()
def add(
    ctx: typer.Context,
    url: str = typer.Argument(..., help="Where events are POSTed (https://)."),
    event: list[str] = typer.Option(
        [], "--event", "-e", help="An event type to send (repeat); none sends every type."
    ),
    channel: str | None = typer.Option(
        None, help="Only this channel's orders, shipments and returns (name or id)."
    ),
    description: str = typer.Option("", help="What the endpoint is."),
    header: list[str] = typer.Option([], "--header", help="A header to send, name=value (repeat)."),
    concurrency: int = typer.Option(4, help="Requests in flight at once (1–16)."),
) -> None:
    """Add an endpoint; its signing secret is printed this once."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        channel_id = channels.channel_by_ref(session, channel).id if channel else None
        subscription, secret = service.create_subscription(
            session,
            hub.vault,
            service.UrlRules(hub.outbound),
            url=url,
            event_types=event,
            channel_id=channel_id,
            description=description,
            custom_headers=parse_assignments(header),
            max_concurrency=concurrency,
        )
        console.print(f"webhook endpoint {subscription.id}: {subscription.url}")
    console.print(f"signing secret (shown once): {secret}", highlight=False, soft_wrap=True)


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """The endpoints, with their last day's success rate and latency."""
    since = utcnow() - dt.timedelta(hours=24)
    with running(ctx) as hub, hub.db.read() as session:
        rows = []
        for item in service.list_subscriptions(session):
            stats = history.stats(session, item.id, since)
            rate = f"{stats.success_rate:.0%}" if stats.success_rate is not None else ""
            rows.append(
                (
                    item.id,
                    item.url,
                    item.status.value
                    + (f" ({item.disabled_reason})" if item.disabled_reason else ""),
                    ", ".join(item.event_types) or "all",
                    item.channel_id or "",
                    service.secret_hint(hub.vault, item),
                    f"{stats.attempts} / {rate}" if stats.attempts else "",
                    f"{stats.p50_ms} / {stats.p95_ms}" if stats.attempts else "",
                    item.description,
                )
            )
        table(
            "Webhook endpoints",
            [
                "id",
                "url",
                "status",
                "events",
                "channel",
                "secret",
                "24h tries / ok",
                "p50 / p95 ms",
                "description",
            ],
            rows,
        )


@app.command("test")
def send_test(
    ctx: typer.Context,
    subscription_id: int = typer.Argument(..., help="The endpoint's id."),
    event_type: str = typer.Option("order.created", "--type", help="The event type to send."),
) -> None:
    """Send a test event (``"test": true``, the type's example data) to one endpoint."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        event_id = service.send_test(session, subscription_id, event_type)
    console.print(f"test event {event_id} ({event_type}) queued for endpoint {subscription_id}")


@app.command()
def recover(
    ctx: typer.Context,
    subscription_id: int = typer.Argument(..., help="The endpoint's id."),
    since: str = typer.Option("24h", help="Failed deliveries since: 24h, 7d or an ISO time."),
) -> None:
    """Send again every failed delivery of the endpoint since a time, oldest first."""
    moment = parse_since(since)
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        count = service.recover(session, subscription_id, moment)
    console.print(f"{count} failed deliveries queued again for endpoint {subscription_id}")


@app.command("rotate-secret")
def rotate_secret(
    ctx: typer.Context, subscription_id: int = typer.Argument(..., help="The endpoint's id.")
) -> None:
    """A new signing secret, printed this once; the old one signs too for 24 hours."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        secret = service.rotate_secret(session, hub.vault, subscription_id)
    console.print(f"new signing secret (shown once): {secret}", highlight=False, soft_wrap=True)
    console.print("the previous secret keeps signing for 24 hours")


@app.command()
def pause(
    ctx: typer.Context, subscription_id: int = typer.Argument(..., help="The endpoint's id.")
) -> None:
    """Stop sending to the endpoint; its deliveries wait."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        service.pause(session, subscription_id)
    console.print(f"endpoint {subscription_id} paused")


@app.command()
def resume(
    ctx: typer.Context, subscription_id: int = typer.Argument(..., help="The endpoint's id.")
) -> None:
    """Send to the endpoint again (paused or disabled); what waits goes out."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        service.resume(session, subscription_id)
    console.print(f"endpoint {subscription_id} active")


@app.command()
def remove(
    ctx: typer.Context, subscription_id: int = typer.Argument(..., help="The endpoint's id.")
) -> None:
    """Remove the endpoint with its deliveries."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        service.delete_subscription(session, subscription_id)
    console.print(f"endpoint {subscription_id} removed")


@app.command()
def deliveries(
    ctx: typer.Context,
    subscription_id: int | None = typer.Argument(None, help="Only this endpoint's."),
    status: DeliveryStatus | None = typer.Option(None, help="Only deliveries in this state."),
    limit: int = typer.Option(20, min=1, max=200),
) -> None:
    """Deliveries, newest first."""
    with running(ctx) as hub, hub.db.read() as session:
        rows = history.deliveries(
            session, subscription_id=subscription_id, status=status, limit=limit
        )
        table(
            "Webhook deliveries",
            ["id", "endpoint", "event", "status", "attempts", "next attempt", "last"],
            [
                (
                    row.id,
                    row.subscription_id,
                    row.event_id,
                    row.status.value,
                    row.attempts,
                    f"{row.next_attempt_at:%Y-%m-%d %H:%M:%S}" if row.next_attempt_at else "",
                    row.last_error,
                )
                for row in rows
            ],
        )


@app.command()
def resend(
    ctx: typer.Context, delivery_id: int = typer.Argument(..., help="The delivery's id.")
) -> None:
    """Send one delivery again now (the same webhook-id and body)."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        service.resend(session, delivery_id)
    console.print(f"delivery {delivery_id} queued again")


@app.command()
def types() -> None:
    """The event types that can be sent."""
    table(
        "Event types",
        ["type", "description"],
        [(kind.name, kind.description) for kind in CATALOGUE.values()],
    )
