"""``tradewind orders``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import typer

from tradewind.cli.common import console, fail, running, table
from tradewind.core.orders import payments
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import OrderStatus
from tradewind.sync import decisions
from tradewind.sync import gaps as gap_reports

app = typer.Typer(help="Orders.", no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    status: OrderStatus = typer.Option(None),
    missing_product: bool = typer.Option(None, "--missing-product/--matched"),
    limit: int = typer.Option(100, min=1, max=10_000),
) -> None:
    """List orders, newest first (by when they were placed)."""
    with running(ctx) as hub, hub.db.read() as session:
        rows = orders.list_orders(
            session, status=status, missing_product=missing_product, limit=limit
        )
        table(
            "Orders",
            ["id", "number", "placed", "status", "paid", "fulfilled", "total", "flags"],
            [
                (
                    o.id,
                    o.number,
                    o.placed_at.strftime("%Y-%m-%d %H:%M"),
                    o.status.value,
                    o.financial_status.value,
                    o.fulfillment_status.value,
                    f"{o.total:.2f} {o.currency}",
                    "missing product" if o.missing_product else "",
                )
                for o in rows
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
