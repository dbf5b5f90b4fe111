"""What every CLI command shares: the hub it works on, and one way to fail.

Bad input ends a command with exit status 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

# Typer (pinned exactly) parses with its own copy of Click: its usage errors are these
# classes, not the ``click`` package's.
from typer._click.core import Context as ClickContext
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer.core import TyperGroup

from tradewind.connectors.registry import UnknownConnector
from tradewind.errors import TradewindError
from tradewind.hub import Hub
from tradewind.settings import load_settings
from tradewind.vault import VaultError

console = Console()
err_console = Console(stderr=True, soft_wrap=True, highlight=False)


@dataclass
class CliState:
    """Carried in ``ctx.obj``. Tests hand in a ready hub; otherwise one is made from the
    environment on first use."""

    hub_factory: Callable[[], Hub] | None = None
    _hub: Hub | None = field(default=None, repr=False)

    def hub(self) -> Hub:
        if self._hub is None:
            factory = self.hub_factory or _default_hub
            self._hub = factory()
        return self._hub


def _default_hub() -> Hub:
    return environment_hub()


def environment_hub(**overrides: object) -> Hub:
    """A hub on the environment's settings (``overrides`` win), announcing work through
    the shared queue."""
    from tradewind.sync.worker import announce_through_queue  # the queue only when used

    hub = Hub(
        load_settings(**overrides),
        announce=lambda message: err_console.print(message, soft_wrap=True, highlight=False),
    )
    announce_through_queue(hub)
    return hub


def state_of(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


@contextmanager
def running(ctx: typer.Context) -> Iterator[Hub]:
    """The hub, with expected errors turned into one line and exit status 2."""
    try:
        yield state_of(ctx).hub()
    except (TradewindError, VaultError, UnknownConnector) as exc:
        fail(str(exc))
    except ValidationError as exc:
        fail("; ".join(_describe(error) for error in exc.errors()))


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])


def fail(message: str) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


class OneLineErrors(TyperGroup):
    """The root command: a usage error (an unknown option or command, a bad value, a missing
    argument), wherever in the tree it is found, is one line on stderr with exit status 2,
    instead of the usage text and Rich's boxed panel. ``tradewind`` alone still shows help.
    """

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: ClickContext | None = None,
        **extra: Any,
    ) -> ClickContext:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except ClickException as exc:
            _one_line(exc)

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except ClickException as exc:
            _one_line(exc)


def _one_line(exc: ClickException) -> NoReturn:
    if isinstance(exc, NoArgsIsHelpError):
        raise exc  # the help asked for by giving no arguments, shown as it is
    hint = ""
    context = getattr(exc, "ctx", None)
    if isinstance(context, ClickContext):
        hint = f" (see '{context.command_path} --help')"
    message = " ".join(exc.format_message().split())  # Click wraps a list of choices
    err_console.print(f"[red]error:[/red] {escape(message)}{escape(hint)}")
    raise typer.Exit(exc.exit_code)


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    grid = Table(title=title, title_justify="left")
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*("" if cell is None else str(cell) for cell in row))
    # Piped into a file or grep, a table is not cut to 80 columns.
    (console if console.is_terminal else Console(width=240)).print(grid)


def parse_assignments(values: Sequence[str]) -> dict[str, str]:
    """``key=value`` pairs from repeated ``--set`` options."""
    parsed: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            fail(f"--set takes key=value, got {item!r}")
        parsed[key.strip()] = value
    return parsed
