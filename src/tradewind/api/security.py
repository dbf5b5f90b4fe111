"""Who is calling the API: a bearer API token on every ``/api/v1`` route. A read-only
token may use GET; anything else needs a read-write token. Tokens are checked against
their stored hash on every request, so a revoked token stops working at once.

A token's *last used* time is written off the request's path, at most once a minute per
token: on SQLite a write waits for the one writer, and a read-only GET must never queue
behind someone's long write just to say it was here (``TokenTouches``)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import structlog
from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tradewind.auth import service as auth
from tradewind.db import Database, utcnow
from tradewind.errors import TradewindError
from tradewind.hub import Hub

log = structlog.get_logger(__name__)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOUCH_EVERY = dt.timedelta(minutes=1)

bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="tw_…",
    description="An API token from `tradewind tokens create` (read or read-write).",
)


class Unauthenticated(TradewindError):
    status = 401
    title = "Not authenticated"


class Forbidden(TradewindError):
    status = 403
    title = "Forbidden"


@dataclass(frozen=True)
class Principal:
    kind: str  # "token" | "user"
    id: int
    name: str
    can_write: bool


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


class TokenTouches:
    """Writes tokens' last-used times on a thread of its own, at most once per
    ``TOUCH_EVERY`` per token from this process (and, through ``auth.touch_token``'s
    conditional update, from all processes together). Owned by the app, whose shutdown
    waits for what is queued."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._queued_at: dict[int, float] = {}
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="token-touch")

    def seen(self, token_id: int, last_used_at: dt.datetime | None) -> None:
        """The token was just used; its stored last use was ``last_used_at``."""
        if last_used_at is not None and last_used_at > utcnow() - TOUCH_EVERY:
            return
        now = time.monotonic()
        with self._lock:
            queued = self._queued_at.get(token_id)
            if queued is not None and now - queued < TOUCH_EVERY.total_seconds():
                return
            self._queued_at[token_id] = now
        self._writer.submit(self._touch, token_id)

    def _touch(self, token_id: int) -> None:
        try:
            with self._db.unit_of_work() as session:
                auth.touch_token(session, token_id, every=TOUCH_EVERY)
        except Exception:  # a lost last-used time is no reason to fail anything
            log.warning("could not record a token's last use", token_id=token_id, exc_info=True)

    def wait(self) -> None:
        """Return once every touch queued so far is written (at shutdown, in tests). The
        writer stays usable: an app may be started again."""
        self._writer.submit(lambda: None).result()


def api_principal(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Security(bearer),
) -> Principal:
    """The token's principal; refuses writes with a read-only token."""
    if credentials is None or not credentials.credentials:
        raise Unauthenticated("send `Authorization: Bearer <token>` with an API token")
    with hub_of(request).db.read() as session:
        token = auth.token_for(session, credentials.credentials)
    if token is None:
        raise Unauthenticated("the bearer token is unknown or revoked")
    touches: TokenTouches = request.app.state.token_touches
    touches.seen(token.id, token.last_used_at)
    if request.method not in READ_METHODS and not token.can_write:
        raise Forbidden(f"token {token.name!r} is read-only; this needs a read-write token")
    return Principal(kind="token", id=token.id, name=token.name, can_write=token.can_write)


def bearer_of(request: Request) -> HTTPAuthorizationCredentials | None:
    """The request's bearer credentials, read outside FastAPI's dependency injection."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials:
        return None
    return HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials)
