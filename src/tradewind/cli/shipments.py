"""``tradewind shipments``: packages, rates, labels, tracking, and an order's tax."""

from __future__ import annotations

from decimal import Decimal

import typer

from tradewind.app import shipping as actions
from tradewind.cli.common import console, running, table
from tradewind.core.shipping import service as shipping
from tradewind.core.shipping.schemas import ParcelIn

app = typer.Typer(help="Packages, rates, labels and tracking.", no_args_is_help=True)


@app.command()
def package(
    ctx: typer.Context,
    order_id: int,
    weight: Decimal = typer.Option(..., help="The parcel's weight."),
    unit: str = typer.Option("g", help="g, kg, oz or lb."),
    size: str = typer.Option("", help="LxWxH in cm, e.g. 30x20x10."),
) -> None:
    """Prepare a package of ORDER_ID to rate and ship."""
    sides = [Decimal(side) for side in size.lower().split("x")] if size else [None] * 3
    if len(sides) != 3:
        raise typer.BadParameter("--size takes three numbers: LxWxH")
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        parcel = ParcelIn.model_validate(
            {
                "weight": weight,
                "mass_unit": unit,
                "length": sides[0],
                "width": sides[1],
                "height": sides[2],
            }
        )
        made = shipping.prepare_package(session, order_id, [parcel])
        console.print(
            f"package {made.id} of order {order_id} is ready: the worker gets its rates "
            f"(or now: tradewind shipments rates {made.id})"
        )


@app.command()
def rates(ctx: typer.Context, package_id: int) -> None:
    """Rates for PACKAGE_ID from its channel's rating plugin."""
    with running(ctx) as hub:
        quotes = actions.get_rates(hub, package_id)
        low, quick = shipping.cheapest(quotes), shipping.fastest(quotes)
        table(
            f"Rates for package {package_id}",
            ["quote", "carrier", "service", "price", "days", ""],
            [
                (
                    q.id,
                    q.carrier,
                    q.service,
                    f"{q.amount:.2f} {q.currency}",
                    q.estimated_days,
                    " ".join(
                        word
                        for word, marked in (("cheapest", q is low), ("fastest", q is quick))
                        if marked
                    ),
                )
                for q in quotes
            ],
        )


@app.command()
def buy(ctx: typer.Context, package_id: int, quote_id: int) -> None:
    """Buy the label of QUOTE_ID for PACKAGE_ID (once: a second purchase is refused)."""
    with running(ctx) as hub:
        label = actions.buy_label(hub, package_id, quote_id)
        console.print(
            f"label {label.id}: {label.carrier} {label.tracking_number} "
            f"{label.cost:.2f} {label.currency} {label.label_url}".rstrip()
        )


@app.command()
def void(ctx: typer.Context, package_id: int) -> None:
    """Void the label of PACKAGE_ID (its postage refunded); the package can be bought again."""
    with running(ctx) as hub:
        label = actions.void_label(hub, package_id)
        console.print(
            f"label {label.id} ({label.carrier} {label.tracking_number}) voided; "
            f"package {package_id} can be rated and bought again"
        )


@app.command()
def track(ctx: typer.Context, shipment_id: int) -> None:
    """Read SHIPMENT_ID's tracking now, and list its events."""
    with running(ctx) as hub:
        actions.track(hub, shipment_id)
        with hub.db.read() as session:
            events = shipping.tracking_events(session, shipment_id)
            table(
                f"Tracking of shipment {shipment_id}",
                ["when", "status", "carrier's", "message"],
                [
                    (
                        e.occurred_at.strftime("%Y-%m-%d %H:%M"),
                        e.status.value,
                        e.raw_status,
                        e.message,
                    )
                    for e in events
                ],
            )


@app.command()
def tax(ctx: typer.Context, order_id: int) -> None:
    """Compute ORDER_ID's tax with its channel's tax plugin."""
    with running(ctx) as hub:
        computed = actions.calculate_tax(hub, order_id)
        console.print(f"tax {computed.amount} (rate {computed.rate}) on order {order_id}")
