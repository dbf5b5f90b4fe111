"""``tradewind orders``."""

from __future__ import annotations

import typer

from tradewind.cli.common import console, running, table
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import OrderStatus

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
