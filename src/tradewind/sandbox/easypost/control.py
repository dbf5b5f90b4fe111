"""The control API under ``/_sandbox``, for tests and demos (no authentication: the
sandbox listens on loopback only). JSON in, JSON out:

    POST   /_sandbox/keys                    {"mode": "test"|"production", "key"?}
    DELETE /_sandbox/keys/{key}              revoke the key (its requests answer 401)
    GET    /_sandbox/keys/{key}/labels       {"bought": n, "refunded": m}
    GET    /_sandbox/labels                  the same, summed over every key
    POST   /_sandbox/faults                  {"kind", "count"?, "status"?, "latency_ms"?,
                                              "path_contains"?, "key"?, "after"?,
                                              "retry_after"? (a 429's Retry-After, s)}
    GET    /_sandbox/faults · DELETE /_sandbox/faults
    POST   /_sandbox/trackers/{id}/advance   {"status"?}: next step, fires tracker.updated
    GET    /_sandbox/deliveries              webhook deliveries, oldest first
    GET    /_sandbox/limits                  the rate limits in force
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tradewind.sandbox.easypost.core import Sandbox
from tradewind.sandbox.easypost.faults import Fault, FaultKind


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
            "refunded": sum(a.labels_refunded for a in accounts),
        }


def routes(sandbox: Sandbox) -> list[Route]:
    async def add_key(request: Request) -> Response:
        body = await _body(request)
        mode = str(body.get("mode", "test"))
        if mode not in ("test", "production"):
            return _json(422, {"error": "mode is test or production"})
        try:
            with sandbox.state.lock:
                account = sandbox.state.add_key(mode, body.get("key"))
        except ValueError as error:
            return _json(422, {"error": str(error)})
        return _json(201, {"key": account.key, "mode": account.mode})

    async def revoke_key(request: Request) -> Response:
        with sandbox.state.lock:
            found = sandbox.state.revoke(request.path_params["key"])
        return _json(200 if found else 404, {"revoked": found})

    async def key_labels(request: Request) -> Response:
        key = request.path_params["key"]
        with sandbox.state.lock:
            known = key in sandbox.state.accounts
        if not known:
            return _json(404, {"error": "no such key"})
        return _json(200, labels(sandbox, key))

    async def all_labels(_request: Request) -> Response:
        return _json(200, labels(sandbox))

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
                    after=bool(body.get("after", False)),
                    retry_after=_seconds(body.get("retry_after")),
                )
            except (ValueError, TypeError) as error:
                return _json(422, {"error": str(error)})
            sandbox.faults.add(fault)
            return _json(201, fault.as_dict())
        return _json(200, {"faults": [f.as_dict() for f in sandbox.faults.active()]})

    async def advance(request: Request) -> Response:
        body = await _body(request)
        base = f"{request.url.scheme}://{request.url.netloc}"
        try:
            tracker = sandbox.advance_tracker(request.path_params["id"], body.get("status"), base)
        except KeyError:
            return _json(404, {"error": "no such tracker"})
        except ValueError as error:
            return _json(422, {"error": str(error)})
        return _json(200, tracker)

    async def deliveries(_request: Request) -> Response:
        return _json(200, {"deliveries": [d.as_dict() for d in sandbox.webhooks.recent()]})

    async def limits(_request: Request) -> Response:
        return _json(200, sandbox.options.limits.as_dict())

    def route(
        path: str, endpoint: Callable[[Request], Awaitable[Response]], *methods: str
    ) -> Route:
        return Route(f"/_sandbox{path}", endpoint, methods=list(methods or ("GET",)))

    return [
        route("/keys", add_key, "POST"),
        route("/keys/{key}", revoke_key, "DELETE"),
        route("/keys/{key}/labels", key_labels),
        route("/labels", all_labels),
        route("/faults", faults, "GET", "POST", "DELETE"),
        route("/trackers/{id}/advance", advance, "POST"),
        route("/deliveries", deliveries),
        route("/limits", limits),
    ]


def _seconds(value: object) -> float | None:
    return None if value is None else float(str(value))
