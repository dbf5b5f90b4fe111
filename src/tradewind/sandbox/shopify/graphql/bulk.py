"""Bulk operations in GraphQL: ``bulkOperationRunQuery`` checks the query against
Shopify's bulk rules, runs it later (through the same resolvers, every connection
unpaged) and writes JSONL with nested connections flattened under ``__parentId``;
``currentBulkOperation``, ``bulkOperation(id:)``, ``node(id:)`` and
``bulkOperationCancel`` read and stop it. The state machine is ``shopify/bulk.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    execute,
    get_named_type,
    is_leaf_type,
    parse,
    validate,
)

from tradewind.sandbox.shopify.bulk import BulkOperation, Result
from tradewind.sandbox.shopify.graphql.context import BULK, Ctx, context_of, parse_gid
from tradewind.sandbox.shopify.graphql.cost import fields_of
from tradewind.sandbox.shopify.graphql.queries import query_root
from tradewind.sandbox.shopify.graphql.schema import schema_for
from tradewind.sandbox.shopify.state import Doc

MAX_CONNECTIONS = 5
MAX_DEPTH = 2

IN_PROGRESS = "A bulk query operation for this app and shop is already in progress: {gid}."


class Unsupported(Exception):
    """A query that Shopify's bulk rules refuse; the message is the user error's."""


def view(op: BulkOperation) -> Doc:
    return {
        "__typename": "BulkOperation",
        "id": op.gid,
        "status": op.status.value,
        "errorCode": op.error_code,
        "createdAt": op.created_at,
        "completedAt": op.completed_at,
        # UnsignedInt64 travels as a string
        "objectCount": str(op.object_count),
        "rootObjectCount": str(op.root_object_count),
        "fileSize": None if op.file_size is None else str(op.file_size),
        "url": op.url,
        "partialDataUrl": None,
        "query": op.query,
        "type": op.kind,
    }


# --- the bulk rules -----------------------------------------------------------------------


class Walk:
    """The selections of one document, fragments expanded."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {
            f.name.value: f for f in document.definitions if isinstance(f, FragmentDefinitionNode)
        }

    def fields(self, selection: SelectionSetNode | None) -> Iterable[FieldNode]:
        return fields_of(selection, self.fragments)

    def node_selection(self, node: FieldNode) -> SelectionSetNode:
        merged: list[Any] = []
        for inner in self.fields(node.selection_set):
            if inner.name.value == "nodes" and inner.selection_set:
                merged.extend(inner.selection_set.selections)
            elif inner.name.value == "edges":
                for edge_field in self.fields(inner.selection_set):
                    if edge_field.name.value == "node" and edge_field.selection_set:
                        merged.extend(edge_field.selection_set.selections)
        return SelectionSetNode(selections=tuple(merged))

    def node_type(self, connection: Any) -> Any:
        edge = get_named_type(connection.fields["edges"].type)
        return get_named_type(edge.fields["node"].type)

    def field_type(self, parent: Any, name: str) -> Any:
        fields = getattr(parent, "fields", {})
        definition = fields.get(name)
        return get_named_type(definition.type) if definition is not None else None


def is_connection(named: Any) -> bool:
    return isinstance(named, GraphQLObjectType) and named.name.endswith("Connection")


