"""A token's last use is written off the request's path, at most once a minute (#10
item 7): a read-only GET never queues behind another request's long write."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import event, select

from tests.api.conftest import Api
from tradewind.api.security import TokenTouches
from tradewind.auth import service as auth
from tradewind.auth.models import ApiToken
from tradewind.hub import Hub


def _last_used(hub: Hub, name: str) -> dt.datetime | None:
    with hub.db.read() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.name == name))
        assert token is not None
        return token.last_used_at


def touches_of(api: Api) -> TokenTouches:
    """The app's writer of tokens' last use (``wait()`` for what it has queued)."""
    app = api.client.app
    assert isinstance(app, FastAPI)
    touches: TokenTouches = app.state.token_touches
    return touches


@pytest.fixture
def token_writes(hub: Hub) -> Iterator[list[str]]:
    """The UPDATE statements written to api_tokens."""
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.startswith("UPDATE api_tokens"):
            seen.append(statement)

    event.listen(hub.db.engine, "before_cursor_execute", note)
    yield seen
    event.remove(hub.db.engine, "before_cursor_execute", note)


@pytest.mark.timeout(120)  # before the fix the GET waited for the writer: a hang, not a pass
def test_a_get_does_not_wait_for_a_write_to_record_the_tokens_use(
    hub: Hub, reader_api: Api
) -> None:
    writing, done = threading.Event(), threading.Event()

    def long_write() -> None:
        # Holds the token's row (PostgreSQL) and the one writer (SQLite) until told.
        with hub.db.unit_of_work() as session:
            session.scalar(select(ApiToken).where(ApiToken.name == "reader").with_for_update())
            writing.set()
            done.wait()

    writer = threading.Thread(target=long_write)
    writer.start()
    try:
        writing.wait()
        assert reader_api.get("/channels").status_code == 200
        assert _last_used(hub, "reader") is None  # not written yet: the write still holds
    finally:
        done.set()
        writer.join()
    touches_of(reader_api).wait()
    assert _last_used(hub, "reader") is not None


def test_the_last_use_is_written_at_most_once_a_minute(
    hub: Hub, reader_api: Api, token_writes: list[str]
) -> None:
    touches = touches_of(reader_api)
    for _ in range(5):
        assert reader_api.get("/channels").status_code == 200
    touches.wait()
    assert len(token_writes) == 1
    first = _last_used(hub, "reader")
    assert first is not None

    # Another process noted it a moment ago: the conditional update writes nothing.
    with hub.db.unit_of_work() as session:
        token_id = session.scalar(select(ApiToken.id).where(ApiToken.name == "reader"))
        assert token_id is not None
        later = first + dt.timedelta(seconds=30)
        assert not auth.touch_token(session, token_id, later, every=dt.timedelta(minutes=1))
        assert auth.touch_token(session, token_id, later + dt.timedelta(minutes=1))
