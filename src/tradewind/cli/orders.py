"""``tradewind orders``."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal

import typer

from tradewind.app import orders as order_actions
from tradewind.cli.common import console, fail, running, table
from tradewind.core.orders import listing, payments
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import FinancialStatus, FulfillmentStatus, OrderStatus
from tradewind.sync import decisions
from tradewind.sync import gaps as gap_reports

app = typer.Typer(help="Orders.", no_args_is_help=True)


def _filter(
    placed: str | None,
    placed_from: str | None,
    placed_to: str | None,
    tz: str,
    **fields: object,
) -> tuple[listing.OrderFilter, dt.tzinfo]:
    try:
        zone = listing.zone_named(tz)
    except ValueError as exc:
        fail(str(exc))
    start = end = None
    if placed:
        try:
            start, end = listing.placed_range(listing.Placed(placed), zone)
        except ValueError:
            fail(f"--placed is one of {', '.join(p.value for p in listing.Placed)}")
    try:
        # A date is the merchant's day in --tz; --placed-to includes its whole day.
        if placed_from:
            start = _moment(placed_from, zone, end_of_day=False)
        if placed_to:
            end = _moment(placed_to, zone, end_of_day=True)
    except ValueError:
        fail("--placed-from/--placed-to take a date (2026-12-01) or an ISO 8601 time")
    return listing.OrderFilter(placed_from=start, placed_to=end, **fields), zone  # type: ignore[arg-type]


def _moment(text: str, zone: dt.tzinfo, *, end_of_day: bool) -> dt.datetime:
    if len(text) == 10:
        day = dt.date.fromisoformat(text) + dt.timedelta(days=1 if end_of_day else 0)
        return dt.datetime.combine(day, dt.time(), tzinfo=zone)
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


@app.command("list")
def list_(
    ctx: typer.Context,
    status: OrderStatus = typer.Option(None),
    financial: FinancialStatus = typer.Option(None, help="Financial status."),
    fulfillment: FulfillmentStatus = typer.Option(None, help="Fulfilment status."),
    channel: int = typer.Option(None, help="Channel id."),
    plugin: int = typer.Option(None, help="Plugin id."),
    flagged: listing.Flag = typer.Option(None, help="Orders with something to fix."),
    missing_product: bool = typer.Option(None, "--missing-product/--matched"),
    placed: str = typer.Option(None, help="today, yesterday or 7d (days in --tz)."),
    placed_from: str = typer.Option(None, help="From this date or time (inclusive)."),
    placed_to: str = typer.Option(None, help="To this date (its whole day) or time."),
    tz: str = typer.Option("UTC", help="IANA time zone of days and times shown."),
    search: str = typer.Option(None, "--search", "-q", help="Number, customer, email or SKU."),
    sort: str = typer.Option("-placed_at", help="placed_at, number, total, customer, status."),
    limit: int = typer.Option(100, min=1, max=10_000),
    csv_out: bool = typer.Option(False, "--csv", help="Every matching order as CSV."),
) -> None:
    """List orders, newest first (by when they were placed) unless --sort says otherwise."""
    try:
        order_sort = listing.Sort.parse(sort)
    except ValueError as exc:
        fail(str(exc))
    flt, zone = _filter(
        placed,
        placed_from,
        placed_to,
        tz,
        channel_id=channel,
        plugin_id=plugin,
        status=status,
        financial_status=financial,
        fulfillment_status=fulfillment,
        flagged=flagged,
        missing_product=missing_product,
        search=search or "",
    )
    with running(ctx) as hub:
        if csv_out:
            for chunk in order_actions.export_csv(hub, flt, order_sort, zone=zone):
                sys.stdout.write(chunk)
            return
        with hub.db.read() as session:
            rows = listing.find(session, flt, order_sort, limit=limit)
            total = listing.count(session, flt)
        table(
            f"Orders ({len(rows)} of {total})",
            ["id", "number", "placed", "customer", "status", "paid", "fulfilled", "total", "flags"],
            [
                (
                    o.id,
                    o.number,
                    o.placed_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                    row.customer_name or o.email,
                    o.status.value,
                    o.financial_status.value,
                    o.fulfillment_status.value,
                    f"{o.total:.2f} {o.currency}",
                    ", ".join(
                        flag
                        for flag, on in (
                            ("missing product", o.missing_product),
                            ("missing customer fields", bool(o.missing_customer_fields)),
                        )
                        if on
                    ),
                )
                for row in rows
                for o in (row.order,)
            ],
        )


@app.command()
def show(ctx: typer.Context, order_id: int) -> None:
    """An order with its lines and timeline."""
    with running(ctx) as hub, hub.db.read() as session:
        order = orders.get_order(session, order_id)
        console.print(
            f"[bold]{order.number}[/bold] {order.status.value} / {order.financial_status.value} /"
            f" {order.fulfillment_status.value} — {order.total:.2f} {order.currency}"
        )
        table(
            "Lines",
            ["SKU", "title", "qty", "shipped", "product"],
            [
                (
                    line.sku,
                    line.title,
                    line.quantity,
                    line.shipped_quantity,
                    line.product_id or "unmatched",
                )
                for line in order.lines
            ],
        )
        for entry in orders.activities(session, order.id):
            console.print(
                f"  {entry.occurred_at:%Y-%m-%d %H:%M:%S}  {entry.message}", highlight=False
            )


@app.command()
def cancel(ctx: typer.Context, order_id: int, reason: str = typer.Option("")) -> None:
    """Cancel an order and release its reservations."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        order = orders.cancel_order(session, order_id, reason)
        console.print(f"order {order.number} cancelled")


