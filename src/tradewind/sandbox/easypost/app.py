"""The ASGI application: EasyPost's API under ``/v2``, the label files it links to under
``/files``, and the sandbox's control API under ``/_sandbox``.

A request authenticates as EasyPost accepts it: the API key as the Basic username (empty
password) or as a Bearer token, which is what the official client libraries send. Before
the route runs, the request may meet an injected fault or the rate limit.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tradewind.sandbox.easypost import control
from tradewind.sandbox.easypost.core import Sandbox
from tradewind.sandbox.easypost.faults import FaultKind
from tradewind.sandbox.easypost.ops import Ops
from tradewind.sandbox.easypost.state import Doc, EasyPostError, mode_of

# Status → (code, message) of the errors a fault or the limiter answers with.
FAULT_ERRORS: dict[int, tuple[str, str]] = {
    429: ("RATE_LIMITED", "Too Many Requests"),
    500: ("INTERNAL_SERVER_ERROR", "We're sorry, something went wrong."),
    502: ("BAD_GATEWAY", "Bad Gateway"),
    503: ("SERVICE_UNAVAILABLE", "The service is temporarily unavailable."),
    504: ("GATEWAY_TIMEOUT", "Gateway Timeout"),
}


def json_response(status: int, body: Any) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json; charset=utf-8")


def error_response(error: EasyPostError) -> Response:
    return json_response(error.status, error.body())


def api_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[0] or None
    return None


def nest(pairs: list[tuple[str, str]]) -> Doc:
    """``shipment[parcel][weight]=10`` (form or query) → ``{"shipment": {"parcel": …}}``;
    a name ending in ``[]`` collects a list (``tracking_codes[]=A&tracking_codes[]=B``)."""
    out: Doc = {}
    for name, value in pairs:
        parts = name.replace("]", "").split("[")
        many = len(parts) > 1 and parts[-1] == ""
        if many:
            parts = parts[:-1]
        target = out
        for part in parts[:-1]:
            nxt = target.get(part)
            if not isinstance(nxt, dict):
                nxt = target[part] = {}
            target = nxt
        if many:
            items = target.get(parts[-1])
            if not isinstance(items, list):
                items = target[parts[-1]] = []
            items.append(value)
        else:
            target[parts[-1]] = value
    return out


async def read_body(request: Request) -> Doc:
    raw = await request.body()
    if not raw.strip():
        return {}
    if "application/x-www-form-urlencoded" in request.headers.get("content-type", ""):
        return nest(parse_qsl(raw.decode(), keep_blank_values=True))
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise EasyPostError(
            400, "BAD_REQUEST", "The request could not be parsed as JSON."
        ) from None
    if not isinstance(parsed, dict):
        raise EasyPostError(400, "BAD_REQUEST", "The request body must be a JSON object.")
    return parsed


@dataclass(frozen=True)
class Call:
    """What a route's handler is given: the account's operations, the ``{id}`` of the
    path (or ""), and the body (the query, for GET and DELETE)."""

    ops: Ops
    id: str
    body: Doc


Handler = Callable[[Call], Any]


@dataclass(frozen=True)
class ApiRoute:
    path: str
    method: str
    handler: Handler
    status: int = 200
    index: bool = False  # a list endpoint, under the fixed index limit


def _delete_webhook(call: Call) -> Doc:
    call.ops.delete_webhook(call.id)
    return {}


def _list(name: str, items: list[Doc]) -> Doc:
    return {name: list(reversed(items)), "has_more": False}


API: tuple[ApiRoute, ...] = (
    ApiRoute(
        "/v2/addresses",
        "POST",
        lambda c: c.ops.address(c.body.get("address"), "address"),
        201,
    ),
    ApiRoute(
        "/v2/parcels",
        "POST",
        lambda c: c.ops.parcel(c.body.get("parcel"), "parcel"),
        201,
    ),
    ApiRoute("/v2/addresses/{id}", "GET", lambda c: c.ops.stored("addresses", c.id)),
    ApiRoute("/v2/parcels/{id}", "GET", lambda c: c.ops.stored("parcels", c.id)),
    ApiRoute("/v2/shipments", "POST", lambda c: c.ops.create_shipment(c.body), 201),
    ApiRoute(
        "/v2/shipments",
        "GET",
        lambda c: _list("shipments", list(c.ops.account.shipments.values())),
        index=True,
    ),
    ApiRoute("/v2/shipments/{id}", "GET", lambda c: c.ops.shipment(c.id)),
    ApiRoute(
        "/v2/shipments/{id}/rates",
        "GET",
        lambda c: {"rates": c.ops.shipment(c.id)["rates"]},
    ),
    ApiRoute("/v2/shipments/{id}/rerate", "POST", lambda c: c.ops.rerate(c.id)),
    ApiRoute("/v2/shipments/{id}/buy", "POST", lambda c: c.ops.buy(c.id, c.body)),
    ApiRoute("/v2/shipments/{id}/refund", "POST", lambda c: c.ops.refund(c.id)),
    ApiRoute("/v2/rates/{id}", "GET", lambda c: c.ops.rate(c.id)),
    ApiRoute("/v2/trackers", "POST", lambda c: c.ops.create_tracker(c.body), 201),
    ApiRoute(
        "/v2/trackers",
        "GET",
        lambda c: _list("trackers", c.ops.trackers(c.body)),
        index=True,
    ),
    ApiRoute("/v2/trackers/{id}", "GET", lambda c: c.ops.tracker(c.id)),
    ApiRoute("/v2/webhooks", "POST", lambda c: c.ops.create_webhook(c.body), 201),
    ApiRoute(
        "/v2/webhooks",
        "GET",
        lambda c: {"webhooks": list(c.ops.account.webhooks.values())},
        index=True,
    ),
    ApiRoute("/v2/webhooks/{id}", "GET", lambda c: c.ops.webhook(c.id)),
    ApiRoute("/v2/webhooks/{id}", "PATCH", lambda c: c.ops.update_webhook(c.id, c.body)),
    ApiRoute(
        "/v2/webhooks/{id}",
        "PUT",
        lambda c: c.ops.update_webhook(c.id, c.body),
    ),
    ApiRoute("/v2/webhooks/{id}", "DELETE", _delete_webhook),
    ApiRoute(
        "/v2/events",
        "GET",
        lambda c: _list("events", list(c.ops.account.events.values())),
        index=True,
    ),
    ApiRoute("/v2/events/{id}", "GET", lambda c: c.ops.event(c.id)),
)


def base_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def make_endpoint(sandbox: Sandbox, route: ApiRoute) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        key = api_key(request)
        if key is None:
            return error_response(
                EasyPostError(
                    401,
                    "APIKEY.REQUIRED",
                    "We couldn't authenticate you. Please provide an API key.",
                )
            )
        with sandbox.state.lock:
            account = sandbox.state.active(key) if mode_of(key) else None
        if account is None:
            return error_response(
                EasyPostError(
                    401,
                    "APIKEY.INVALID",
                    "We couldn't authenticate you. Please check your API key and try again.",
                )
            )
        fault = sandbox.faults.take(key, request.url.path)
        if fault is not None and fault.kind is FaultKind.latency:
            await asyncio.sleep(fault.latency_ms / 1000)
            fault = None
        if fault is not None and not fault.after:
            return fault_response(fault.answer, fault.retry_after)
        if not sandbox.limiter.allow(key, route.index):
            return fault_response(429)
        try:
            if route.method in ("GET", "DELETE"):
                body = nest(list(request.query_params.multi_items()))
            else:
                body = await read_body(request)
            result = sandbox.run(
                account,
                base_url(request),
                lambda ops: route.handler(Call(ops, str(request.path_params.get("id", "")), body)),
            )
        except EasyPostError as error:
            return error_response(error)
        if fault is not None:  # "after": the change is made, its answer is lost
            return fault_response(fault.answer, fault.retry_after)
        return json_response(route.status, result)

    return endpoint


def fault_response(status: int, retry_after: float | None = None) -> Response:
    code, message = FAULT_ERRORS.get(status, ("INTERNAL_SERVER_ERROR", "Server error"))
    response = error_response(EasyPostError(status, code, message))
    if status == 429 and retry_after is not None:  # a fault's; EasyPost itself sends none
        response.headers["Retry-After"] = f"{retry_after:g}"
    return response


def _png() -> bytes:
    """A 1×1 white PNG: every label file the sandbox serves."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


