"""Users, tokens, sessions and throttling in the auth service; signing keys."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tradewind.auth import service as auth
from tradewind.auth.keys import signing_keys
from tradewind.auth.models import ApiToken, Role, TokenScope
from tradewind.db import utcnow
from tradewind.errors import Conflict, Invalid
from tradewind.hub import Hub
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


def test_cookie_keys_derive_from_the_vault_keys(settings: Settings) -> None:
    keys = [key.get_secret_value() for key in settings.secret_keys]
    first = signing_keys(keys, "session")
    assert len(first) == 1 and len(first[0]) == 32
    assert signing_keys(keys, "flash") != first
    rotated = signing_keys([generate_key(), *keys], "session")
    assert rotated[0] == first[0] and rotated[-1] != first[0]  # newest last: it signs