@app.command()
def bulk(
    ctx: typer.Context,
    action: order_actions.BulkAction,
    order_ids: list[int],
    reason: str = typer.Option("", help="why they are cancelled (cancel only)"),
) -> None:
    """An action on many orders, as the orders list's bulk actions: cancel (open orders),
    retry-export (orders made here and not yet on their platform) or rematch (open orders'
    unmatched lines, by SKU or barcode). Says which it changed and why it left the others;
    exits 1 when it changed none."""
    if len(set(order_ids)) > order_actions.MAX_SELECTED:
        fail(f"at most {order_actions.MAX_SELECTED} orders at once")
    with running(ctx) as hub:
        outcome = order_actions.bulk(hub, action, order_ids, reason)
    console.print(outcome.message(), highlight=False)
    if not outcome.done:
        raise typer.Exit(1)


@app.command()
def pay(
    ctx: typer.Context,
    order_id: int,
    amount: Decimal = typer.Argument(...),
    method: str = typer.Option("", help="cash, bank transfer, …"),
    reference: str = typer.Option("", help="e.g. the transfer's id"),
) -> None:
    """Record a payment made outside the platform for an unpaid order."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        given = payments.PaymentIn(amount=amount, method=method, reference=reference)
        payments.record_payment(session, order_id, given, by="cli")
        order = orders.get_order(session, order_id)
        console.print(f"{order.number}: {order.financial_status.value.replace('_', ' ')}")


@app.command()
def decision(ctx: typer.Context, plugin_id: int, order: str) -> None:
    """What Tradewind last decided about an order of the plugin (its id on the platform,
    or its number), why, and the fix; with the decisions that led there."""
    with running(ctx) as hub, hub.db.read() as session:
        found = decisions.latest(session, plugin_id, order)
        if found is None:
            fail(f"plugin {plugin_id} has seen no order {order!r}")
        reason = f" — {found.code}: {found.reason}" if found.code else ""
        console.print(
            f"[bold]{found.number or found.external_id}[/bold] {found.decision.value} "
            f"(by {found.path.value}, {found.seen_at:%Y-%m-%d %H:%M} UTC){reason}",
            highlight=False,
        )
        if found.code and decisions.fix_for(found.code):
            console.print(f"Fix: {decisions.fix_for(found.code)}", highlight=False)
        table(
            "History",
            ["seen", "by", "decision", "code"],
            [
                (e.seen_at.strftime("%Y-%m-%d %H:%M"), e.path.value, e.decision.value, e.code)
                for e in decisions.history(session, plugin_id, found.external_id)
            ],
        )


@app.command()
def gaps(
    ctx: typer.Context,
    plugin_id: int,
    day: dt.datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help="report this day now"),
    import_missing: bool = typer.Option(False, help="re-read the day's missing orders"),
) -> None:
    """The plugin's gap reports: each day's orders on the platform against Tradewind's.
    ``--day D`` queues a report of that day (the worker makes it); with
    ``--import-missing``, the day's missing orders are read again instead."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        if day is not None and import_missing:
            queued = gap_reports.import_missing(session, plugin_id, day.date())
            console.print(f"{queued} missing order(s) of {day:%Y-%m-%d} queued for import")
            return
        if day is not None:
            gap_reports.request_report(session, plugin_id, day.date())
            console.print(f"the gap report of {day:%Y-%m-%d} is queued")
            return
        table(
            "Gap reports",
            ["day", "on platform", "imported", "skipped", "failed", "waiting", "missing"],
            [
                (r.day, r.on_platform, r.imported, r.skipped, r.failed, r.waiting, r.missing)
                for r in gap_reports.reports(session, plugin_id)
            ],
        )
