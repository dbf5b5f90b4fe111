"""Whether an output fits the hub record it is mapped onto, as far as can be seen without
running it. Where the output builds the record with a JSONata object constructor whose
keys are written out (``{"external_id": …, "number": …}``), a key the record does not
have and a required field left out are found, in nested records too (an order's
``lines``). An output built any other way (``$merge``, a computed key, a record passed
through whole) is not judged: this check never refuses a template that would work.

The places where an output's value becomes the record are followed through what keeps
the value's shape: a condition's branches, a block's last expression, an array's items,
a path's last step and the function given to ``$map``.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from tradewind.connectors.records import (
    ConnectionReport,
    CustomerRecord,
    LocationRecord,
    OrderRecord,
    ProductRecord,
    StockPush,
    StockPushResult,
)
from tradewind.connectors.services import ShippedRecord
from tradewind.connectors.template.expressions import Expression

# What each ``returns`` of the format is, as a record (a list of them fits too: each item
# is the record). ``Json`` is anything.
RECORDS: Mapping[str, type[BaseModel]] = {
    "Order": OrderRecord,
    "OrderList": OrderRecord,
    "StockPush": StockPush,
    "StockPushResult": StockPushResult,
    "ConnectionReport": ConnectionReport,
    "Product": ProductRecord,
    "Customer": CustomerRecord,
    "Location": LocationRecord,
    "Shipment": ShippedRecord,
}


@dataclass(frozen=True)
class Misfit:
    """One way an object the output builds does not fit ``record``: an ``unknown`` key
    (with the field it likely means), or the required fields it leaves out (``missing``).
    ``within`` is where in the record the object sits ("lines", "customer.addresses";
    "" for the record itself)."""

    record: type[BaseModel]
    within: str
    unknown: str | None = None
    meant: str | None = None
    missing: tuple[str, ...] = ()


def misfits(expression: Expression, record: type[BaseModel]) -> Iterator[Misfit]:
    """How the objects ``expression`` builds as ``record`` do not fit it."""
    try:
        found = [
            misfit for built in _built(expression.tree()) for misfit in _object(built, record, "")
        ]
    except (AttributeError, TypeError, IndexError, ValueError):
        return  # a tree of a shape not foreseen here: not judged, rather than refused
    yield from found


def _object(node: Any, record: type[BaseModel], within: str) -> Iterator[Misfit]:
    fields = record.model_fields
    keys: dict[str, Any] = {}
    computed = False
    for key, value in node.lhs_object or ():
        if key.type == "string":
            keys[str(key.value)] = value
        else:
            computed = True  # a key known only when it runs may be any field
    meant: set[str] = set()
    for key, value in keys.items():
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            meant.update(close)
            yield Misfit(record, within, unknown=key, meant=close[0] if close else None)
            continue
        nested = _record_of(fields[key].annotation)
        if nested is not None:
            for built in _built(value):
                yield from _object(built, nested, f"{within}.{key}" if within else key)
    # A misspelt key already names the field it leaves out: said once.
    missing = tuple(
        name
        for name, field in fields.items()
        if field.is_required() and name not in keys and name not in meant
    )
    if missing and not computed:
        yield Misfit(record, within, missing=missing)


def _built(node: Any) -> Iterator[Any]:
    """The object constructors whose value is the value of ``node`` (or an item of it)."""
    if node is None:
        return
    kind, value = node.type, node.value
    if kind == "unary" and value == "{":
        yield node
    elif kind == "unary" and value == "[":
        for item in node.expressions or ():
            # An array inside an array stays an array: its items are not records.
            if not (item.type == "unary" and item.value == "["):
                yield from _built(item)
    elif kind == "condition":
        yield from _built(node.then)
        yield from _built(node._else)
    elif kind == "block" and node.expressions:
        yield from _built(node.expressions[-1])
    elif kind == "path" and node.steps and node.group is None:
        yield from _built(node.steps[-1])
    elif kind == "function" and _is_map(node):
        yield from _built(node.arguments[1].body)


def _is_map(node: Any) -> bool:
    procedure, arguments = node.procedure, node.arguments or []
    return (
        procedure is not None
        and procedure.type == "variable"
        and procedure.value == "map"
        and len(arguments) >= 2
        and arguments[1].type == "lambda"
    )


def _record_of(annotation: Any) -> type[BaseModel] | None:
    """The record a field holds, alone or in a tuple, list or optional."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (tuple, list, typing.Union, types.UnionType):
        for argument in typing.get_args(annotation):
            found = _record_of(argument)
            if found is not None:
                return found
    return None
