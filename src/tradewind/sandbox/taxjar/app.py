"""The ASGI application: TaxJar's ``/v2/…`` paths and the sandbox's control API under
``/_sandbox``.

Every ``/v2`` request goes through the same steps, in TaxJar's order of refusal: the
token (401), an injected fault, the rate limit (429), ``X-TJ-Expected-Response`` (the
error the caller asked for, as TaxJar's own sandbox answers it), then the route.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tradewind.sandbox.taxjar import rates, transactions
from tradewind.sandbox.taxjar.errors import REASONS, ApiError, error_body
from tradewind.sandbox.taxjar.faults import Fault, Faults, RateLimiter
from tradewind.sandbox.taxjar.params import Body
from tradewind.sandbox.taxjar.state import Account, State
from tradewind.sandbox.taxjar.taxes import calculate

logger = logging.getLogger(__name__)
JSON_TYPE = "application/json; charset=utf-8"
API_VERSIONS = ("2012-01-01", "2020-08-07")
TOKEN_HEADER = re.compile(r'^Token\s+token="?([^"]+)"?$', re.IGNORECASE)
BEARER_HEADER = re.compile(r"^Bearer\s+(\S+)$", re.IGNORECASE)

# A few of TaxJar's product tax codes; only clothing (20010) changes a rate in the table.
CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("Clothing", "20010", "Apparel and footwear for everyday wear."),
    ("Software as a Service", "30070", "Software used online, not downloaded."),
    ("Digital Goods", "31000", "Goods delivered electronically."),
    ("Candy", "40010", "Sweets and confectionery."),
    ("Food & Groceries", "40030", "Food for home consumption."),
    ("Books", "81100", "Printed books."),
)


@dataclass(frozen=True)
class Call:
    account: Account
    request: Request
    body: Body
    match: re.Match[str]


Handler = Callable[["Api", Call], Any]


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status, headers=headers, media_type=JSON_TYPE)


def error_response(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    return json_response(status, error_body(status, detail), headers)


def token_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "").strip()
    for pattern in (BEARER_HEADER, TOKEN_HEADER):
        match = pattern.match(header)
        if match:
            return match.group(1)
    return None


class Api:
    def __init__(self, state: State, faults: Faults, limiter: RateLimiter) -> None:
        self.state = state
        self.faults = faults
        self.limiter = limiter

    async def endpoint(self, request: Request) -> Response:
        path = "/v2/" + request.path_params["path"]
        route = f"'{request.method} {path}'"
        token = token_of(request)
        account = self.state.account(token) if token else None
        if account is None or account.revoked:
            return error_response(401, f"Not authorized for route {route}")
        version = request.headers.get("x-api-version")
        if version is not None and version not in API_VERSIONS:
            return error_response(400, f"x-api-version {version} is not a valid API version")
        fault = self.faults.take(account.token, path)
        if fault is not None and fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)
        if fault is not None and fault.status is not None:
            return fault_response(fault.status)
        wait = self.limiter.hit(account.token, account.per_minute)
        if wait is not None:
            return error_response(
                429, "Rate limit exceeded for this API token", {"Retry-After": str(wait)}
            )
        expected = request.headers.get("x-tj-expected-response", "").strip()
        if expected.isdigit() and int(expected) in REASONS:
            return fault_response(int(expected))
        handler, match, allowed = resolve(request.method, path)
        if handler is None or match is None:
            if allowed:
                return error_response(405, f"Method not allowed for route {route}")
            return error_response(404, f"No such route {route}")
        try:
            body = await read_body(request)
            return json_response(200, handler(self, Call(account, request, body, match)))
        except ApiError as error:
            return json_response(error.status, error.body())
        except Exception:  # a sandbox bug still answers in TaxJar's shape
            logger.exception("TaxJar sandbox: %s %s failed", request.method, path)
            return error_response(500, "The sandbox failed to answer this request")

    # --- routes -------------------------------------------------------------------------

    def taxes(self, call: Call) -> Any:
        answer = calculate(call.body, frozenset(call.account.nexus))
        self.state.count_calculation(call.account)
        return answer

    def nexus_regions(self, call: Call) -> Any:
        return {
            "regions": [
                {
                    "country_code": country,
                    "country": rates.COUNTRY_NAMES.get(country, country),
                    "region_code": region,
                    "region": rates.region_name(country, region) or region,
                }
                for country, region in call.account.nexus
            ]
        }

    def categories(self, call: Call) -> Any:
        return {
            "categories": [
                {"name": name, "product_tax_code": code, "description": text}
                for name, code, text in CATEGORIES
            ]
        }

    def list_transactions(self, call: Call) -> Any:
        kind = kind_of(call)
        query = call.request.query_params
        exact = query.get("transaction_date")
        first = day(query.get("from_transaction_date"), "from_transaction_date") or day(
            exact, "transaction_date"
        )
        last = day(query.get("to_transaction_date"), "to_transaction_date") or day(
            exact, "transaction_date"
        )
        ids = self.state.ids(
            call.account, kind, first=first, last=last, provider=query.get("provider", "api")
        )
        return {f"{kind}s": ids}

    def create_transaction(self, call: Call) -> Any:
        transaction = transactions.read_create(kind_of(call), call.body)
        self.state.create(call.account, transaction)
        return transactions.render(transaction, call.account.user_id)

    def show_transaction(self, call: Call) -> Any:
        found = self.state.get(call.account, kind_of(call), call.match["id"])
        return transactions.render(found, call.account.user_id)

    def update_transaction(self, call: Call) -> Any:
        found = self.state.get(call.account, kind_of(call), call.match["id"])
        updated = transactions.read_update(found, call.body)
        self.state.put(call.account, updated)
        return transactions.render(updated, call.account.user_id)

    def delete_transaction(self, call: Call) -> Any:
        found = self.state.delete(call.account, kind_of(call), call.match["id"])
        return transactions.render_deleted(found, call.account.user_id)


ROUTES: tuple[tuple[str, re.Pattern[str], Handler], ...] = tuple(
    (method, re.compile(pattern), handler)
    for method, pattern, handler in (
        ("POST", r"/v2/taxes", Api.taxes),
        ("GET", r"/v2/nexus/regions", Api.nexus_regions),
        ("GET", r"/v2/categories", Api.categories),
        ("GET", r"/v2/transactions/(?P<kind>order|refund)s", Api.list_transactions),
        ("POST", r"/v2/transactions/(?P<kind>order|refund)s", Api.create_transaction),
        ("GET", r"/v2/transactions/(?P<kind>order|refund)s/(?P<id>[^/]+)", Api.show_transaction),
        ("PUT", r"/v2/transactions/(?P<kind>order|refund)s/(?P<id>[^/]+)", Api.update_transaction),
        (
            "DELETE",
            r"/v2/transactions/(?P<kind>order|refund)s/(?P<id>[^/]+)",
            Api.delete_transaction,
        ),
    )
)


def resolve(method: str, path: str) -> tuple[Handler | None, re.Match[str] | None, bool]:
    """The handler for the request, and whether the path exists under another method."""
    allowed = False
    for route_method, pattern, handler in ROUTES:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        if route_method == method:
            return handler, match, True
        allowed = True
    return None, None, allowed


def kind_of(call: Call) -> transactions.Kind:
    return "order" if call.match["kind"] == "order" else "refund"


def day(value: str | None, name: str) -> date | None:
    return transactions.parse_day(name, value) if value else None


async def read_body(request: Request) -> Body:
    if request.method not in ("POST", "PUT"):
        return {}
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(400, "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object")
    return body


FAULT_DETAILS = {
    429: "Rate limit exceeded for this API token",
    500: "Something went wrong on TaxJar's side",
    503: "TaxJar is temporarily offline for maintenance",
}


def fault_response(status: int) -> Response:
    headers = {"Retry-After": "1"} if status == 429 else None
    detail = FAULT_DETAILS.get(status, f"{REASONS.get(status, 'Error')} (sandbox)")
    return error_response(status, detail, headers)


# --- control API --------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


class RegionSpec(BaseModel):
    country_code: str = "US"
    region_code: str


class AccountSpec(BaseModel):
    token: str | None = None
    nexus: list[RegionSpec] | None = None
    per_minute: int = Field(default=10_000, ge=1)


class NexusSpec(BaseModel):
    regions: list[RegionSpec]


class FaultSpec(BaseModel):
    token: str
    status: int | None = Field(default=500, ge=400, le=599)
    count: int = Field(default=1, ge=1)
    path_contains: str | None = None
    delay_ms: int = Field(default=0, ge=0, le=600_000)


def account_state(account: Account) -> dict[str, Any]:
    return {
        "token": account.token,
        "user_id": account.user_id,
        "revoked": account.revoked,
        "per_minute": account.per_minute,
        "calculations": account.calculations,
        "nexus": [{"country_code": c, "region_code": r} for c, r in account.nexus],
        "orders": list(account.transactions["order"]),
        "refunds": list(account.transactions["refund"]),
    }


class Control:
    """``/_sandbox/…``: what a test does to the sandbox that TaxJar's API cannot."""

    def __init__(self, state: State, faults: Faults) -> None:
        self.state = state
        self.faults = faults

    def create_account(self, spec: AccountSpec) -> Account:
        nexus = None
        if spec.nexus is not None:
            nexus = [(r.country_code.upper(), r.region_code.upper()) for r in spec.nexus]
        return self.state.create_account(spec.token, nexus=nexus, per_minute=spec.per_minute)

    async def accounts(self, request: Request) -> Response:
        spec = await parse(request, AccountSpec)
        if isinstance(spec, Response):
            return spec
        try:
            account = self.create_account(spec)
        except ValueError as error:
            return json_response(409, {"error": str(error)})
        return json_response(201, account_state(account))

    async def account(self, request: Request) -> Response:
        account = self.state.account(request.path_params["token"])
        if account is None:
            return json_response(404, {"error": "no such account"})
        return json_response(200, account_state(account))

    async def nexus(self, request: Request) -> Response:
        token = request.path_params["token"]
        spec = await parse(request, NexusSpec)
        if isinstance(spec, Response):
            return spec
        if self.state.account(token) is None:
            return json_response(404, {"error": "no such account"})
        regions = [(r.country_code.upper(), r.region_code.upper()) for r in spec.regions]
        self.state.set_nexus(token, regions)
        return json_response(200, {"nexus": [r.model_dump() for r in spec.regions]})

    async def revoke(self, request: Request) -> Response:
        if not self.state.revoke(request.path_params["token"]):
            return json_response(404, {"error": "no such account"})
        return json_response(200, {"revoked": True})

    async def add_fault(self, request: Request) -> Response:
        spec = await parse(request, FaultSpec)
        if isinstance(spec, Response):
            return spec
        if spec.status is None and not spec.delay_ms:
            return json_response(422, {"error": "a fault needs a status or a delay_ms"})
        fault = Fault(spec.status, spec.count, spec.path_contains, spec.delay_ms)
        self.faults.add(spec.token, fault)
        return json_response(201, spec.model_dump())

    async def clear_faults(self, request: Request) -> Response:
        self.faults.clear(request.path_params["token"])
        return json_response(200, {"cleared": True})


async def parse(request: Request, model: type[M]) -> M | Response:
    try:
        return model.model_validate_json(await request.body() or b"{}")
    except ValidationError as error:
        return json_response(422, {"error": error.errors(include_url=False)})


def create_app(state: State, faults: Faults, limiter: RateLimiter) -> Starlette:
    api = Api(state, faults, limiter)
    control = Control(state, faults)
    methods = ["GET", "POST", "PUT", "DELETE", "PATCH"]
    return Starlette(
        routes=[
            Route("/v2/{path:path}", api.endpoint, methods=methods),
            Route("/_sandbox/accounts", control.accounts, methods=["POST"]),
            Route("/_sandbox/accounts/{token}", control.account, methods=["GET"]),
            Route("/_sandbox/accounts/{token}/nexus", control.nexus, methods=["PUT"]),
            Route("/_sandbox/accounts/{token}/revoke", control.revoke, methods=["POST"]),
            Route("/_sandbox/faults", control.add_fault, methods=["POST"]),
            Route("/_sandbox/faults/{token}", control.clear_faults, methods=["DELETE"]),
        ]
    )
