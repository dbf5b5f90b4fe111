"""Request body limits: the one middleware that bounds every request's body, in front of
everything else (routing, authentication, the webhook intake), so an unauthenticated
client can make the server hold at most one limit's worth of bytes.

A body whose ``Content-Length`` is over the limit is refused at once, unread; one that
streams (chunked) is counted as it arrives and refused the moment it passes the limit.
The answer is a 413 problem. Limits come from the settings: one for every route, and
larger ones only where a route needs them (platform webhooks, CSV imports).

Starlette's own ``RequestBodyLimitMiddleware`` is not used: its per-route limits apply
only once routing has run, which the webhook intake (served ahead of routing) never
reaches, and its 413 is plain text rather than a problem.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradewind.api.problems import problem
from tradewind.settings import Settings


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """The default limit, and larger (or smaller) ones by path: an entry ending in ``/``
    covers every path under it, any other names one path exactly."""

    default: int
    routes: tuple[tuple[str, int], ...] = ()

    def of(self, path: str) -> int:
        for route, limit in self.routes:
            if path == route or (route.endswith("/") and path.startswith(route)):
                return limit
        return self.default


def limits_for(settings: Settings) -> BodyLimits:
    return BodyLimits(
        default=settings.request_max_bytes,
        routes=(
            ("/hooks/", settings.webhook_max_bytes),
            ("/api/v1/products/import", settings.import_max_bytes),
            ("/products/import", settings.import_max_bytes),
        ),
    )


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when the body passes its limit. An HTTPException, so the
    routes' own handlers answer it (a problem on the API, a page in the UI); whatever
    reads the body outside a route (the webhook intake) has it answered here."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")
        self.limit = limit


class BodyLimit:
    def __init__(self, app: ASGIApp, *, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.of(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(limit, scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await _too_large(limit, scope, receive, send)


async def _too_large(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
    response = problem(
        413,
        f"the request body is larger than {limit} bytes",
        title="Content too large",
        instance=scope.get("path"),
    )
    await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None