def check(schema: GraphQLSchema, query: str) -> tuple[DocumentNode, FieldNode, Any]:
    """The parsed query, its root connection field and that field's type, or
    ``Unsupported`` with the message Shopify's user error carries."""
    try:
        document = parse(query)
    except GraphQLError as error:
        raise Unsupported(f"Invalid bulk query: {error.message}") from error
    problems = validate(schema, document)
    if problems:
        raise Unsupported(f"Invalid bulk query: {problems[0].message}")
    operations = [o for o in document.definitions if isinstance(o, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        raise Unsupported("Invalid bulk query: a bulk query must be a single query operation.")
    walk = Walk(schema, document)
    roots = list(walk.fields(operations[0].selection_set))
    if any(r.name.value in ("node", "nodes") for r in roots):
        raise Unsupported("Bulk queries cannot contain a top level `node` or `nodes` field.")
    count, depth = 0, 0
    for root in roots:
        found = _connections(walk, root, schema.query_type, 0)
        count += found[0]
        depth = max(depth, found[1])
    if count == 0:
        raise Unsupported("Bulk queries must contain at least one connection.")
    if count > MAX_CONNECTIONS:
        raise Unsupported(f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections.")
    if depth > MAX_DEPTH:
        raise Unsupported(
            f"Bulk queries cannot contain connections with a nesting depth greater than "
            f"{MAX_DEPTH}."
        )
    if len(roots) != 1 or not is_connection(
        walk.field_type(schema.query_type, roots[0].name.value)
    ):
        # ours: Shopify accepts a few other shapes; the sandbox runs one root connection
        raise Unsupported("Bulk queries must have exactly one connection field at the top level.")
    root = roots[0]
    return document, root, walk.field_type(schema.query_type, root.name.value)


def _connections(walk: Walk, node: FieldNode, parent: Any, depth: int) -> tuple[int, int]:
    """(connections within ``node``, deepest connection nesting), ``node`` included."""
    named = walk.field_type(parent, node.name.value)
    if named is None or is_leaf_type(named):
        return 0, depth
    if is_connection(named):
        inner = walk.node_type(named)
        selection = walk.node_selection(node)
        count, deepest = 1, depth + 1
        nested = [c for c in walk.fields(selection) if _has_connection(walk, c, inner)]
        if nested and not any(f.name.value == "id" for f in walk.fields(selection)):
            # ours: the children's __parentId is the parent's id
            raise Unsupported("The parent of a nested connection must select `id`.")
        for child in walk.fields(selection):
            found = _connections(walk, child, inner, depth + 1)
            count, deepest = count + found[0], max(deepest, found[1])
        return count, deepest
    count, deepest = 0, depth
    for child in walk.fields(node.selection_set):
        found = _connections(walk, child, named, depth)
        count, deepest = count + found[0], max(deepest, found[1])
    return count, deepest


def _has_connection(walk: Walk, node: FieldNode, parent: Any) -> bool:
    found = _connections(walk, node, parent, 0)
    return found[0] > 0


# --- flattening into JSONL ----------------------------------------------------------------


def flatten(walk: Walk, root: FieldNode, root_type: Any, data: Doc) -> tuple[list[Doc], int]:
    """One line per object; nested connections' nodes follow their parent with
    ``__parentId``. Returns the lines and how many are root objects."""
    lines: list[Doc] = []
    key = root.alias.value if root.alias else root.name.value
    _emit(walk, root, root_type, data.get(key), None, lines)
    roots = sum(1 for line in lines if "__parentId" not in line)
    return lines, roots


def _items(walk: Walk, node: FieldNode, value: Any) -> list[Any]:
    if not isinstance(value, dict):
        return []
    for inner in walk.fields(node.selection_set):
        key = inner.alias.value if inner.alias else inner.name.value
        if inner.name.value == "edges":
            return [e.get("node") for e in value.get(key) or [] if isinstance(e, dict)]
        if inner.name.value == "nodes":
            return list(value.get(key) or [])
    return []


def _emit(
    walk: Walk, node: FieldNode, conn: Any, value: Any, parent_id: str | None, lines: list[Doc]
) -> None:
    inner = walk.node_type(conn)
    selection = walk.node_selection(node)
    for item in _items(walk, node, value):
        children: list[tuple[FieldNode, Any, Any, Any]] = []
        line = _strip(walk, selection, inner, item, children, item.get("id"))
        if not isinstance(line, dict):
            continue
        if parent_id is not None:
            line["__parentId"] = parent_id
        lines.append(line)
        for child, child_type, child_value, owner in children:
            _emit(walk, child, child_type, child_value, owner, lines)


def _strip(
    walk: Walk,
    selection: SelectionSetNode | None,
    parent: Any,
    value: Any,
    children: list[tuple[FieldNode, Any, Any, Any]],
    owner: Any,
) -> Any:
    """``value`` without its connections, which go to ``children`` with the id of the
    nearest object holding them (a fulfillment's lines name the fulfillment, as Shopify's
    ``__parentId`` does, not the order the fulfillment is listed on)."""
    if isinstance(value, list):
        return [_strip(walk, selection, parent, v, children, owner) for v in value]
    if not isinstance(value, dict):
        return value
    owner = value.get("id") or owner
    out: Doc = {}
    for node in walk.fields(selection):
        key = node.alias.value if node.alias else node.name.value
        if key not in value:
            continue
        named = walk.field_type(parent, node.name.value)
        if is_connection(named):
            children.append((node, named, value[key], owner))
        elif named is None or is_leaf_type(named):
            out[key] = value[key]
        else:
            concrete = named
            if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
                concrete = None
            out[key] = _strip(walk, node.selection_set, concrete, value[key], children, owner)
    return out


def _produce(ctx: Ctx, schema: GraphQLSchema, query: str) -> Callable[[], Result]:
    """What the operation's thread calls once it is RUNNING."""
    sandbox, token, version = ctx.sandbox, ctx.token, ctx.version
    assert sandbox is not None
    document, root, root_type = check(schema, query)

    def produce() -> Result:
        assert sandbox is not None

        def go(ops: Any) -> Any:
            run_ctx = Ctx(ops, token, version, sandbox=sandbox)
            marker = BULK.set(True)
            try:
                return execute(
                    schema, document, root_value=query_root(run_ctx), context_value=run_ctx
                )
            finally:
                BULK.reset(marker)

        try:
            result = sandbox.run(token.shop, go, actor=token.app_key)
        except Exception:
            return Result(error_code="INTERNAL_SERVER_ERROR")
        if result.errors:
            codes = {(e.extensions or {}).get("code") for e in result.errors}
            code = "ACCESS_DENIED" if "ACCESS_DENIED" in codes else "INTERNAL_SERVER_ERROR"
            return Result(error_code=code)
        lines, roots = flatten(Walk(schema, document), root, root_type, result.data or {})
        body = b"".join(orjson.dumps(line) + b"\n" for line in lines)
        return Result(body=body, objects=len(lines), roots=roots)

    return produce


# --- resolvers ----------------------------------------------------------------------------


def run_query(info: Any, query: str, **_options: Any) -> Doc:
    # groupObjects is accepted; the file is always ungrouped (one line per object)
    ctx = context_of(info)
    sandbox = ctx.sandbox
    assert sandbox is not None
    running = sandbox.bulk.active(ctx.token.shop, ctx.token.app_key, "QUERY")
    if running is not None:
        message = IN_PROGRESS.format(gid=running.gid)
        return {
            "bulkOperation": None,
            "userErrors": [{"field": None, "message": message, "code": "OPERATION_IN_PROGRESS"}],
        }
    try:
        produce = _produce(ctx, schema_for(ctx.version), query)
    except Unsupported as problem:
        return {
            "bulkOperation": None,
            "userErrors": [{"field": ["query"], "message": str(problem), "code": "INVALID"}],
        }
    op = sandbox.bulk.submit(ctx.token.shop, ctx.token.app_key, query, produce)
    return {"bulkOperation": view(op), "userErrors": []}


def cancel(info: Any, id: str) -> Doc:
    ctx = context_of(info)
    sandbox = ctx.sandbox
    assert sandbox is not None
    ident = parse_gid(id, "BulkOperation")
    op = sandbox.bulk.get(ctx.token.shop, ctx.token.app_key, ident) if ident else None
    if op is None:
        return {
            "bulkOperation": None,
            "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}],
        }
    if not sandbox.bulk.cancel(op):
        message = f"A bulk operation cannot be canceled when it is {op.status.value.lower()}"
        return {"bulkOperation": view(op), "userErrors": [{"field": None, "message": message}]}
    return {"bulkOperation": view(op), "userErrors": []}


MUTATIONS: dict[str, Callable[..., Doc]] = {
    "bulkOperationRunQuery": run_query,
    "bulkOperationCancel": cancel,
}


def query_fields(ctx: Ctx, root: Doc) -> Doc:
    """``root`` with the bulk fields, and ``node``/``nodes`` that know BulkOperation."""
    sandbox = ctx.sandbox
    assert sandbox is not None
    shop, app_key = ctx.token.shop, ctx.token.app_key

    def find(gid: str) -> Doc | None:
        ident = parse_gid(gid, "BulkOperation")
        op = sandbox.bulk.get(shop, app_key, ident) if ident else None
        return view(op) if op is not None else None

    def current(_info: Any, type: str = "QUERY") -> Doc | None:
        op = sandbox.bulk.current(shop, app_key, type)
        return view(op) if op is not None else None

    other_node = root["node"]

    def node(info: Any, id: str) -> Doc | None:
        if parse_gid(id, "BulkOperation"):
            return find(id)
        found: Doc | None = other_node(info, id=id)
        return found

    def nodes(info: Any, ids: list[str]) -> list[Doc | None]:
        return [node(info, i) for i in ids]

    return {
        **root,
        "node": node,
        "nodes": nodes,
        "currentBulkOperation": current,
        "bulkOperation": lambda _info, id: find(id),
    }
