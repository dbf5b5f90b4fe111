"""The ``tradewind`` command line."""

from __future__ import annotations

import typer

from tradewind import __version__, migrations
from tradewind.cli import (
    channels,
    customers,
    db,
    doctor,
    keys,
    listings,
    notifications,
    orders,
    plugins,
    products,
    serve,
    shipments,
    stock,
    templates,
    tokens,
    users,
    webhooks,
)
from tradewind.cli.common import CliState, OneLineErrors, console, running
from tradewind.core.catalog import service as catalog
from tradewind.core.channels import service as channel_service
from tradewind.core.plugins import service as plugin_service
from tradewind.monitoring import notifications as notification_service
from tradewind.sandbox.cli import app as sandbox_app

app = typer.Typer(
    help="Tradewind: a self-hosted multichannel commerce integration hub.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    cls=OneLineErrors,
)
app.add_typer(db.app, name="db")
app.add_typer(keys.app, name="keys")
app.add_typer(channels.app, name="channels")
app.add_typer(plugins.app, name="plugins")
app.add_typer(customers.app, name="customers")
app.add_typer(products.app, name="products")
app.add_typer(listings.app, name="listings")
app.add_typer(stock.warehouses, name="warehouses")
app.add_typer(stock.stock, name="stock")
app.add_typer(orders.app, name="orders")
app.add_typer(shipments.app, name="shipments")
app.add_typer(notifications.app, name="notifications")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(users.app, name="user")
app.add_typer(tokens.app, name="tokens")
app.add_typer(templates.app, name="templates")
app.add_typer(doctor.app, name="doctor")
app.add_typer(webhooks.app, name="webhooks")


app.command()(serve.run)
app.command()(serve.demo)
app.command()(serve.worker)


@app.callback()
def root(ctx: typer.Context) -> None:
    if not isinstance(ctx.obj, CliState):
        ctx.obj = CliState()


@app.command()
def version() -> None:
    """Print the version."""
    console.print(f"tradewind {__version__}")


@app.command()
def status(ctx: typer.Context) -> None:
    """What this Tradewind holds and whether anything needs attention."""
    with running(ctx) as hub:
        revision = migrations.current_revision(hub.db.engine)
        console.print(f"database: {hub.settings.resolved_database_url} (revision {revision})")
        if revision != migrations.head_revision():
            console.print("the schema is not up to date: run `tradewind db upgrade`")
            return
        with hub.db.read() as session:
            plugin_list = plugin_service.list_plugins(session)
            console.print(
                f"{len(channel_service.list_channels(session))} channel(s), "
                f"{len(plugin_list)} plugin(s), "
                f"{len(catalog.list_products(session, limit=100_000))} product(s), "
                f"{notification_service.unread_count(session)} unread notification(s)"
            )
        connectors = ", ".join(info.name for info in hub.registry.infos()) or "none yet"
        console.print(f"connectors installed: {connectors}")


def main() -> None:
    app(obj=CliState())
