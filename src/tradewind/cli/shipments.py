"""``tradewind shipments``: packages, rates, labels, tracking, and an order's tax."""

from __future__ import annotations

from decimal import Decimal

import typer

from tradewind.app import shipping as actions
from tradewind.cli.common import console, running, table
from tradewind.core.shipping import routes
from tradewind.core.shipping import service as shipping
from tradewind.core.shipping.schemas import ParcelIn, ShippingProcessIn

app = typer.Typer(help="Packages, rates, labels and tracking.", no_args_is_help=True)


@app.command()
def package(
    ctx: typer.Context,
    order_id: int,
    weight: Decimal | None = typer.Option(
        None, help="The parcel's weight (none: the packaging of the order's shipping process)."
    ),
    unit: str = typer.Option("g", help="g, kg, oz or lb."),
    size: str = typer.Option("", help="LxWxH in cm, e.g. 30x20x10."),
) -> None:
    """Prepare a package of ORDER_ID to rate and ship."""
    parcels = [_parcel(weight, unit, size)] if weight is not None else []
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        made = shipping.prepare_package(session, order_id, parcels)
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


def _parcel(weight: Decimal, unit: str, size: str) -> ParcelIn:
    sides = [Decimal(side) for side in size.lower().split("x")] if size else [None] * 3
    if len(sides) != 3:
        raise typer.BadParameter("--size takes three numbers: LxWxH")
    return ParcelIn.model_validate(
        {
            "weight": weight,
            "mass_unit": unit,
            "length": sides[0],
            "width": sides[1],
            "height": sides[2],
        }
    )


@app.command()
def buy(ctx: typer.Context, package_id: int, quote_id: int | None = typer.Argument(None)) -> None:
    """Buy the label of QUOTE_ID for PACKAGE_ID (none: the quote the order's shipping
    process chooses); once: a second purchase is refused."""
    with running(ctx) as hub:
        if quote_id is None:
            label = actions.buy_route_choice(hub, package_id)
        else:
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


@app.command()
def processes(ctx: typer.Context) -> None:
    """The shipping processes (routes) platform locations can be mapped to."""
    with running(ctx) as hub, hub.db.read() as session:
        table(
            "Shipping processes",
            ["id", "name", "carrier plugin", "service", "packaging"],
            [
                (
                    p.id,
                    p.name,
                    p.plugin_id or "channel's",
                    p.service or "cheapest",
                    _packaging(p.packaging),
                )
                for p in routes.list_processes(session)
            ],
        )


def _packaging(packaging: dict[str, object] | None) -> str:
    if not packaging:
        return "typed per package"
    size = ""
    if packaging.get("length"):
        size = f" {packaging['length']}x{packaging['width']}x{packaging['height']}"
    return f"{packaging['weight']} {packaging['mass_unit']}{size}"


@app.command("add-process")
def add_process(
    ctx: typer.Context,
    name: str,
    plugin: int | None = typer.Option(None, help="The carrier plugin's id (none: the channel's)."),
    service: str = typer.Option("", help="The service to buy (none: the cheapest)."),
    weight: Decimal | None = typer.Option(None, help="The packaging's weight."),
    unit: str = typer.Option("g", help="g, kg, oz or lb."),
    size: str = typer.Option("", help="LxWxH in cm, e.g. 30x20x10."),
) -> None:
    """Add a shipping process NAME; map locations to it with `tradewind plugins locations`."""
    packaging = _parcel(weight, unit, size) if weight is not None else None
    data = ShippingProcessIn(name=name, plugin_id=plugin, service=service, packaging=packaging)
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        made = routes.add_process(session, data)
        console.print(f"shipping process {made.id} {made.name!r} added")


@app.command("remove-process")
def remove_process(ctx: typer.Context, process_id: int) -> None:
    """Remove shipping process PROCESS_ID (locations mapped to it then have none)."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        moved = routes.delete_process(session, process_id)
        console.print(f"shipping process {process_id} removed; {moved} location(s) had it")
