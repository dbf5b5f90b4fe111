"""The control API under ``/_sandbox``, for tests and demos (no authentication: the
sandbox listens on loopback only). JSON in, JSON out:

    POST   /_sandbox/accounts                 {"key"?, "secret"?, "manual_store"?}
    DELETE /_sandbox/accounts/{key}           revoke the credentials (requests answer 401)
    PUT    /_sandbox/accounts/{key}/manual-store   {"enabled": bool}
    GET    /_sandbox/accounts/{key}/labels    {"bought": n, "voided": m}
    GET    /_sandbox/labels                   the same, summed over every account
    POST   /_sandbox/accounts/{key}/orders/{id}/ship
                                              {"carrierCode"?, "serviceCode"?,
                                               "trackingNumber"?, "shipDate"?}: a warehouse
                                              user ships the order; SHIP_NOTIFY fires
    POST   /_sandbox/faults                   {"kind", "count"?, "status"?, "latency_ms"?,
                                               "path_contains"?, "key"?}
    GET    /_sandbox/faults · DELETE /_sandbox/faults
    GET    /_sandbox/deliveries               webhook deliveries, oldest first
    GET    /_sandbox/limits                   the rate limit in force
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tradewind.sandbox.shipstation.core import Sandbox
from tradewind.sandbox.shipstation.faults import Fault, FaultKind
from tradewind.sandbox.shipstation.state import Doc, ShipStationError


def _json(status: int, body: Any) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    parsed = orjson.loads(raw)
    return parsed if isinstance(parsed, dict) else {}


def labels(sandbox: Sandbox, key: str | None = None) -> dict[str, int]:
    with sandbox.state.lock:
        accounts = [a for k, a in sandbox.state.accounts.items() if key is None or k == key]
        return {
            "bought": sum(a.labels_bought for a in accounts),
            "voided": sum(a.labels_voided for a in accounts),
        }


def ship(sandbox: Sandbox, key: str, order_id: str, body: Doc, base_url: str) -> Doc:
    """Ship an order as a warehouse user would; KeyError for an unknown account."""
    with sandbox.state.lock:
        account = sandbox.state.accounts[key]
    return dict(sandbox.run(account, base_url, lambda ops: ops.ship_order(order_id, body)))


def routes(sandbox: Sandbox) -> list[Route]:
    async def add_account(request: Request) -> Response:
        body = await _body(request)
        try:
            with sandbox.state.lock:
                account = sandbox.state.add_account(
                    body.get("key"), body.get("secret"), bool(body.get("manual_store", True))
                )
        except ValueError as error:
            return _json(422, {"error": str(error)})
        return _json(201, {"key": account.key, "secret": account.secret})

    async def revoke(request: Request) -> Response:
        with sandbox.state.lock:
            found = sandbox.state.revoke(request.path_params["key"])
        return _json(200 if found else 404, {"revoked": found})

    async def manual_store(request: Request) -> Response:
        body = await _body(request)
        with sandbox.state.lock:
            account = sandbox.state.accounts.get(request.path_params["key"])
            if account is None:
                return _json(404, {"error": "no such account"})
            account.manual_store = bool(body.get("enabled", True))
        return _json(200, {"manual_store": account.manual_store})

    async def key_labels(request: Request) -> Response:
        key = request.path_params["key"]
        with sandbox.state.lock:
            known = key in sandbox.state.accounts
        if not known:
            return _json(404, {"error": "no such account"})
        return _json(200, labels(sandbox, key))

    async def all_labels(_request: Request) -> Response:
        return _json(200, labels(sandbox))

    async def ship_order(request: Request) -> Response:
        body = await _body(request)
        base = f"{request.url.scheme}://{request.url.netloc}"
        try:
            shipment = ship(
                sandbox, request.path_params["key"], request.path_params["id"], body, base
            )
        except KeyError:
            return _json(404, {"error": "no such account"})
        except ShipStationError as error:
            return _json(error.status, error.body())
        return _json(200, shipment)

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            sandbox.faults.clear()
            return _json(200, {"faults": []})
        if request.method == "POST":
            body = await _body(request)
            try:
                fault = Fault(
                    kind=FaultKind(str(body.get("kind"))),
                    count=body.get("count", 1),
                    status=int(body.get("status", 500)),
                    latency_ms=int(body.get("latency_ms", 0)),
                    path_contains=body.get("path_contains"),
                    key=body.get("key"),
                )
            except (ValueError, TypeError) as error:
                return _json(422, {"error": str(error)})
            sandbox.faults.add(fault)
            return _json(201, fault.as_dict())
        return _json(200, {"faults": [f.as_dict() for f in sandbox.faults.active()]})

    async def deliveries(_request: Request) -> Response:
        return _json(200, {"deliveries": [d.as_dict() for d in sandbox.webhooks.recent()]})

    async def limits(_request: Request) -> Response:
        return _json(200, sandbox.options.limits.as_dict())

    def route(
        path: str, endpoint: Callable[[Request], Awaitable[Response]], *methods: str
    ) -> Route:
        return Route(f"/_sandbox{path}", endpoint, methods=list(methods or ("GET",)))

    return [
        route("/accounts", add_account, "POST"),
        route("/accounts/{key}", revoke, "DELETE"),
        route("/accounts/{key}/manual-store", manual_store, "PUT"),
        route("/accounts/{key}/labels", key_labels),
        route("/accounts/{key}/orders/{id}/ship", ship_order, "POST"),
        route("/labels", all_labels),
        route("/faults", faults, "GET", "POST", "DELETE"),
        route("/deliveries", deliveries),
        route("/limits", limits),
    ]
