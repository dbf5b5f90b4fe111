"""``tradewind products``: the catalog."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import typer

from tradewind.cli.common import console, err_console, fail, running, table
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn

app = typer.Typer(help="Products: the catalog of record.", no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    search: str = typer.Option(None, "--search", "-s", help="Part of a SKU or title."),
    limit: int = typer.Option(100, min=1, max=10_000),
) -> None:
    """List products."""
    with running(ctx) as hub, hub.db.read() as session:
        rows = catalog.list_products(session, search=search, limit=limit)
        table(
            "Products",
            ["id", "SKU", "title", "barcode", "price"],
            [(p.id, p.sku, p.title, p.barcode or "", f"{p.price:.2f}") for p in rows],
        )


@app.command()
def add(
    ctx: typer.Context,
    sku: str,
    title: str,
    price: Decimal = typer.Option(Decimal("0"), min=0),
    barcode: str = typer.Option(None),
) -> None:
    """Create a product."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        product = catalog.create_product(
            session, ProductIn(sku=sku, title=title, price=price, barcode=barcode)
        )
        console.print(f"created product {product.id} {product.sku}")


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV with sku,title[,barcode,price,weight_grams,…]"),
) -> None:
    """Create or update products from a CSV file. The good rows are imported; each refused
    row is named on stderr with its line, and the exit status is then 2."""
    if not file.is_file():
        fail(f"{file}: no such file")
    with running(ctx) as hub:
        try:
            handle = file.open(encoding="utf-8-sig", newline="")
        except OSError as exc:
            fail(f"{file}: {exc.strerror}")
        with handle, hub.db.unit_of_work() as session:
            report = catalog.import_csv(session, handle)
    console.print(
        f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.errors)} rejected"
    )
    for error in report.errors:
        sku = f" ({error.sku})" if error.sku else ""
        err_console.print(f"{file}:{error.line}{sku}: {error.message}", highlight=False)
    if report.errors:
        # Bad input, as everywhere in the CLI: the good rows are in, each bad one is named.
        raise typer.Exit(code=2)