LABEL_PNG = _png()


def create_app(sandbox: Sandbox) -> Starlette:
    async def label(request: Request) -> Response:
        label_id = request.path_params["label"]
        with sandbox.state.lock:
            known = any(
                (s.get("postage_label") or {}).get("id") == label_id
                for account in sandbox.state.accounts.values()
                for s in account.shipments.values()
            )
        if not known:
            return Response(b"Not Found", 404, media_type="text/plain")
        return Response(LABEL_PNG, 200, media_type="image/png")

    async def not_found(_request: Request) -> Response:
        return error_response(
            EasyPostError(404, "NOT_FOUND", "The requested resource could not be found.")
        )

    routes: list[Route] = []
    by_path: dict[str, dict[str, ApiRoute]] = {}
    for api_route in API:
        by_path.setdefault(api_route.path, {})[api_route.method] = api_route
    for path, methods in by_path.items():
        endpoints = {m: make_endpoint(sandbox, r) for m, r in methods.items()}

        def dispatch(
            table: dict[str, Callable[[Request], Awaitable[Response]]],
        ) -> Callable[[Request], Awaitable[Response]]:
            async def endpoint(request: Request) -> Response:
                handler = table.get(request.method)
                if handler is None:
                    return error_response(
                        EasyPostError(405, "METHOD_NOT_ALLOWED", "Method Not Allowed")
                    )
                return await handler(request)

            return endpoint

        routes.append(
            Route(path, dispatch(endpoints), methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
        )
    routes.append(Route("/files/postage_label/{label}.png", label))
    routes.extend(control.routes(sandbox))
    routes.append(
        Route("/v2/{rest:path}", not_found, methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        sandbox.webhooks.start()
        yield
        sandbox.webhooks.stop()

    return Starlette(routes=routes, lifespan=lifespan)
