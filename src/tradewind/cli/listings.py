"""``tradewind listings``: how each product appears on each channel (title, description,
images, price). A plugin with Export Listings on sends a listing as soon as it changes."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import typer

from tradewind.cli.common import console, fail, running, table
from tradewind.core.catalog import service as catalog
from tradewind.core.channels import service as channels
from tradewind.core.links import service as links

app = typer.Typer(help="Listings: a product as one channel shows it.", no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    channel: str = typer.Option(None, help="Only this channel (name or id)."),
) -> None:
    """List listings."""
    with running(ctx) as hub, hub.db.read() as session:
        channel_id = channels.channel_by_ref(session, channel).id if channel else None
        names = {c.id: c.name for c in channels.list_channels(session)}
        rows = links.list_listings(session, channel_id=channel_id, limit=10_000)
        products = catalog.products_by_ids(session, [row.product_id for row in rows])
        table(
            "Listings",
            ["channel", "sku", "title", "price", "images", "published"],
            [
                (
                    names.get(row.channel_id, row.channel_id),
                    products[row.product_id].sku if row.product_id in products else "?",
                    row.title,
                    f"{row.price:.2f}" if row.price is not None else "(product's)",
                    len(row.images or []),
                    "yes" if row.published else "no",
                )
                for row in rows
            ],
        )


@app.command("set")
def set_(
    ctx: typer.Context,
    channel: str = typer.Argument(..., help="Channel name or id."),
    sku: str = typer.Argument(..., help="The product's SKU (or #id)."),
    title: str = typer.Option(None, help="Title on this channel."),
    description: str = typer.Option(None, help="Description (HTML allowed)."),
    image: list[str] = typer.Option(None, "--image", help="Image URL, repeatable, in order."),
    price: str = typer.Option(None, help="Price on this channel, e.g. 14.00."),
    published: bool = typer.Option(None, "--published/--unpublished", help="Offered or not."),
) -> None:
    """Create or change a listing; options not given keep their value."""
    amount: Decimal | None = None
    if price is not None:
        try:
            amount = Decimal(price)
        except InvalidOperation:
            fail(f"price: {price!r} is not an amount")
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        target = channels.channel_by_ref(session, channel)
        product = catalog.product_by_ref(session, sku)
        listing = links.upsert_listing(
            session,
            target.id,
            product.id,
            title=title,
            description=description,
            images=list(image) if image else None,
            price=amount,
            published=published,
        )
        console.print(
            f"{product.sku} on {target.name}: {listing.title or product.title}"
            f"{f' at {listing.price:.2f}' if listing.price is not None else ''}",
            highlight=False,
        )
