"""The ASGI app: the REST API and the UI side by side on one FastAPI app, with what they
share — the error handlers (a problem document on the API, a page in the UI), the API
documentation (a token or a signed-in user may read it), the OAuth callback, security
headers and the middleware order. ``create_app`` is the one place where the HTTP layer
meets a Hub.

Only four things answer without a sign-in or a token: ``/health``, ``/metrics`` (unless
``TRADEWIND_METRICS_PUBLIC=false``), ``/hooks/…`` (the platform's signature is the
authentication) and ``/oauth/callback`` (checked by its single-use state and the
platform's HMAC) — plus the sign-in page and its static files.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus

import structlog
from fastapi import FastAPI, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError, DBAPIError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tradewind import __version__
from tradewind.api import app as api
from tradewind.api.limits import BodyLimit, limits_for
from tradewind.api.problems import RETRY_AFTER_SECONDS, problem
from tradewind.api.security import TokenTouches, api_principal, bearer_of
from tradewind.app import actions
from tradewind.auth.service import LoginThrottled
from tradewind.connectors.registry import UnknownConnector
from tradewind.db import unavailable
from tradewind.errors import TradewindError
from tradewind.hub import Hub
from tradewind.sync.inbox import GroupCommit, Inbox
from tradewind.sync.worker import Engine
from tradewind.vault import VaultError
from tradewind.web import app as web
from tradewind.web.session import LoginRequired, current_user

log = structlog.get_logger(__name__)

OPENAPI_URL = f"{api.API_PREFIX}/openapi.json"
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

    api.install(app, hub, inbox)
    _install_documentation(app)

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

    web.install(app, hub)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(api.WebhookIntake, inbox=inbox, writer=writer)
    # Outermost: every body is bounded before anything (webhooks included) reads it.
    app.add_middleware(BodyLimit, limits=limits_for(hub.settings))
    # Who the client is: the peer, or the one a configured proxy names (none by default,
    # so X-Forwarded-* from anyone else is ignored). web.session.client_address reads it.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(hub.settings.trusted_proxies))
    return app


def _install_documentation(app: FastAPI) -> None:
    """The OpenAPI document and Swagger UI, for a token or a signed-in user."""

    @app.get(OPENAPI_URL, include_in_schema=False)
    def openapi_document(request: Request) -> JSONResponse:
        require_reader(request)
        return JSONResponse(app.openapi())

    @app.get(f"{api.API_PREFIX}/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        require_reader(request)
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title="Tradewind API",
            swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png",
        )


def require_reader(request: Request) -> None:
    """A bearer token or a signed-in user (the API documentation pages)."""
    if request.headers.get("authorization"):
        api_principal(request, bearer_of(request))
        return
    if current_user(request) is None:
        raise LoginRequired("sign in to read the API documentation")


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


# ----------------------------------------------------------------------------- problems


def _is_api(request: Request) -> bool:
    path = request.url.path
    return path.startswith(api.API_PREFIX) or path in ("/metrics", "/health")


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
