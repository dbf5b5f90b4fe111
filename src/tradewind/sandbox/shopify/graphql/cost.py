"""Query cost as Shopify computes it: objects 1, scalars and enums 0, connections
2 + page size × node cost, mutations 10; and the ``extensions.cost`` every answer carries.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
)
from graphql.utilities import value_from_ast_untyped

from tradewind.sandbox.shopify.state import Doc

MAX_QUERY_COST = 1000

MUTATION_COST = 10

RATE_DOC = "https://shopify.dev/api/usage/rate-limits"


def fields_of(
    selection: SelectionSetNode | None, fragments: Mapping[str, FragmentDefinitionNode]
) -> Iterator[FieldNode]:
    """The fields a selection asks for, through inline fragments and named ones."""
    for item in selection.selections if selection else ():
        if isinstance(item, FieldNode):
            yield item
        elif isinstance(item, InlineFragmentNode):
            yield from fields_of(item.selection_set, fragments)
        elif isinstance(item, FragmentSpreadNode):
            fragment = fragments.get(item.name.value)
            if fragment is not None:
                yield from fields_of(fragment.selection_set, fragments)


@dataclass
class Costing:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]

    def arg(self, node: FieldNode, name: str) -> Any:
        for arg in node.arguments or ():
            if arg.name.value == name:
                return value_from_ast_untyped(arg.value, self.variables)
        return None

    def fields(self, selection: SelectionSetNode | None) -> Iterable[FieldNode]:
        return fields_of(selection, self.fragments)

    def cost(self, selection: SelectionSetNode | None, parent: Any, data: Any = None) -> int:
        total = 0
        for node in self.fields(selection):
            name = node.name.value
            if name.startswith("__"):
                continue
            fields = getattr(parent, "fields", {})
            definition = fields.get(name)
            if definition is None:
                # interface or union: cost against the first possible type having it
                continue
            named = get_named_type(definition.type)
            if is_leaf_type(named):
                continue
            key = node.alias.value if node.alias else name
            value = data.get(key) if isinstance(data, dict) else None
            if named.name.endswith("Connection"):
                total += self.connection(node, named, value, data is not None)
            else:
                child_parent = named
                if not isinstance(named, GraphQLObjectType):
                    child_parent = self._first_possible(named)
                total += 1 + self.cost(node.selection_set, child_parent, value)
        return total

    def _first_possible(self, abstract: Any) -> Any:
        types = self.schema.get_possible_types(abstract)
        return types[0] if types else abstract

    def connection(self, node: FieldNode, conn: Any, value: Any, actual: bool) -> int:
        size = self.arg(node, "first") or self.arg(node, "last") or 0
        node_type = get_named_type(conn.fields["edges"].type).fields["node"].type
        node_type = get_named_type(node_type)
        if not isinstance(node_type, GraphQLObjectType):
            node_type = self._first_possible(node_type)
        per_node: list[int] = []
        items: list[Any] = []
        if actual and isinstance(value, dict):
            for inner in self.fields(node.selection_set):
                key = inner.alias.value if inner.alias else inner.name.value
                if inner.name.value == "edges":
                    items = [
                        e.get("node") if isinstance(e, dict) else None for e in value.get(key) or []
                    ]
                elif inner.name.value == "nodes":
                    items = list(value.get(key) or [])
        count = len(items) if actual else int(size)
        selection = self._node_selection(node)
        if actual:
            per_node = [1 + self.cost(selection, node_type, item) for item in items]
            return 2 + sum(per_node)
        return 2 + count * (1 + self.cost(selection, node_type))

    def _node_selection(self, node: FieldNode) -> SelectionSetNode:
        merged: list[Any] = []
        for inner in self.fields(node.selection_set):
            if inner.name.value == "nodes" and inner.selection_set:
                merged.extend(inner.selection_set.selections)
            elif inner.name.value == "edges":
                for edge_field in self.fields(inner.selection_set):
                    if edge_field.name.value == "node" and edge_field.selection_set:
                        merged.extend(edge_field.selection_set.selections)
        return SelectionSetNode(selections=tuple(merged))


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
    data: Any = None,
) -> int:
    fragments = {
        f.name.value: f for f in document.definitions if isinstance(f, FragmentDefinitionNode)
    }
    costing = Costing(schema, fragments, variables)
    if operation.operation is OperationType.MUTATION:
        return MUTATION_COST * sum(1 for _ in costing.fields(operation.selection_set))
    return costing.cost(operation.selection_set, schema.query_type, data)


def cost_extension(
    requested: int, actual: int | None, available: float, maximum: float, restore: float
) -> Doc:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": float(maximum),
                "currentlyAvailable": int(available),
                "restoreRate": float(restore),
            },
        }
    }
