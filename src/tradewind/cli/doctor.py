"""``tradewind doctor``: why an order did or did not import, answered by Tradewind.

Exit status 0 when the order is imported or nothing stops it, 1 when a check failed,
2 for bad input (an order the platform does not have, a plugin that does not exist)."""

from __future__ import annotations

import json

import typer

from tradewind.app import doctor
from tradewind.cli.common import console, fail, running
from tradewind.core.plugins import service as plugins
from tradewind.sync.doctor import ActionKind, Result

app = typer.Typer(help="Diagnose what did not import.", no_args_is_help=True)

# Each result's word, padded before it is coloured (markup has no width).
_MARKS = {
    Result.PASSED: f"[green]{'passed':<7}[/green]",
    Result.FAILED: f"[red]{'failed':<7}[/red]",
    Result.NOT_APPLICABLE: f"[dim]{'n/a':<7}[/dim]",
}


@app.command()
def order(
    ctx: typer.Context,
    plugin: str = typer.Argument(..., help="The plugin, by name or id."),
    order: str = typer.Argument(..., help="The order's number on the platform, or its id."),
    as_json: bool = typer.Option(False, "--json", help="The diagnosis as JSON."),
) -> None:
    """Why didn't this order import? Every check of the procedure, one verdict, one action."""
    with running(ctx) as hub:
        with hub.db.read() as session:
            plugin_id = plugins.plugin_by_ref(session, plugin).id
        diagnosis = doctor.diagnose(hub, plugin_id, order)
    if as_json:
        typer.echo(json.dumps(doctor.DiagnosisOut.of(diagnosis).model_dump(mode="json"), indent=2))
        raise typer.Exit(code=diagnosis.exit_code)
    if diagnosis.bad_input:
        console.print(f"[bold]{diagnosis.verdict}[/bold]", highlight=False)
    title = diagnosis.number or diagnosis.asked
    console.print(f"[bold]Order {title}[/bold] — {diagnosis.plugin_name} ({diagnosis.store})")
    for check in diagnosis.checks:
        console.print(f"  {_MARKS[check.result]} {check.title}: {check.evidence}", highlight=False)
    if not diagnosis.bad_input:
        console.print(f"[bold]{diagnosis.verdict}[/bold]", highlight=False)
    action = diagnosis.action
    if action.kind is not ActionKind.NONE or action.label:
        console.print(f"Action: {action.label} ({action.kind.value}) — {action.does}")
    raise typer.Exit(code=diagnosis.exit_code)


@app.command("fix")
def fix(
    ctx: typer.Context,
    plugin: str = typer.Argument(..., help="The plugin, by name or id."),
    order: str = typer.Argument(..., help="The order's number on the platform, or its id."),
    action: ActionKind = typer.Argument(..., help="The action the doctor offered."),
) -> None:
    """Carry out the action the doctor offers for the order (switch on, sync now, backfill)."""
    with running(ctx) as hub:
        with hub.db.read() as session:
            plugin_id = plugins.plugin_by_ref(session, plugin).id
        if action is ActionKind.NONE:
            fail("nothing to carry out")
        console.print(doctor.apply(hub, plugin_id, order, action), highlight=False)
