"""The ASGI application: Shopify's paths with no prefix (``/admin/api/{version}/…``,
``/admin/oauth/…``) and the sandbox's control API under ``/_sandbox``.

A request finds its shop by its ``Host`` header when that is a shop domain, otherwise by
its access token, so a client written for Shopify works when only its base URL changes.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import unquote

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route

from tradewind.sandbox.shopify import control_api, graphql, oauth, rest
from tradewind.sandbox.shopify.core import Sandbox, resolve_version
from tradewind.sandbox.shopify.faults import FaultKind
from tradewind.sandbox.shopify.journal import Request as Recorded
from tradewind.sandbox.shopify.ops.base import ShopifyError
from tradewind.sandbox.shopify.responses import (
    RETRY_AFTER,
    THROTTLED_REST,
    authenticated,
    base_url,
    error_response,
    fault_response,
    json_response,
    request_faults,
)
from tradewind.sandbox.shopify.state import Token


def make_rest_endpoint(sandbox: Sandbox) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        version = resolve_version(request.path_params["version"])
        headers = {"X-Request-Id": str(uuid.uuid4())}
        if version is None:
            return json_response(404, {"errors": "Not Found"}, headers)
        headers["X-Shopify-API-Version"] = version
        found = await authenticated(sandbox, request, headers)
        if isinstance(found, Response):
            return found
        token = found
        path = request.path_params["path"]
        return await answer_rest(sandbox, request, token, version, path, headers)

    return endpoint


async def answer_rest(
    sandbox: Sandbox,
    request: Request,
    token: Token,
    version: str,
    path: str,
    headers: dict[str, str],
) -> Response:
    limits = sandbox.limits(token.shop)
    fault = await request_faults(sandbox, token.shop, path, unquote(request.url.query))
    if fault is not None:
        return fault_response(fault, headers, f"{limits.rest_bucket}/{limits.rest_bucket}")
    allowed, call_limit = sandbox.limiter.rest(
        token.shop, token.app_key, limits.rest_bucket, limits.rest_leak
    )
    headers["X-Shopify-Shop-Api-Call-Limit"] = call_limit
    if not allowed:
        headers["Retry-After"] = RETRY_AFTER
        return json_response(429, {"errors": THROTTLED_REST}, headers)
    if path == "access_scopes.json":
        matched: tuple[rest.Route, tuple[int, ...]] | None = (rest.ACCESS_SCOPES_ROUTE, ())
    else:
        matched = rest.resolve(request.method, path)
    if matched is None:
        return json_response(404, {"errors": "Not Found"}, headers)
    route, ids = matched
    scope = rest.missing_scope(route, token)
    if scope is not None:
        message = f"[API] This action requires merchant approval for {scope} scope."
        _record(sandbox, token, request.method, path, version, None, 403)
        return json_response(403, {"errors": message}, headers)
    body: dict[str, Any] = {}
    if request.method in ("POST", "PUT"):
        raw = await request.body()
        if raw.strip():
            try:
                parsed = orjson.loads(raw)
            except orjson.JSONDecodeError:
                return json_response(400, {"errors": "Invalid JSON in request body"}, headers)
            if not isinstance(parsed, dict):
                return json_response(400, {"errors": "Invalid JSON in request body"}, headers)
            body = parsed
    url = base_url(request) + request.url.path
    try:
        query = rest.decode_query(dict(request.query_params))

        def handle(ops: Any) -> rest.Answer:
            ctx = rest.Context(ops, token, query, body, ids, version, url)
            result = route.handler(ctx)
            if ctx.link:
                headers["Link"] = ctx.link
            return result

        result = sandbox.run(token.shop, handle, actor=token.app_key)
    except ShopifyError as error:
        _record(sandbox, token, request.method, path, version, body, error.status)
        return error_response(error, headers)
    if sandbox.faults.take(token.shop, (FaultKind.lose_answer,), path) is not None:
        _record(sandbox, token, request.method, path, version, body, 504)
        return json_response(504, {"errors": "Gateway Timeout"}, headers)
    _record(sandbox, token, request.method, path, version, body, result.status)
    return json_response(result.status, result.body, headers)


def _record(
    sandbox: Sandbox,
    token: Token,
    method: str,
    path: str,
    version: str,
    body: Any,
    status: int,
) -> None:
    sandbox.journal.record(
        token.shop, Recorded(method, path, version, token.app_key, body or None, status)
    )


def make_scopes_endpoint(sandbox: Sandbox) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        headers = {"X-Request-Id": str(uuid.uuid4())}
        found = await authenticated(sandbox, request, headers)
        if isinstance(found, Response):
            return found
        return await answer_rest(sandbox, request, found, "2025-07", "access_scopes.json", headers)

    return endpoint


def make_uninstall_endpoint(sandbox: Sandbox) -> Callable[[Request], Any]:
    """``DELETE /admin/api_permissions/current.json``: an app uninstalls itself."""

    async def endpoint(request: Request) -> Response:
        headers = {"X-Request-Id": str(uuid.uuid4())}
        found = await authenticated(sandbox, request, headers)
        if isinstance(found, Response):
            return found
        sandbox.uninstall(found.shop, found.app_key)
        return json_response(200, {}, headers)

    return endpoint


INDEX = """<!doctype html><html><head><title>Tradewind Shopify sandbox</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>Tradewind Shopify sandbox</h1>
<p>Shopify's Admin API at <code>/admin/api/{version}/…</code> (REST and
<code>graphql.json</code>) and OAuth at <code>/admin/oauth/…</code>.</p>
<p>Control API: <a href="/_sandbox/docs">/_sandbox/docs</a>.</p></body></html>"""


def create_app(sandbox: Sandbox) -> Starlette:
    """The ASGI app of one sandbox. Its lifespan starts and stops the webhook worker."""

    def bind(handler: Callable[[Sandbox, Request], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            return await handler(sandbox, request)  # type: ignore[no-any-return]

        return endpoint

    async def index(_request: Request) -> Response:
        return HTMLResponse(INDEX)

    async def bulk_file(request: Request) -> Response:
        # Shopify's result URLs are signed storage links: no token, the key is the secret
        body = sandbox.bulk.file(request.path_params["key"])
        if body is None:
            return Response(b"", status_code=404)
        disposition = request.query_params.get("response-content-disposition")
        headers = {"content-disposition": disposition} if disposition else {}
        # a download that broke off resumes where it stopped, as a storage link allows
        asked = re.fullmatch(r"bytes=(\d+)-", request.headers.get("range", ""))
        if asked is not None:
            start = int(asked.group(1))
            if start >= len(body):
                return Response(b"", status_code=416)
            headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
            return Response(
                body[start:], status_code=206, media_type="application/jsonl", headers=headers
            )
        return Response(body, media_type="application/jsonl", headers=headers)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        sandbox.webhooks.start()
        yield
        sandbox.webhooks.stop()

    routes = [
        Route("/", index),
        Route("/_bulk/{key}.jsonl", bulk_file),
        Route("/admin/oauth/authorize", bind(oauth.authorize), methods=["GET", "POST"]),
        Route("/admin/oauth/access_token", bind(oauth.access_token), methods=["POST"]),
        Route("/admin/oauth/access_scopes.json", make_scopes_endpoint(sandbox)),
        Route(
            "/admin/api_permissions/current.json",
            make_uninstall_endpoint(sandbox),
            methods=["DELETE"],
        ),
        Route("/admin/api/{version}/graphql.json", bind(graphql.endpoint), methods=["POST"]),
        Route(
            "/admin/api/{version}/{path:path}",
            make_rest_endpoint(sandbox),
            methods=["GET", "POST", "PUT", "DELETE"],
        ),
        Mount("/_sandbox", app=control_api.create_control_app(sandbox)),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
