"""``tradewind user``: people who sign in to the UI (admin or read-only)."""

from __future__ import annotations

import sys
from enum import StrEnum

import typer

from tradewind.auth import service as auth
from tradewind.auth.models import Role
from tradewind.cli.common import console, fail, running, table

app = typer.Typer(help="UI users: admin or read-only.", no_args_is_help=True)


class RoleName(StrEnum):
    ADMIN = "admin"
    READ_ONLY = "read-only"


def _password(password_stdin: bool) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        fail("a password is needed")
    return password


@app.command()
def create(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="The name to sign in with."),
    role: RoleName = typer.Option(
        RoleName.READ_ONLY, help="admin changes things; read-only looks."
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
) -> None:
    """Create a user; the password is asked for (never an argument: it would show in `ps`)."""
    password = _password(password_stdin)
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        user = auth.create_user(
            session, username, password, Role.ADMIN if role is RoleName.ADMIN else Role.READ_ONLY
        )
        console.print(f"created user {user.username} ({role.value})")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List users."""
    with running(ctx) as hub, hub.db.read() as session:
        rows = [
            (u.id, u.username, u.role.value.replace("_", "-"), u.last_login_at or "never")
            for u in auth.list_users(session)
        ]
    table("Users", ["id", "user", "role", "last sign-in"], rows)


@app.command()
def password(
    ctx: typer.Context,
    username: str = typer.Argument(...),
    password_stdin: bool = typer.Option(False, "--password-stdin"),
) -> None:
    """Set a new password (signs the user out everywhere)."""
    secret = _password(password_stdin)
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        user = auth.set_password(session, username, secret)
        console.print(f"password of {user.username} changed; their sessions were ended")
