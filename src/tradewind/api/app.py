"""The web application: the REST API under ``/api/v1``, the UI, health, metrics, the
OAuth callback and inbound platform webhooks. ``create_app`` is the one place where the
HTTP layer meets a Hub.

Only four things answer without a sign-in or a token: ``/health``, ``/metrics`` (unless
``TRADEWIND_METRICS_PUBLIC=false``), ``/hooks/…`` (the platform's signature is the
authentication) and ``/oauth/callback`` (checked by its single-use state and the
platform's HMAC) — plus the sign-in page and its static files.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError, DBAPIError, StatementError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tradewind import __version__
from tradewind.api import metrics as prometheus
from tradewind.api.health import HealthCheck
from tradewind.api.limits import BodyLimit, limits_for
from tradewind.api.problems import RETRY_AFTER_SECONDS, problem, responses
from tradewind.api.routers import catalog, channels, connectors, customers, monitoring, orders
from tradewind.api.routers import plugins as plugin_routes
from tradewind.api.security import Principal, TokenTouches, api_principal
from tradewind.auth.service import LoginThrottled
from tradewind.connectors.registry import UnknownConnector
from tradewind.db import unavailable
from tradewind.errors import TradewindError
from tradewind.hub import Hub
from tradewind.sync import actions
from tradewind.sync.inbox import Answer, GroupCommit, Inbox
from tradewind.sync.worker import Engine
from tradewind.vault import VaultError
from tradewind.web import app as web

log = structlog.get_logger(__name__)

API_PREFIX = "/api/v1"
OPENAPI_URL = f"{API_PREFIX}/openapi.json"
# Swagger UI 5 (it reads OpenAPI 3.1), vendored from npm into the UI's static files.
SWAGGER_UI = "/static/swagger-ui-5.35.0"


def create_app(hub: Hub, *, engine: Engine | None = None, run_engine: bool = False) -> FastAPI:
    """The ASGI app for ``hub``. With ``run_engine`` the app's lifespan starts and stops
    ``engine`` (the embedded mode of ``tradewind run``)."""
    inbox = Inbox(hub)
    writer = GroupCommit(inbox)
    touches = TokenTouches(hub.db)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if run_engine and engine is not None:
            engine.start()
        try:
            yield
        finally:
            if run_engine and engine is not None:
                engine.stop()
            writer.close()
            inbox.close()
            touches.wait()

    app = FastAPI(
        title="Tradewind",
        version=__version__,
        description="The REST API of a self-hosted multichannel commerce integration hub. "
        "Authenticate with `Authorization: Bearer <token>` (`tradewind tokens create`). "
        "Errors are RFC 9457 problem documents.",
        lifespan=lifespan,
        openapi_url=None,  # served below, behind authentication
        docs_url=None,
        redoc_url=None,
    )
    app.state.hub = hub
    app.state.token_touches = touches
    app.state.engine = engine
    install_problem_handlers(app)

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
            api_principal(request, _bearer_of(request))

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

    @app.get(
        "/oauth/callback",
        tags=["operations"],
        response_class=HTMLResponse,
        responses={
            303: {"description": "Authorized: on to the plugin page"},
            403: {"description": "Not a state Tradewind issued, used, expired, or refused"},
            422: {"description": "No state given"},
        },
    )
    def oauth_callback(
        request: Request,
        state: str = Query(min_length=1, max_length=512, description="As Tradewind issued it."),
    ) -> Response:
        """Where the platform returns after the merchant approved access. The state must be
        one Tradewind issued (single use, 15 minutes) and the platform's signature must
        match; then the code is exchanged and the plugin resumes."""
        params = {key: value for key, value in request.query_params.items()}
        params["state"] = state  # validated above: present, bounded
        try:
            plugin = actions.finish_authorization(hub, params)
        except (TradewindError, UnknownConnector) as exc:
            return web.message_page(request, "Authorization failed", str(exc), status=403)
        except Exception as exc:  # the platform or connector broke: say so, never a 500
            log.warning("oauth callback failed", error=str(exc))
            return web.message_page(
                request, "Authorization failed", f"{type(exc).__name__}: {exc}", status=403
            )
        return RedirectResponse(f"/plugins/{plugin.id}?authorized=1", status_code=303)

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
        answer = await run_in_threadpool(inbox.accept, plugin_id, topic, headers, body)
        return JSONResponse({"detail": answer.detail}, status_code=answer.status)

    api = APIRouter(prefix=API_PREFIX)
    for module in (channels, connectors, plugin_routes, catalog, orders, customers, monitoring):
        api.include_router(module.router)
    api.include_router(customers.listings)

    @api.get(
        "/openapi.json",
        include_in_schema=False,
    )
    def openapi_document(request: Request) -> JSONResponse:
        web.require_reader(request)
        return JSONResponse(app.openapi())

    @api.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        web.require_reader(request)
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title="Tradewind API",
            swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png",
        )

    @api.get("/me", tags=["operations"], responses=responses(common=False))
    def me(principal: Principal = Depends(api_principal)) -> dict[str, Any]:
        """Who the token is and whether it may write."""
        return {"kind": principal.kind, "name": principal.name, "can_write": principal.can_write}

    app.include_router(api)
    web.install(app, hub)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(WebhookIntake, inbox=inbox, writer=writer)
    # Outermost: every body is bounded before anything (webhooks included) reads it.
    app.add_middleware(BodyLimit, limits=limits_for(hub.settings))
    # Who the client is: the peer, or the one a configured proxy names (none by default,
    # so X-Forwarded-* from anyone else is ignored). web.session.client_address reads it.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(hub.settings.trusted_proxies))
    return app


class SecurityHeaders:
    """Every response: no framing (clickjacking), no MIME sniffing, no referrer leaks."""

    HEADERS = (
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"content-security-policy", b"frame-ancestors 'none'"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


def _bearer_of(request: Request) -> Any:
    from fastapi.security import HTTPAuthorizationCredentials

    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials:
        return None
    return HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials)


# ----------------------------------------------------------------------------- problems


def _is_api(request: Request) -> bool:
    path = request.url.path
    return path.startswith(API_PREFIX) or path in ("/metrics", "/health")


def install_problem_handlers(app: FastAPI) -> None:
    """Every error is an RFC 9457 problem on the API; the UI gets a page (or a sign-in)."""

    @app.exception_handler(TradewindError)
    async def _tradewind(request: Request, exc: TradewindError) -> Response:
        headers: dict[str, str] = {}
        if isinstance(exc, LoginThrottled):
            headers["Retry-After"] = str(exc.retry_after)
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if not _is_api(request):
            return await web.error_response(request, exc.status, exc.title, exc.message)
        return problem(
            exc.status,
            exc.message,
            title=exc.title,
            instance=request.url.path,
            errors=exc.fields,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors: dict[str, str] = {}
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
            errors[where or "body"] = str(error.get("msg", "invalid"))
        detail = "; ".join(f"{key}: {value}" for key, value in errors.items())
        if not _is_api(request):
            return await web.error_response(request, 422, "Invalid input", detail)
        return problem(
            422,
            detail,
            title="Invalid input",
            instance=request.url.path,
            errors=jsonable_encoder(errors),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        title = HTTPStatus(exc.status_code).phrase
        detail = exc.detail if isinstance(exc.detail, str) else title
        if not _is_api(request):
            return await web.error_response(request, exc.status_code, title, detail)
        return problem(
            exc.status_code,
            detail,
            title=title,
            instance=request.url.path,
            headers=dict(exc.headers or {}),
        )

    async def _out_of_range(request: Request, exc: Exception) -> Response:
        # An id or quantity beyond what the database stores (2**63 on SQLite, 2**31 for
        # PostgreSQL integers) is bad input, not a server error.
        if isinstance(exc, StatementError) and not (
            isinstance(exc, DataError) or isinstance(exc.orig, OverflowError)
        ):
            raise exc
        detail = "a number in the request is out of range"
        if not _is_api(request):
            return await web.error_response(request, 422, "Invalid input", detail)
        return problem(422, detail, title="Invalid input", instance=request.url.path)

    async def _database(request: Request, exc: Exception) -> Response:
        # The database down or restarting is "try again later" for every route, and it
        # is logged once per outage (Database.availability), not as a traceback each.
        if not unavailable(exc):
            return await _out_of_range(request, exc)
        detail = "the database is unavailable; retry in a few seconds"
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if not _is_api(request):
            return web.unavailable_page(request, detail, headers=headers)
        return problem(
            503, detail, title="Service unavailable", instance=request.url.path, headers=headers
        )

    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(StatementError, _out_of_range)
    app.add_exception_handler(DBAPIError, _database)

    @app.exception_handler(VaultError)
    async def _vault(request: Request, exc: VaultError) -> Response:
        log.error("vault error", error=str(exc), path=request.url.path)
        return problem(500, str(exc), title="Stored credentials cannot be opened")

    @app.exception_handler(UnknownConnector)
    async def _connector(request: Request, exc: UnknownConnector) -> Response:
        if not _is_api(request):
            return await web.error_response(request, 409, "Connector not installed", str(exc))
        return problem(409, str(exc), title="Connector not installed", instance=request.url.path)


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
        try:
            answer = await self._accept(int(plugin), topic, headers, bytes(body))
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
        self, plugin: int, topic: str, headers: dict[str, str], body: bytes
    ) -> Answer:
        verifier = self.inbox.cached_verifier(plugin)
        if verifier is not None:  # the common case: pure CPU, no I/O, on the loop
            checked = self.inbox.check(plugin, topic, headers, body, verifier)
        else:
            checked = await run_in_threadpool(self.inbox.check, plugin, topic, headers, body)
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
