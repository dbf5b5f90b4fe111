"""The ``graphql.json`` endpoint: authenticate, charge the requested cost to the shop's
bucket, execute in the shop, and give back the difference to the actual cost.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    validate,
)
from starlette.requests import Request
from starlette.responses import Response

from tradewind.sandbox.shopify.core import Sandbox, resolve_version
from tradewind.sandbox.shopify.faults import FaultKind
from tradewind.sandbox.shopify.graphql import bulk, draft_orders, orders
from tradewind.sandbox.shopify.graphql.context import Ctx
from tradewind.sandbox.shopify.graphql.cost import (
    MAX_QUERY_COST,
    RATE_DOC,
    cost_extension,
    query_cost,
)
from tradewind.sandbox.shopify.graphql.mutations import mutation_root
from tradewind.sandbox.shopify.graphql.queries import query_root
from tradewind.sandbox.shopify.graphql.schema import schema_for
from tradewind.sandbox.shopify.journal import Request as Recorded
from tradewind.sandbox.shopify.ops.base import ShopifyError
from tradewind.sandbox.shopify.responses import (
    authenticated,
    base_url,
    fault_response,
    json_response,
    request_faults,
)
from tradewind.sandbox.shopify.service import ShopOps
from tradewind.sandbox.shopify.state import Doc, Token


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [o for o in document.definitions if isinstance(o, OperationDefinitionNode)]
    if name:
        return next((o for o in operations if o.name and o.name.value == name), None)
    return operations[0] if len(operations) == 1 else None


async def endpoint(sandbox: Sandbox, request: Request) -> Response:
    headers = {"X-Request-Id": str(uuid.uuid4())}
    version = resolve_version(request.path_params["version"])
    if version is None:
        return json_response(404, {"errors": "Not Found"}, headers)
    headers["X-Shopify-API-Version"] = version
    found = await authenticated(sandbox, request, headers)
    if isinstance(found, Response):
        return found
    token = found
    limits = sandbox.limits(token.shop)
    raw = await request.body()
    fault = await request_faults(sandbox, token.shop, "graphql.json", raw.decode(errors="replace"))
    if fault is not None:
        return fault_response(fault, headers, f"{limits.rest_bucket}/{limits.rest_bucket}")
    if "application/graphql" in request.headers.get("content-type", ""):
        payload: Any = {"query": raw.decode()}
    else:
        try:
            payload = orjson.loads(raw or b"{}")
        except orjson.JSONDecodeError:
            return json_response(400, {"errors": "Invalid JSON in request body"}, headers)
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return json_response(
            400, {"errors": {"query": "Required parameter missing or invalid"}}, headers
        )
    sandbox.bulk.base_url = base_url(request)  # where bulk results will be served
    body = run_query(sandbox, token, version, payload)
    lost = sandbox.faults.take(
        token.shop, (FaultKind.lose_answer,), "graphql.json", payload["query"]
    )
    status = 504 if lost is not None else 200
    sandbox.journal.record(
        token.shop, Recorded("POST", "graphql.json", version, token.app_key, payload, status)
    )
    if lost is not None:
        return json_response(504, {"errors": "Gateway Timeout"}, headers)
    return json_response(200, body, headers)


def run_query(sandbox: Sandbox, token: Token, version: str, payload: Doc) -> Doc:
    schema = schema_for(version)
    limits = sandbox.limits(token.shop)
    maximum, restore = limits.graphql_bucket, limits.graphql_restore
    try:
        document = parse(payload["query"])
    except GraphQLError as error:
        return {"errors": [error.formatted]}
    problems = validate(schema, document)
    if problems:
        return {"errors": [p.formatted for p in problems]}
    operation = _operation(document, payload.get("operationName"))
    if operation is None:
        return {"errors": [{"message": "An operation name is required"}]}
    variables = payload.get("variables") or {}
    requested = query_cost(schema, document, operation, variables)
    if requested > MAX_QUERY_COST:
        _, available = sandbox.limiter.graphql(token.shop, token.app_key, maximum, restore, 0)
        return {
            "errors": [
                {
                    "message": f"Query cost is {requested}, which exceeds the single query max "
                    f"cost limit ({MAX_QUERY_COST}).",
                    "extensions": {
                        "code": "MAX_COST_EXCEEDED",
                        "cost": requested,
                        "maxCost": MAX_QUERY_COST,
                        "documentation": RATE_DOC,
                    },
                }
            ],
            "extensions": cost_extension(requested, None, available, maximum, restore),
        }
    allowed, available = sandbox.limiter.graphql(
        token.shop, token.app_key, maximum, restore, requested
    )
    if not allowed:
        return {
            "errors": [
                {
                    "message": "Throttled",
                    "extensions": {"code": "THROTTLED", "documentation": RATE_DOC},
                }
            ],
            "extensions": cost_extension(requested, None, available, maximum, restore),
        }

    def execute_in_shop(ops: ShopOps) -> Any:
        ctx = Ctx(ops, token, version, sandbox=sandbox)
        if operation.operation is OperationType.MUTATION:
            root = mutation_root()
        else:
            root = {
                **bulk.query_fields(ctx, query_root(ctx)),
                "job": orders.job,
                "draftOrder": draft_orders.draft_order,
            }
        return execute(
            schema,
            document,
            root_value=root,
            context_value=ctx,
            variable_values=variables,
            operation_name=payload.get("operationName"),
        )

    try:
        result = sandbox.run(token.shop, execute_in_shop, actor=token.app_key)
    except ShopifyError as error:
        return {"errors": [{"message": str(error.errors)}]}
    body: Doc = {}
    if result.errors:
        body["errors"] = [e.formatted for e in result.errors]
    body["data"] = result.data
    actual = query_cost(schema, document, operation, variables, result.data)
    actual = min(actual, requested)
    available = sandbox.limiter.refund(token.shop, token.app_key, requested - actual)
    body["extensions"] = cost_extension(requested, actual, available, maximum, restore)
    return body
