"""The control API under ``/_sandbox``, for tests and demos (no authentication: the
sandbox listens on loopback only). JSON in, JSON out:

    POST   /_sandbox/tokens                          {"test"?: true, "token"?}
    DELETE /_sandbox/tokens/{token}                  revoke (its requests answer 401)
    GET    /_sandbox/tokens/{token}/labels           {"labels": n}
    POST   /_sandbox/faults                          {"kind", "count"?, "status"?,
                                                      "latency_ms"?, "path_contains"?,
                                                      "token"?, "after"?}
    GET    /_sandbox/faults · DELETE /_sandbox/faults
    POST   /_sandbox/tracks/{carrier}/{number}/advance   {"status"?}: fires track_updated
    GET    /_sandbox/deliveries                      webhook deliveries, oldest first
    GET    /_sandbox/limits                          the rate limits in force
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tradewind.sandbox.shippo.faults import Fault, FaultKind

if TYPE_CHECKING:
    from tradewind.sandbox.shippo.core import Sandbox


def _json(status: int, body: Any) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    parsed = orjson.loads(raw)
    return parsed if isinstance(parsed, dict) else {}


def routes(sandbox: Sandbox) -> list[Route]:
    async def add_token(request: Request) -> Response:
        body = await _body(request)
        try:
            with sandbox.state.lock:
                account = sandbox.state.add_token(bool(body.get("test", True)), body.get("token"))
        except ValueError as error:
            return _json(422, {"error": str(error)})
        return _json(201, {"token": account.token, "test": account.test})

    async def revoke_token(request: Request) -> Response:
        with sandbox.state.lock:
            done = sandbox.state.revoke(request.path_params["token"])
        return _json(200 if done else 404, {"revoked": done})

    async def labels(request: Request) -> Response:
        with sandbox.state.lock:
            account = sandbox.state.accounts.get(request.path_params["token"])
            count = None if account is None else account.labels
        if count is None:
            return _json(404, {"error": "no such token"})
        return _json(200, {"labels": count})

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
                    key=body.get("token"),
                    after=bool(body.get("after", False)),
                )
            except (ValueError, TypeError) as error:
                return _json(422, {"error": str(error)})
            sandbox.faults.add(fault)
            return _json(201, fault.as_dict())
        return _json(200, {"faults": [f.as_dict() for f in sandbox.faults.active()]})

    async def advance(request: Request) -> Response:
        body = await _body(request)
        base = f"{request.url.scheme}://{request.url.netloc}"
        carrier = str(request.path_params["carrier"]).lower()
        try:
            track = sandbox.advance_track(
                carrier, request.path_params["number"], body.get("status"), base
            )
        except KeyError:
            return _json(404, {"error": "no such track"})
        except ValueError as error:
            return _json(422, {"error": str(error)})
        return _json(200, track)

    async def deliveries(_request: Request) -> Response:
        return _json(200, {"deliveries": [d.as_dict() for d in sandbox.webhooks.recent()]})

    async def limits(_request: Request) -> Response:
        return _json(200, sandbox.options.limits.as_dict())

    def route(
        path: str, endpoint: Callable[[Request], Awaitable[Response]], *methods: str
    ) -> Route:
        return Route(f"/_sandbox{path}", endpoint, methods=list(methods or ("GET",)))

    return [
        route("/tokens", add_token, "POST"),
        route("/tokens/{token}", revoke_token, "DELETE"),
        route("/tokens/{token}/labels", labels),
        route("/faults", faults, "GET", "POST", "DELETE"),
        route("/tracks/{carrier}/{number}/advance", advance, "POST"),
        route("/deliveries", deliveries),
        route("/limits", limits),
    ]
