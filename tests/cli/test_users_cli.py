"""`tradewind user` and `tradewind tokens`."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from tradewind.auth import service as auth
from tradewind.auth.models import Role, User
from tradewind.cli import app as cli
from tradewind.cli.common import CliState
from tradewind.hub import Hub

PASSWORD = "correct horse battery"


def test_cli_users_and_tokens(hub: Hub) -> None:
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        result = runner.invoke(cli, list(args), obj=CliState(hub_factory=lambda: hub), input=stdin)
        return result.exit_code, result.stdout, result.stderr

    code, out, _ = run(
        "user", "create", "ops", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert code == 0 and "created user ops (admin)" in out
    code, out, _ = run("user", "create", "viewer", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert code == 0 and "read-only" in out
    code, _, err = run("user", "create", "ops", "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 2 and "already exists" in err
    code, _, err = run("user", "create", "x", "--password-stdin", stdin="short\n")
    assert code == 2 and "at least" in err
    assert "viewer" in run("user", "list")[1]
    code, out, _ = run(
        "user", "password", "viewer", "--password-stdin", stdin="a new long password\n"
    )
    assert code == 0
    with hub.db.read() as session:
        users = {u.username: u for u in session.scalars(select(User))}
        assert users["ops"].role is Role.ADMIN and users["viewer"].role is Role.READ_ONLY

    code, out, err = run("tokens", "create", "erp-sync", "--scope", "read-write")
    secret = out.strip()
    assert code == 0 and secret.startswith("tw_") and "shown once" in err
    listed = run("tokens", "list")[1]
    assert "erp-sync" in listed and secret not in listed and "read-write" in listed
    assert run("tokens", "revoke", "erp-sync")[0] == 0
    assert "erp-sync" not in run("tokens", "list")[1]
    assert "erp-sync" in run("tokens", "list", "--all")[1]
    code, _, err = run("tokens", "revoke", "nope")
    assert code == 2 and "no API token" in err
    with hub.db.read() as session:
        assert auth.token_for(session, secret) is None
