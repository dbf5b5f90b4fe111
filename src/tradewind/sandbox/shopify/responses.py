"""HTTP answers shared by the REST and GraphQL endpoints: JSON bodies with Shopify's
headers, authentication of a request, and injected faults."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from tradewind.sandbox.shopify.core import Sandbox
from tradewind.sandbox.shopify.faults import REQUEST_FAULTS, Fault, FaultKind
from tradewind.sandbox.shopify.ops.base import ShopifyError
from tradewind.sandbox.shopify.state import Token

JSON_TYPE = "application/json; charset=utf-8"
RETRY_AFTER = "2.0"  # what Shopify sends with a REST 429, in seconds
THROTTLED_REST = (
    "Exceeded 2 calls per second for api client. Reduce request rates to resume "
    "uninterrupted service."
)


def json_response(status: int, body: Any, headers: dict[str, str]) -> Response:
    """A JSON answer whose headers keep Shopify's spelling (``X-Shopify-Shop-Api-Call-Limit``):
    HTTP says header names are case-insensitive, but clients written against Shopify
    look some up case-sensitively (ShopifyAPI's ``Limits`` does), and Starlette would
    lower-case them."""
    if status == 204:
        response = Response(status_code=204)
    else:
        response = Response(orjson.dumps(body), status, media_type=JSON_TYPE)
    response.raw_headers.extend(
        (k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
    )
    return response


def error_response(error: ShopifyError, headers: dict[str, str]) -> Response:
    return json_response(error.status, {"errors": error.errors}, headers)


def fault_response(fault: Fault, headers: dict[str, str], call_limit: str) -> Response:
    if fault.kind is FaultKind.rate_limit:
        headers.update({"Retry-After": RETRY_AFTER, "X-Shopify-Shop-Api-Call-Limit": call_limit})
        return json_response(429, {"errors": THROTTLED_REST}, headers)
    return json_response(fault.status, {"errors": "Internal Server Error"}, headers)


async def request_faults(sandbox: Sandbox, shop: str, path: str, query: str = "") -> Fault | None:
    """Apply added latency; return a fault that replaces the answer, if any (``query``: a
    GraphQL request's body or a REST request's decoded query string, which a fault's
    ``query_contains`` is matched against)."""
    while True:
        fault = sandbox.faults.take(shop, REQUEST_FAULTS, path, query)
        if fault is None:
            return None
        if fault.kind is FaultKind.latency:
            await asyncio.sleep(fault.latency_ms / 1000)
            continue
        return fault


async def authenticated(
    sandbox: Sandbox, request: Request, headers: dict[str, str]
) -> Token | Response:
    hinted = sandbox.shop_for_host(request.headers.get("host"))
    if hinted is not None and sandbox.state.shop(hinted) is None:
        return json_response(404, {"errors": "Not Found"}, headers)
    try:
        return sandbox.authenticate(request.headers.get("x-shopify-access-token"), hinted)
    except ShopifyError as error:
        return error_response(error, headers)


def base_url(request: Request) -> str:
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.url.scheme}://{host}"
