"""``tradewind notifications``: the notifications bell, on the command line."""

from __future__ import annotations

import typer

from tradewind.cli.common import console, running, table
from tradewind.monitoring import notifications

app = typer.Typer(help="Problems that need a person.", no_args_is_help=True)


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """Open notifications, newest first."""
    with running(ctx) as hub, hub.db.read() as session:
        rows = notifications.open_notifications(session)
        table(
            "Notifications",
            ["id", "kind", "subject", "seen", "times", "read", "fix", "message"],
            [
                (
                    n.id,
                    n.title,
                    n.subject,
                    f"{n.last_seen:%Y-%m-%d %H:%M}",
                    n.occurrences,
                    "yes" if n.read_at else "",
                    n.action.value,
                    n.message,
                )
                for n in rows
            ],
        )


@app.command()
def read(
    ctx: typer.Context,
    ids: list[int] = typer.Argument(None, help="Notification ids; none marks all as read."),
) -> None:
    """Mark notifications as read."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        count = notifications.mark_read(session, ids or None)
        console.print(f"{count} notification(s) marked as read")
