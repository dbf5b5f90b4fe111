"""``tradewind customers``: the customer base, seeded into a store (Export all customers)."""

from __future__ import annotations

import typer

from tradewind.app import actions
from tradewind.cli.common import console, running
from tradewind.core.plugins import service as plugins

app = typer.Typer(help="Customers: matched by email, never duplicated.", no_args_is_help=True)


@app.command("export-all")
def export_all(
    ctx: typer.Context,
    plugin: str,
    dry_run: bool = typer.Option(False, "--dry-run", help="Only count; send nothing."),
) -> None:
    """Export all customers to PLUGIN's store (Export Customers on): each matched there by
    email and linked, or created; generic customers and those without an email are
    skipped. The run goes on in the worker; the plugin page shows its progress."""
    with running(ctx) as hub:
        with hub.db.read() as session:
            found = plugins.plugin_by_ref(session, plugin)
        counted = actions.preview_customer_export(hub, found.id)
        console.print(f"{found.name}: {counted.sentence()}")
        if dry_run:
            return
        run, started = actions.export_all_customers(hub, found.id)
        if started:
            console.print(f"export {run.id} started")
        else:
            console.print(
                f"export {run.id} is already running: {run.done_count} of {run.total} done"
            )
