"""``tradewind db``: schema migrations."""

from __future__ import annotations

import typer

from tradewind import migrations
from tradewind.cli.common import console, running

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Bring the database schema up to date (safe to run at every start)."""
    with running(ctx) as hub:
        migrations.upgrade(hub.db.engine)
        console.print(f"database at revision {migrations.current_revision(hub.db.engine)}")


@app.command()
def current(ctx: typer.Context) -> None:
    """Show the schema revision of the database and of this Tradewind."""
    with running(ctx) as hub:
        here = migrations.current_revision(hub.db.engine)
        head = migrations.head_revision()
        state = "up to date" if here == head else "needs `tradewind db upgrade`"
        console.print(f"database {here or 'empty'}, code {head}: {state}")
