"""Shopify's search syntax for a connection's ``query:`` argument, the common part."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tradewind.sandbox.shopify.rest import parse_time
from tradewind.sandbox.shopify.state import Doc

SEARCH_TERM = re.compile(r"""(-?)(\w+):(>=|<=|>|<)?('[^']*'|"[^"]*"|\S+)""")


def search(
    items: list[Doc], query: str | None, fields: dict[str, Callable[[Doc], Any]]
) -> list[Doc]:
    """Shopify's search syntax, the common part: ``field:value``, ``field:>value`` for
    times, ``*`` wildcards, joined by spaces or AND. Unknown fields are ignored."""
    if not query:
        return items
    for negate, name, op, raw in SEARCH_TERM.findall(query):
        value = raw.strip("'\"")
        getter = fields.get(name)
        if getter is None or (name == "status" and value == "any"):
            continue
        items = [i for i in items if _term(getter(i), op, value) != bool(negate)]
    return items


def _term(actual: Any, op: str, value: str) -> bool:
    if op:
        if actual is None:
            return False
        if isinstance(actual, int | float):
            left, right = float(actual), float(value)
        else:
            left, right = parse_time(str(actual)), parse_time(value)  # type: ignore[assignment]
        return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op]
    if isinstance(actual, list):
        return value.lower() in [str(a).lower() for a in actual]
    text = "" if actual is None else str(actual).lower()
    pattern = value.lower()
    if "*" in pattern:
        return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), text) is not None
    return text == pattern


# A level is wrapped as {"id": …, "_level": Level} (see View._levels).
LEVEL_SEARCH: dict[str, Callable[[Doc], Any]] = {
    "inventory_item_id": lambda w: w["_level"].inventory_item_id,
    "created_at": lambda w: w["_level"].updated_at,  # a level's creation is not kept
    "updated_at": lambda w: w["_level"].updated_at,
}
