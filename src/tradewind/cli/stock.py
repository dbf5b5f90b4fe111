"""``tradewind warehouses`` and ``tradewind stock``."""

from __future__ import annotations

import typer

from tradewind.cli.common import console, fail, running, table
from tradewind.core.catalog import service as catalog
from tradewind.core.inventory import service as inventory
from tradewind.core.inventory.schemas import Move, MovementIn

warehouses = typer.Typer(help="Warehouses.", no_args_is_help=True)
stock = typer.Typer(
    help="Stock per product and warehouse, and its movements.", no_args_is_help=True
)


@warehouses.command("list")
def list_warehouses(ctx: typer.Context) -> None:
    """List warehouses."""
    with running(ctx) as hub, hub.db.read() as session:
        table(
            "Warehouses",
            ["id", "code", "name", "default"],
            [
                (w.id, w.code, w.name, "yes" if w.is_default else "")
                for w in inventory.list_warehouses(session)
            ],
        )


@warehouses.command("add")
def add_warehouse(
    ctx: typer.Context,
    code: str,
    name: str = typer.Option(None, help="Defaults to the code."),
    default: bool = typer.Option(False, "--default", help="New manual orders ship from it."),
) -> None:
    """Create a warehouse (the first one becomes the default)."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        warehouse = inventory.create_warehouse(session, code, name, is_default=default)
        console.print(f"created warehouse {warehouse.id} {warehouse.code}")


@stock.command("show")
def show(
    ctx: typer.Context,
    sku: str = typer.Option(None, help="Only this product."),
    warehouse: str = typer.Option(None, help="Only this warehouse (code or id)."),
) -> None:
    """On-hand, reserved and available per product and warehouse."""
    with running(ctx) as hub, hub.db.read() as session:
        product_ids = [catalog.product_by_ref(session, sku).id] if sku else None
        warehouse_ids = [inventory.warehouse_by_ref(session, warehouse).id] if warehouse else None
        levels = inventory.levels(session, product_ids=product_ids, warehouse_ids=warehouse_ids)
        products = catalog.products_by_ids(session, {level.product_id for level in levels})
        codes = {w.id: w.code for w in inventory.list_warehouses(session)}
        table(
            "Stock",
            ["SKU", "warehouse", "on hand", "reserved", "available"],
            [
                (
                    products[level.product_id].sku,
                    codes[level.warehouse_id],
                    level.on_hand,
                    level.reserved,
                    level.available,
                )
                for level in levels
            ],
        )


# Negative adjustments ("-3") are quantities, not options.
@stock.command("move", context_settings={"ignore_unknown_options": True})
def move(
    ctx: typer.Context,
    kind: Move = typer.Argument(
        ...,
        help="receipt, pick, adjustment (signed), transfer, "
        "return, or count (set on-hand to the counted number)",
    ),
    sku: str = typer.Argument(..., help="SKU or product id"),
    quantity: int = typer.Argument(..., help="Units; signed for an adjustment."),
    warehouse: str = typer.Option(..., "--warehouse", "-w", help="Code or id."),
    to: str = typer.Option(None, "--to", help="Destination warehouse of a transfer."),
    reason: str = typer.Option("", "--reason", "-r"),
    reference: str = typer.Option("", "--reference"),
) -> None:
    """Record a stock movement."""
    if kind is Move.TRANSFER and not to:
        fail("a transfer needs --to WAREHOUSE")
    if kind is not Move.TRANSFER and to:
        fail("--to is only for transfers")
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        product = catalog.product_by_ref(session, sku)
        asked = MovementIn(
            kind=kind,
            product_id=product.id,
            warehouse_id=inventory.warehouse_by_ref(session, warehouse).id,
            to_warehouse_id=inventory.warehouse_by_ref(session, to).id if to else None,
            quantity=quantity,
            reason=reason,
            reference=reference,
        )
        inventory.record_movement(session, asked)
        levels = inventory.levels(session, product_ids=[product.id])
        summary = ", ".join(
            f"{inventory.get_warehouse(session, level.warehouse_id).code}: "
            f"{level.on_hand} on hand / {level.available} available"
            for level in levels
        )
        console.print(f"{kind.value} recorded for {product.sku} — {summary}")


@stock.command("movements")
def movements(
    ctx: typer.Context,
    sku: str = typer.Option(None),
    limit: int = typer.Option(50, min=1, max=10_000),
) -> None:
    """The latest stock movements."""
    with running(ctx) as hub, hub.db.read() as session:
        product_id = catalog.product_by_ref(session, sku).id if sku else None
        rows = inventory.movements(session, product_id=product_id, limit=limit)
        products = catalog.products_by_ids(session, {row.product_id for row in rows})
        codes = {w.id: w.code for w in inventory.list_warehouses(session)}
        table(
            "Movements",
            ["id", "when", "kind", "SKU", "warehouse", "qty", "on hand after", "reason", "ref"],
            [
                (
                    row.id,
                    row.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    row.kind.value,
                    products[row.product_id].sku,
                    codes[row.warehouse_id],
                    f"{row.quantity:+d}",
                    row.on_hand_after,
                    row.reason,
                    row.reference,
                )
                for row in rows
            ],
        )
