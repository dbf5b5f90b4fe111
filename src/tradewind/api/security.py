"""Who is calling the API: a bearer API token on every ``/api/v1`` route. A read-only
token may use GET; anything else needs a read-write token. Tokens are checked against
their stored hash on every request, so a revoked token stops working at once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tradewind.auth import service as auth
from tradewind.db import utcnow
from tradewind.errors import TradewindError
from tradewind.hub import Hub

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


def api_principal(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Security(bearer),
) -> Principal:
    """The token's principal; refuses writes with a read-only token."""
    if credentials is None or not credentials.credentials:
        raise Unauthenticated("send `Authorization: Bearer <token>` with an API token")
    hub = hub_of(request)
    with hub.db.read() as session:
        token = auth.token_for(session, credentials.credentials)
        stale = token is not None and (
            token.last_used_at is None or token.last_used_at < utcnow() - TOUCH_EVERY
        )
    if token is None:
        raise Unauthenticated("the bearer token is unknown or revoked")
    if stale:
        with hub.db.unit_of_work() as session:
            auth.touch_token(session, token.id)
    if request.method not in READ_METHODS and not token.can_write:
        raise Forbidden(f"token {token.name!r} is read-only; this needs a read-write token")
    return Principal(kind="token", id=token.id, name=token.name, can_write=token.can_write)
