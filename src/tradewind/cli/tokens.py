"""``tradewind tokens``: bearer tokens for the REST API (read or read-write)."""

from __future__ import annotations

from enum import StrEnum

import typer

from tradewind.auth import service as auth
from tradewind.auth.models import TokenScope
from tradewind.cli.common import console, err_console, running, table

app = typer.Typer(help="API tokens: created, listed, revoked.", no_args_is_help=True)


class Scope(StrEnum):
    READ = "read"
    READ_WRITE = "read-write"


@app.command()
def create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="What the token is for, e.g. 'erp-sync'."),
    scope: Scope = typer.Option(Scope.READ, help="read: GET only; read-write: everything."),
) -> None:
    """Create a token and print it once (only its hash is kept)."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        created = auth.create_token(
            session, name, TokenScope.READ_WRITE if scope is Scope.READ_WRITE else TokenScope.READ
        )
        token_id = created.token.id
    print(created.secret)  # stdout carries the token alone, for scripts
    err_console.print(
        f"token {token_id} ({name}, {scope.value}) created. It is shown once; store it now. "
        f"Use it as `Authorization: Bearer <token>`.",
        highlight=False,
    )


@app.command("list")
def list_(
    ctx: typer.Context, all_: bool = typer.Option(False, "--all", help="Include revoked tokens.")
) -> None:
    """List tokens (never the tokens themselves)."""
    with running(ctx) as hub, hub.db.read() as session:
        rows = [
            (
                t.id,
                t.name,
                f"tw_{t.prefix}_…",
                t.scope.value.replace("_", "-"),
                t.created_at,
                t.last_used_at or "never",
                t.revoked_at or "",
            )
            for t in auth.list_tokens(session, include_revoked=all_)
        ]
    table("API tokens", ["id", "name", "token", "scope", "created", "last used", "revoked"], rows)


@app.command()
def revoke(ctx: typer.Context, ref: str = typer.Argument(..., help="id, prefix or name")) -> None:
    """Revoke a token: it stops working at once."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        token = auth.revoke_token(session, ref)
        console.print(f"token {token.id} ({token.name}) revoked")
