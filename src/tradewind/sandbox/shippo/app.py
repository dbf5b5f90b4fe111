"""The ASGI application: Shippo's API at the root (as ``https://api.goshippo.com``), the
label files it links to under ``/labels``, and the control API under ``/_sandbox``.

A request authenticates with ``Authorization: ShippoToken <token>``; ``SHIPPO-API-VERSION``
is accepted and echoed. Before the route runs it may meet an injected fault or the rate
limit; every limited answer carries the ``X-RateLimit-*`` headers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tradewind.sandbox.shippo import control
from tradewind.sandbox.shippo.core import Sandbox
from tradewind.sandbox.shippo.faults import FaultKind, RateClass, Verdict
from tradewind.sandbox.shippo.ops import Ops
from tradewind.sandbox.shippo.state import Doc, ShippoError, detail, is_test

FAULT_DETAILS: dict[int, str] = {
    429: "Request was throttled.",
    500: "A server error occurred.",
    502: "Bad Gateway",
    503: "Service temporarily unavailable, try again later.",
    504: "Gateway Timeout",
}
API_VERSION_HEADER = "SHIPPO-API-VERSION"


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    if status == 204:
        return Response(b"", 204, headers=headers)
    return Response(orjson.dumps(body), status, headers=headers, media_type="application/json")


def shippo_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "shippotoken":
        return None
    return value.strip() or None


async def read_body(request: Request) -> Doc:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise detail(400, "JSON parse error - the request body is not valid JSON.") from None
    if not isinstance(parsed, dict):
        raise ShippoError(
            400, {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
        )
    return parsed


@dataclass(frozen=True)
class Call:
    """A handler's input: the account's operations, the path parameters, the body (the
    query, for GET and DELETE)."""

    ops: Ops
    params: dict[str, str]
    body: Doc


@dataclass(frozen=True)
class ApiRoute:
    path: str
    method: str
    handler: Callable[[Call], Any]
    status: int = 200
    kind: RateClass = RateClass.get_single


def _delete_webhook(call: Call) -> None:
    call.ops.delete_webhook(call.params["id"])


def _webhooks(call: Call) -> Doc:
    return call.ops.page(list(call.ops.account.webhooks.values()), call.body, "/webhooks")


API: tuple[ApiRoute, ...] = (
    ApiRoute("/addresses", "POST", lambda c: c.ops.address(c.body), 201, RateClass.post),
    ApiRoute("/addresses/{id}", "GET", lambda c: c.ops.stored("addresses", c.params["id"])),
    ApiRoute("/parcels", "POST", lambda c: c.ops.parcel(c.body, "parcel"), 201, RateClass.post),
    ApiRoute("/parcels/{id}", "GET", lambda c: c.ops.stored("parcels", c.params["id"])),
    ApiRoute("/shipments", "POST", lambda c: c.ops.create_shipment(c.body), 201, RateClass.post),
    ApiRoute(
        "/shipments",
        "GET",
        lambda c: c.ops.page(list(c.ops.account.shipments.values()), c.body, "/shipments"),
        kind=RateClass.get_list,
    ),
    ApiRoute("/shipments/{id}", "GET", lambda c: c.ops.shipment(c.params["id"], poll=True)),
    ApiRoute(
        "/shipments/{id}/rates",
        "GET",
        lambda c: c.ops.rates(c.params["id"], c.body),
        kind=RateClass.get_list,
    ),
    ApiRoute(
        "/shipments/{id}/rates/{currency}",
        "GET",
        lambda c: c.ops.rates(c.params["id"], c.body, c.params["currency"]),
        kind=RateClass.get_list,
    ),
    ApiRoute("/rates/{id}", "GET", lambda c: c.ops.rate(c.params["id"])),
    ApiRoute(
        "/transactions", "POST", lambda c: c.ops.create_transaction(c.body), 201, RateClass.post
    ),
    ApiRoute(
        "/transactions",
        "GET",
        lambda c: c.ops.page(list(c.ops.account.transactions.values()), c.body, "/transactions"),
        kind=RateClass.get_list,
    ),
    ApiRoute("/transactions/{id}", "GET", lambda c: c.ops.transaction(c.params["id"], poll=True)),
    ApiRoute("/refunds", "POST", lambda c: c.ops.create_refund(c.body), 201, RateClass.post),
    ApiRoute(
        "/refunds",
        "GET",
        lambda c: c.ops.page(list(c.ops.account.refunds.values()), c.body, "/refunds"),
        kind=RateClass.get_list,
    ),
    ApiRoute("/refunds/{id}", "GET", lambda c: c.ops.stored("refunds", c.params["id"])),
    ApiRoute("/tracks", "POST", lambda c: c.ops.register_track(c.body), kind=RateClass.tracking),
    ApiRoute(
        "/tracks/{carrier}/{number}",
        "GET",
        lambda c: c.ops.get_track(c.params["carrier"], c.params["number"]),
        kind=RateClass.tracking,
    ),
    ApiRoute("/webhooks", "POST", lambda c: c.ops.create_webhook(c.body), 201, RateClass.post),
    ApiRoute("/webhooks", "GET", _webhooks, kind=RateClass.get_list),
    ApiRoute("/webhooks/{id}", "GET", lambda c: c.ops.stored("webhooks", c.params["id"])),
    ApiRoute(
        "/webhooks/{id}",
        "PUT",
        lambda c: c.ops.update_webhook(c.params["id"], c.body),
        kind=RateClass.post,
    ),
    ApiRoute("/webhooks/{id}", "DELETE", _delete_webhook, 204, RateClass.post),
)


def base_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def fault_response(status: int, headers: dict[str, str] | None = None) -> Response:
    return json_response(status, {"detail": FAULT_DETAILS.get(status, "Server error")}, headers)


def make_endpoint(sandbox: Sandbox, route: ApiRoute) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        token = shippo_token(request)
        if token is None:
            return json_response(401, {"detail": "Authentication credentials were not provided."})
        with sandbox.state.lock:
            account = sandbox.state.active(token) if is_test(token) is not None else None
        if account is None:
            return json_response(401, {"detail": "Invalid token."})
        headers: dict[str, str] = {}
        version = request.headers.get(API_VERSION_HEADER)
        if version:
            headers[API_VERSION_HEADER] = version
        fault = sandbox.faults.take(token, request.url.path)
        if fault is not None and fault.kind is FaultKind.latency:
            await asyncio.sleep(fault.latency_ms / 1000)
            fault = None
        if fault is not None and not fault.after:
            return fault_response(fault.answer, headers)
        verdict: Verdict | None = sandbox.limiter.check(token, route.kind, account.test)
        if verdict is not None:
            headers.update(verdict.headers())
            if not verdict.allowed:
                wait = max(1, verdict.reset - int(sandbox.clock()))
                headers["Retry-After"] = str(wait)
                return json_response(
                    429,
                    {"detail": f"Request was throttled. Expected available in {wait} seconds."},
                    headers,
                )
        try:
            if route.method in ("GET", "DELETE"):
                body: Doc = dict(request.query_params)
            else:
                body = await read_body(request)
            params = {k: str(v) for k, v in request.path_params.items()}
            result = sandbox.run(
                account, base_url(request), lambda ops: route.handler(Call(ops, params, body))
            )
        except ShippoError as error:
            return json_response(error.status, error.body, headers)
        if fault is not None:  # "after": the change is made, its answer is lost
            return fault_response(fault.answer, headers)
        return json_response(route.status, result, headers)

    return endpoint


LABEL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 288 432]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def create_app(sandbox: Sandbox) -> Starlette:
    async def label(request: Request) -> Response:
        transaction_id = request.path_params["id"]
        with sandbox.state.lock:
            known = any(
                (a.transactions.get(transaction_id) or {}).get("status") == "SUCCESS"
                for a in sandbox.state.accounts.values()
            )
        if not known:
            return Response(b"Not Found", 404, media_type="text/plain")
        return Response(LABEL_PDF, 200, media_type="application/pdf")

    routes: list[Route] = []
    by_path: dict[str, dict[str, ApiRoute]] = {}
    for api_route in API:
        by_path.setdefault(api_route.path, {})[api_route.method] = api_route
    routes.append(Route("/labels/{id}.pdf", label))
    routes.extend(control.routes(sandbox))
    for path, methods in by_path.items():
        table = {m: make_endpoint(sandbox, r) for m, r in methods.items()}
        routes.append(Route(path, _dispatch(table), methods=["GET", "POST", "PUT", "DELETE"]))
        # Shippo's own links and its older clients use a trailing slash.
        routes.append(Route(path + "/", _dispatch(table), methods=["GET", "POST", "PUT", "DELETE"]))

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        sandbox.webhooks.start()
        yield
        sandbox.webhooks.stop()

    return Starlette(routes=routes, lifespan=lifespan)


def _dispatch(
    table: dict[str, Callable[[Request], Awaitable[Response]]],
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        handler = table.get(request.method)
        if handler is None:
            return json_response(405, {"detail": f'Method "{request.method}" not allowed.'})
        return await handler(request)

    return endpoint
