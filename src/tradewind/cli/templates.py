"""``tradewind templates``: the integration templates — the catalogue, checking a file,
running its recorded cases, the schema, and the dry run of a template plugin's hook or
pull."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from tradewind.app import templates
from tradewind.cli.common import console, err_console, fail, running, table
from tradewind.connectors.template.cases import cases_path
from tradewind.connectors.template.loader import MAX_BYTES
from tradewind.connectors.template.schema import published
from tradewind.core.plugins import service as plugins

app = typer.Typer(help="Integration templates: connectors defined in YAML.", no_args_is_help=True)


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """The installed templates (shipped and your own), and any that cannot be read."""
    with running(ctx) as hub:
        found = templates.catalogue(hub)
        broken = {
            key: why
            for key, why in hub.registry.broken.items()
            if key not in hub.registry.connectors
        }
    table(
        "Templates",
        ["id", "version", "category", "name", "capabilities"],
        [(t.id, t.version, t.category, t.display_name, ", ".join(t.capabilities)) for t in found],
    )
    for key, why in broken.items():
        err_console.print(f"broken: {key}: {why}", highlight=False, soft_wrap=True)


@app.command()
def show(ctx: typer.Context, template: str) -> None:
    """One installed template: what it does, its settings, hooks and pulls."""
    with running(ctx) as hub:
        found = templates.get(hub, template)
    say(f"{found.display_name} ({found.id} {found.version}, {found.category})")
    if found.description:
        say(found.description)
    for name, setting in found.settings.items():
        flags = ", ".join(
            flag
            for flag, on in (("secret", setting.secret), ("optional", not setting.required))
            if on
        )
        say(f"  setting {name}: {setting.type}{f' ({flags})' if flags else ''}")
    for name, hook in found.hooks.items():
        say(f"  hook {name}: on {hook.on or 'demand'}, {len(hook.steps)} step(s)")
    for name, pull in found.pulls.items():
        say(f"  pull {name}: {pull.returns}")


@app.command()
def validate(path: Path) -> None:
    """Check a template file: every problem with its line and column (exit status 1
    when there are any)."""
    result = templates.check(_read(path))
    if result.valid and result.template is not None:
        say(f"{path}: a valid template ({result.template.id} {result.template.version})")
        return
    _problems(path, result.problems)
    raise typer.Exit(code=1)


@app.command("test")
def run_recorded_cases(
    path: Path,
    cases: Path | None = typer.Option(
        None, "--cases", help="The case file (default: FILE's .cases.yaml beside it)."
    ),
) -> None:
    """Run a template file's recorded cases: one line per case, what differs under a
    failed one (exit status 1 when one fails). Only the recording is called."""
    cases = cases or cases_path(path)
    if not cases.is_file():
        fail(f"{cases}: no case file (write one, or name it with --cases)")
    result = templates.run_case_file(_read(path), _read(cases))
    if result.problems:
        _problems(path if result.problems_in == "template" else cases, result.problems)
        raise typer.Exit(code=1)
    for case in result.results:
        say(f"{'ok  ' if case.ok else 'FAIL'} {case.name}")
        if not case.ok:
            say("     " + case.detail.replace("\n", "\n     "))
    failed = sum(not case.ok for case in result.results)
    say(f"{len(result.results) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(code=1)


def _problems(path: Path, problems: list[templates.ProblemOut]) -> None:
    for problem in problems:
        where = f"{path}:{problem.line}:{problem.column}" if problem.line else str(path)
        prefix = f"{problem.path}: " if problem.path else ""
        err_console.print(f"{where}: {prefix}{problem.message}", highlight=False, soft_wrap=True)


@app.command()
def install(ctx: typer.Context, path: Path) -> None:
    """Store a template file of your own (a new version needs a higher version number);
    workers take it in at their next sweep."""
    text = _read(path)
    with running(ctx) as hub:
        saved = templates.save_custom(hub, text, by="cli")
    say(f"installed {saved.id} {saved.version} ({saved.display_name})")


@app.command()
def delete(ctx: typer.Context, template: str) -> None:
    """Delete every version of one of your templates (refused while a plugin uses it)."""
    with running(ctx) as hub:
        templates.delete_custom(hub, template)
    say(f"deleted {template}")


@app.command()
def upgrade(
    ctx: typer.Context,
    plugin: str,
    confirm_major: bool = typer.Option(False, "--confirm-major", help="Allow a major version."),
) -> None:
    """Move a template plugin to its template's newest version, saying what changes."""
    with running(ctx) as hub:
        with hub.db.read() as session:
            found = plugins.plugin_by_ref(session, plugin)
        offer = templates.upgrade(hub, found.id, confirm_major=confirm_major)
    say(f"{found.name}: {offer.template_id} {offer.current} → {offer.latest}")
    for what in ("added", "removed", "changed"):
        names = getattr(offer, what)
        if names:
            say(f"  settings {what}: {', '.join(names)}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of tradewind-template/v1 (for an editor)."""
    typer.echo(published(), nl=False)


@app.command("dry-run")
def dry_run(
    ctx: typer.Context,
    plugin: str,
    name: str = typer.Argument(..., help="The hook or pull to run."),
    input: Path | None = typer.Option(None, "--input", help="A JSON file: the hook's input."),
) -> None:
    """Run one hook or pull of a template plugin and print the requests it sent (secrets
    redacted), the answers and the mapped output. Nothing is written in Tradewind; the
    service itself is called."""
    data: Any = None
    if input is not None:
        try:
            data = json.loads(_read(input))
        except json.JSONDecodeError as exc:
            fail(f"{input}: not JSON: {exc}")
    with running(ctx) as hub:
        with hub.db.read() as session:
            found = plugins.plugin_by_ref(session, plugin)
        result = templates.dry_run(hub, found.id, name, data)
    typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))


def say(text: str) -> None:
    console.print(text, highlight=False, soft_wrap=True)


def _read(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_BYTES:
            fail(f"{path}: larger than {MAX_BYTES // 1024} KiB")
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: cannot be read: {exc}")
