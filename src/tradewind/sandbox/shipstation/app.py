"""The ASGI application: ShipStation's V1 API at the root, and the sandbox's control API
under ``/_sandbox``.

A request authenticates as ShipStation V1 accepts it: HTTP Basic with the API key as the
username and the API secret as the password. It is then counted against its key+secret's
window (and refused beyond it), may meet an injected fault, and runs. Every API answer
carries the ``X-Rate-Limit-*`` headers. Paths match case-insensitively, as ASP.NET's do.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tradewind.sandbox.shipstation import carriers, control
from tradewind.sandbox.shipstation.core import Sandbox
from tradewind.sandbox.shipstation.faults import FaultKind
from tradewind.sandbox.shipstation.ops import Ops
from tradewind.sandbox.shipstation.state import (
    DENIED,
    MANUAL_STORE_ID,
    Doc,
    ShipStationError,
)

FAULT_MESSAGES: dict[int, str] = {
    429: "Too Many Requests",
    500: "An error has occurred.",
    502: "Bad Gateway",
    503: "The service is unavailable.",
    504: "Gateway Timeout",
}
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status, headers=headers, media_type="application/json; charset=utf-8"
    )


def credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    key, colon, secret = decoded.partition(":")
    return (key, secret) if key and colon else None


async def read_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ShipStationError(400, "The request is invalid.") from None


def _object(body: Any) -> Doc:
    if not isinstance(body, dict):
        raise ShipStationError(400, "The request is invalid.")
    return body


@dataclass(frozen=True)
class Call:
    """What a handler is given: the account's operations, the ``{id}`` of the path (or
    ""), the query, and the parsed JSON body."""

    ops: Ops
    id: str
    query: Doc
    body: Any


Handler = Callable[[Call], Any]


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str  # "{id}" stands for one path segment
    handler: Handler

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + self.path.replace("{id}", "(?P<id>[^/]+)") + "/?$", re.I)


def _unsubscribe(call: Call) -> None:
    call.ops.unsubscribe(call.id)


def _stores(call: Call) -> list[Doc]:
    if not call.ops.account.manual_store:
        return []
    return [
        {
            "storeId": MANUAL_STORE_ID,
            "storeName": "Manual Orders",
            "marketplaceId": 0,
            "marketplaceName": "ShipStation",
            "active": True,
        }
    ]


API: tuple[ApiRoute, ...] = (
    ApiRoute("POST", "/orders/createorder", lambda c: c.ops.create_order(_object(c.body))),
    ApiRoute("POST", "/orders/createorders", lambda c: c.ops.create_orders(c.body)),
    ApiRoute(
        "POST", "/orders/createlabelfororder", lambda c: c.ops.label_for_order(_object(c.body))
    ),
    ApiRoute("GET", "/orders", lambda c: c.ops.orders(c.query)),
    ApiRoute("GET", "/orders/{id}", lambda c: c.ops.order(c.id)),
    ApiRoute("POST", "/shipments/createlabel", lambda c: c.ops.label(_object(c.body))),
    ApiRoute("GET", "/shipments", lambda c: c.ops.shipments(c.query)),
    ApiRoute("POST", "/shipments/getrates", lambda c: carriers.rates(_object(c.body))),
    ApiRoute("POST", "/shipments/voidlabel", lambda c: carriers.void_label(c.ops, c.body)),
    ApiRoute("GET", "/carriers", lambda c: carriers.carriers(c.ops)),
    ApiRoute("GET", "/carriers/listservices", lambda c: carriers.services(c.query)),
    ApiRoute("POST", "/webhooks/subscribe", lambda c: c.ops.subscribe(_object(c.body))),
    ApiRoute(
        "GET",
        "/webhooks",
        lambda c: {"webhooks": list(c.ops.account.webhooks.values())},
    ),
    ApiRoute("DELETE", "/webhooks/{id}", _unsubscribe),
    ApiRoute(
        "GET",
        "/users",
        lambda _c: [{"userId": "00000000-0000-0000-0000-000000000000", "userName": "sandbox"}],
    ),
    ApiRoute("GET", "/stores", _stores),
)
COMPILED = tuple((route, route.pattern) for route in API)


def base_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def fault_response(status: int, headers: dict[str, str]) -> Response:
    return json_response(
        status, {"Message": FAULT_MESSAGES.get(status, "An error has occurred.")}, headers
    )


def _match(method: str, path: str) -> tuple[ApiRoute, str] | bool | None:
    """The route and ``{id}`` of a request; False when the path is known but the method
    is not, None when nothing matches."""
    path_known = False
    for route, pattern in COMPILED:
        found = pattern.match(path)
        if found is None:
            continue
        path_known = True
        if route.method == method:
            return route, found.groupdict().get("id") or ""
    return False if path_known else None


def create_app(sandbox: Sandbox) -> Starlette:
    async def api(request: Request) -> Response:
        pair = credentials(request)
        account = None
        if pair is not None:
            with sandbox.state.lock:
                account = sandbox.state.authenticate(*pair)
        if pair is None or account is None:
            caller = f"{pair[0]}:{pair[1]}" if pair else ""
            headers = sandbox.limiter.peek(caller).headers()
            return json_response(401, {"Message": DENIED}, headers)
        standing = sandbox.limiter.take(f"{account.key}:{account.secret}")
        headers = standing.headers()
        if not standing.allowed:
            return fault_response(429, headers)
        fault = sandbox.faults.take(account.key, request.url.path)
        if fault is not None and fault.kind is FaultKind.latency:
            await asyncio.sleep(fault.latency_ms / 1000)
            fault = None
        if fault is not None:
            return fault_response(fault.answer, headers)
        matched = _match(request.method, request.url.path)
        if not isinstance(matched, tuple):
            if matched is False:
                message = f"The requested resource does not support http method '{request.method}'."
                return json_response(405, {"Message": message}, headers)
            message = f"No HTTP resource was found that matches the request URI '{request.url}'."
            return json_response(404, {"Message": message}, headers)
        route, ident = matched
        try:
            body = await read_body(request) if route.method == "POST" else {}
            query = dict(request.query_params)
            result = sandbox.run(
                account,
                base_url(request),
                lambda ops: route.handler(Call(ops, ident, query, body)),
            )
        except ShipStationError as error:
            return json_response(error.status, error.body(), headers)
        if result is None:
            return Response(b"", 200, headers=headers)
        return json_response(200, result, headers)

    routes: list[Route] = [*control.routes(sandbox), Route("/{rest:path}", api, methods=METHODS)]

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        sandbox.webhooks.start()
        yield
        sandbox.webhooks.stop()

    return Starlette(routes=routes, lifespan=lifespan)
