"""The REST API's part of the app: ``/api/v1``, ``/health``, ``/metrics`` and inbound
platform webhooks (``/hooks/…``, served by ``WebhookIntake`` ahead of routing).
``tradewind.server`` mounts it beside the UI."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from tradewind import __version__
from tradewind.api import metrics as prometheus
from tradewind.api.health import HealthCheck
from tradewind.api.problems import RETRY_AFTER_SECONDS, problem, responses
from tradewind.api.routers import (
    catalog,
    channels,
    connectors,
    customers,
    decisions,
    doctor,
    links,
    monitoring,
    orders,
    shadow,
    shipping,
    templates,
)
from tradewind.api.routers import plugins as plugin_routes
from tradewind.api.routers import webhooks as webhook_routes
from tradewind.api.security import Principal, api_principal, bearer_of
from tradewind.db import unavailable
from tradewind.hub import Hub
from tradewind.sync.inbox import Answer, GroupCommit, Inbox

API_PREFIX = "/api/v1"


def install(app: FastAPI, hub: Hub, inbox: Inbox) -> None:
    """Add the API's routes to ``app``."""
    app.state.health = HealthCheck(hub.db)

    @app.get(
        "/health",
        tags=["operations"],
        response_model=dict[str, str],
        responses=responses(503, common=False),
    )
    async def health() -> Response:
        """Liveness: the process answers and the database is reachable (checked at most
        once a second, off the event loop)."""
        if not await app.state.health.database_reachable():
            return problem(
                503,
                "the database is unavailable; retry in a few seconds",
                title="Service unavailable",
                instance="/health",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        return JSONResponse({"status": "ok", "version": __version__})

    registry = prometheus.registry_for(hub)

    def metrics_guard(request: Request) -> None:
        if not hub.settings.metrics_public:
            api_principal(request, bearer_of(request))

    @app.get(
        "/metrics",
        tags=["operations"],
        response_class=Response,
        responses={
            200: {"content": {"text/plain": {}}, "description": "Prometheus exposition"},
            **responses(401, common=False),
        },
        dependencies=[Depends(metrics_guard)],
    )
    def metrics() -> Response:
        """Prometheus metrics (public unless `TRADEWIND_METRICS_PUBLIC=false`, then a bearer
        token is needed)."""
        return Response(prometheus.render(registry), media_type=prometheus.CONTENT_TYPE)

    @app.post(
        "/hooks/{plugin_id}/{topic:path}",
        tags=["webhooks"],
        responses={
            400: {"description": "malformed webhook"},
            401: {"description": "signature does not match"},
            404: {"description": "no such plugin"},
            413: {"description": "body too large"},
            422: {"description": "malformed path"},
            503: {"description": "the database is unavailable: retry after Retry-After"},
        },
    )
    async def receive_webhook(plugin_id: int, topic: str, request: Request) -> JSONResponse:
        """A platform's webhook: verified by its signature, stored, then acknowledged.
        (Served by ``WebhookIntake`` in front of the router; documented here. Its size
        limit, ``TRADEWIND_WEBHOOK_MAX_BYTES``, is ``BodyLimit``'s.)"""
        body = await request.body()
        headers = dict(request.headers)
        query = dict(request.query_params)
        answer = await run_in_threadpool(inbox.accept, plugin_id, topic, headers, body, query=query)
        return JSONResponse({"detail": answer.detail}, status_code=answer.status)

    api = APIRouter(prefix=API_PREFIX)
    for module in (
        channels,
        connectors,
        plugin_routes,
        links,
        catalog,
        orders,
        customers,
        monitoring,
        templates,
        shipping,
        decisions,
        doctor,
        shadow,
        webhook_routes,
    ):
        api.include_router(module.router)
    api.include_router(customers.listings)

    @api.get("/me", tags=["operations"], responses=responses(common=False))
    def me(principal: Principal = Depends(api_principal)) -> dict[str, Any]:
        """Who the token is and whether it may write."""
        return {"kind": principal.kind, "name": principal.name, "can_write": principal.can_write}

    app.include_router(api)


# ----------------------------------------------------------------------------- webhooks


class WebhookIntake:
    """Serves ``POST /hooks/{plugin_id}/{topic…}`` straight from ASGI, ahead of routing and
    validation: webhooks come in bursts, and the acknowledgement time is what platforms
    hold us to (Shopify gives 5 s). Anything else passes through."""

    def __init__(self, app: ASGIApp, *, inbox: Inbox, writer: GroupCommit) -> None:
        self.app = app
        self.inbox = inbox
        self.writer = writer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] != "POST" or not path.startswith("/hooks/"):
            await self.app(scope, receive, send)
            return
        plugin, _, topic = path[len("/hooks/") :].partition("/")
        if not plugin.isdigit() or not topic:
            await self.app(scope, receive, send)  # the router answers 404/422 as usual
            return
        if len(plugin) > 18:  # beyond any stored id (and SQLite's 64-bit integers)
            await _answer(send, 404, "no such plugin")
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {
            key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]
        }
        # A platform that signs nothing authenticates by a token in the URL it was given.
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        try:
            answer = await self._accept(int(plugin), topic, headers, bytes(body), query)
        except Exception as exc:
            if not unavailable(exc):
                raise
            # Told once per outage by Database.availability; the platform retries.
            await _answer(
                send,
                503,
                "the database is unavailable; retry later",
                headers=[(b"retry-after", str(RETRY_AFTER_SECONDS).encode())],
            )
            return
        await _answer(send, answer.status, answer.detail)

    async def _accept(
        self, plugin: int, topic: str, headers: dict[str, str], body: bytes, query: dict[str, str]
    ) -> Answer:
        verifier = self.inbox.cached_verifier(plugin)
        if verifier is not None:  # the common case: pure CPU, no I/O, on the loop
            checked = self.inbox.check(plugin, topic, headers, body, verifier, query=query)
        else:
            checked = await run_in_threadpool(
                self.inbox.check, plugin, topic, headers, body, query=query
            )
        return checked if isinstance(checked, Answer) else await self.writer.submit(checked)


async def _answer(
    send: Send, status: int, detail: str, *, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
