"""Users, tokens, sessions and throttling in the auth service; the CLI that manages them;
signing keys; outbound URL checks; /metrics exposure."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from typer.testing import CliRunner

from tradewind.auth import service as auth
from tradewind.auth.keys import signing_keys
from tradewind.auth.models import ApiToken, Role, TokenScope, User
from tradewind.cli import app as cli
from tradewind.cli.common import CliState
from tradewind.db import utcnow
from tradewind.errors import Conflict, Invalid
from tradewind.hub import Hub
from tradewind.server import create_app
from tradewind.settings import Settings
from tradewind.vault import generate_key

PASSWORD = "correct horse battery"


def test_passwords_are_argon2_and_checked(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        user = auth.create_user(session, "Alice", PASSWORD, Role.ADMIN)
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    with hub.db.unit_of_work() as session:
        assert auth.check_login(session, "alice", PASSWORD).user_or_raise().username == "Alice"
        with pytest.raises(Conflict):
            auth.create_user(session, "ALICE", PASSWORD, Role.READ_ONLY)
        with pytest.raises(Invalid):
            auth.create_user(session, "bob", "short", Role.READ_ONLY)
        with pytest.raises(Invalid):
            auth.create_user(session, "has space", PASSWORD, Role.READ_ONLY)


def test_failed_logins_are_slowed_down(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        auth.create_user(session, "alice", PASSWORD, Role.ADMIN)
    start = utcnow()

    def attempt(password: str, after: float) -> str | int:
        moment = start + dt.timedelta(seconds=after)
        with hub.db.unit_of_work() as session:
            result = auth.check_login(session, "alice", password, client="198.51.100.7", now=moment)
        try:
            result.user_or_raise()
        except auth.LoginThrottled as exc:
            return exc.retry_after
        except auth.LoginFailed:
            return "failed"
        return "ok"

    # Three free failures; then each failure makes the next attempt wait 1 s, 2 s, 4 s…,
    # and a wait refuses even the right password without looking at it.
    assert [attempt("wrong", 0) for _ in range(3)] == ["failed"] * 3
    assert attempt(PASSWORD, 0) == 1
    assert attempt("wrong", 1.5) == "failed"
    assert attempt(PASSWORD, 1.5) == 2
    assert attempt("wrong", 4) == "failed"
    assert attempt(PASSWORD, 4) == 4
    assert attempt(PASSWORD, 9) == "ok"  # and a success forgets the failures
    assert attempt("wrong", 9) == "failed"
    assert attempt(PASSWORD, 9) == "ok"
    # An unknown name is throttled the same way (no hint which names exist).
    for expected in (auth.LoginFailed, auth.LoginFailed, auth.LoginFailed, auth.LoginThrottled):
        with hub.db.unit_of_work() as session:
            result = auth.check_login(session, "nobody", "x", now=start)
        with pytest.raises(expected):
            result.user_or_raise()


def test_tokens_are_hashed_scoped_and_revocable(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        created = auth.create_token(session, "erp", TokenScope.READ)
    assert created.secret.startswith("tw_")
    with hub.db.read() as session:
        row = session.scalar(select(ApiToken))
        assert row is not None and created.secret not in (row.token_hash, row.prefix, row.name)
        found = auth.token_for(session, created.secret)
        assert found is not None and not found.can_write
        assert auth.token_for(session, created.secret + "x") is None
        assert auth.token_for(session, "garbage") is None
    with hub.db.unit_of_work() as session:
        auth.revoke_token(session, created.token.prefix)
    with hub.db.read() as session:
        assert auth.token_for(session, created.secret) is None


def test_sessions_end_on_logout_and_password_change(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        user = auth.create_user(session, "alice", PASSWORD, Role.READ_ONLY)
        one = auth.open_session(session, user, hours=1)
        two = auth.open_session(session, user, hours=1)
    with hub.db.read() as session:
        found = auth.session_user(session, one.secret)
        assert found is not None and not found.can_write and found.csrf_token == one.csrf_token
        assert auth.session_user(session, one.secret, now=utcnow() + dt.timedelta(hours=2)) is None
    with hub.db.unit_of_work() as session:
        auth.close_session(session, one.secret)
    with hub.db.unit_of_work() as session:
        assert auth.session_user(session, one.secret) is None
        assert auth.session_user(session, two.secret) is not None
        auth.set_password(session, "alice", "another long password")
    with hub.db.read() as session:
        assert auth.session_user(session, two.secret) is None
    assert auth.csrf_matches("abc", "abc") and not auth.csrf_matches("abc", None)


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


def test_cookie_keys_derive_from_the_vault_keys(settings: Settings) -> None:
    keys = [key.get_secret_value() for key in settings.secret_keys]
    first = signing_keys(keys, "session")
    assert len(first) == 1 and len(first[0]) == 32
    assert signing_keys(keys, "flash") != first
    rotated = signing_keys([generate_key(), *keys], "session")
    assert rotated[0] == first[0] and rotated[-1] != first[0]  # newest last: it signs


def test_metrics_public_or_behind_a_token(hub: Hub) -> None:
    with TestClient(create_app(hub)) as client:
        body = client.get("/metrics")
        assert body.status_code == 200 and "tradewind_queue_depth" in body.text
    hub.settings = hub.settings.model_copy(update={"metrics_public": False})
    with hub.db.unit_of_work() as session:
        token = auth.create_token(session, "prometheus", TokenScope.READ).secret
    with TestClient(create_app(hub)) as client:
        refused = client.get("/metrics")
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")
        allowed = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert allowed.status_code == 200
