"""``tradewind channels``."""

from __future__ import annotations

import typer

from tradewind.cli.common import console, running, table
from tradewind.core.channels import service as channels
from tradewind.core.plugins import service as plugins

app = typer.Typer(help="Channels: where orders are sold.", no_args_is_help=True)


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List channels with their plugins."""
    with running(ctx) as hub, hub.db.read() as session:
        table(
            "Channels",
            ["id", "name", "plugins", "description"],
            [
                (
                    channel.id,
                    channel.name,
                    ", ".join(p.name for p in plugins.plugins_of_channel(session, channel.id)),
                    channel.description,
                )
                for channel in channels.list_channels(session)
            ],
        )


@app.command()
def add(ctx: typer.Context, name: str, description: str = typer.Option("")) -> None:
    """Create a channel."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        channel = channels.create_channel(session, name, description)
        console.print(f"created channel {channel.id} {channel.name}")


@app.command()
def remove(ctx: typer.Context, name: str) -> None:
    """Delete a channel that has no orders."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        channel = channels.channel_by_ref(session, name)
        channels.delete_channel(session, channel.id)
        console.print(f"deleted channel {name}")
