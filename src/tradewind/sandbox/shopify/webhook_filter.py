"""A webhook subscription's ``filter``: Shopify's search syntax evaluated against the
payload a delivery would carry, deciding whether it is sent at all.

Supported, as in Shopify's delivery-filtering guide: ``field:value`` (equality, case
insensitive; ``field:*`` for "present"), ``field:>v``, ``:>=``, ``:<``, ``:<=`` (numbers
as numbers, timestamps as instants), ``AND`` (or juxtaposition), ``OR``, ``NOT`` /
``-``, parentheses, single- or double-quoted values, nested fields with dots
(``variants.price:>=10``, true when any element of a list matches) and ``tags:x``
against the comma-separated tag string. Anything else (free text without a field, an
unbalanced parenthesis or quote, an empty value) is refused when the subscription is
made, so a filter is never silently ignored.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tradewind.sandbox.shopify.ops.base import ShopifyError, unprocessable

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<open>\() | (?P<close>\)) |
        (?P<term>-?[A-Za-z_][\w.]*:(?:>=|<=|>|<)?(?:"[^"]*"|'[^']*'|[^\s()"']+)) |
        (?P<word>[^\s()]+)
    )""",
    re.VERBOSE,
)

_TERM = re.compile(r"""^(?P<field>[A-Za-z_][\w.]*):(?P<op>>=|<=|>|<)?(?P<value>.+)$""")

Predicate = Callable[[Any], bool]


@dataclass(frozen=True)
class Filter:
    text: str
    matches: Predicate


def invalid(text: str, why: str) -> ShopifyError:
    return unprocessable("filter", f"The specified filter is invalid: {why} ({text!r})")


def _tokens(text: str) -> list[str]:
    found: list[str] = []
    position = 0
    stripped = text.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None:
            raise invalid(text, f"unexpected text at {position}")
        kind = match.lastgroup
        token = match.group(kind or 0)
        if kind == "word" and token not in ("AND", "OR", "NOT"):
            if token.count('"') % 2 or token.count("'") % 2:
                raise invalid(text, "unterminated quote")
            raise invalid(text, f"{token!r} names no field (use field:value)")
        found.append(token)
        position = match.end()
    return found


@functools.lru_cache(maxsize=512)
def parse(text: str) -> Filter:
    """The filter ``text`` means, or the 422 Shopify answers for it."""
    tokens = _tokens(text)
    if not tokens:
        raise invalid(text, "empty")
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def either() -> Predicate:
        parts = [both()]
        while peek() == "OR":
            take()
            parts.append(both())
        return parts[0] if len(parts) == 1 else lambda doc: any(p(doc) for p in parts)

    def both() -> Predicate:
        parts = [unary()]
        while peek() not in (None, "OR", ")"):
            if peek() == "AND":
                take()
            parts.append(unary())
        return parts[0] if len(parts) == 1 else lambda doc: all(p(doc) for p in parts)

    def unary() -> Predicate:
        word = peek()
        if word is None:
            raise invalid(text, "an operator with nothing after it")
        if word == "NOT":
            take()
            inner = unary()
            return lambda doc: not inner(doc)
        if word == "(":
            take()
            inner = either()
            if peek() != ")":
                raise invalid(text, "unbalanced parenthesis")
            take()
            return inner
        if word in (")", "AND", "OR"):
            raise invalid(text, f"unexpected {word}")
        take()
        if word.startswith("-"):
            positive = _term(text, word[1:])
            return lambda doc: not positive(doc)
        return _term(text, word)

    predicate = either()
    if peek() is not None:
        raise invalid(text, f"unexpected {peek()}")
    return Filter(text, predicate)


def _term(text: str, token: str) -> Predicate:
    match = _TERM.match(token)
    if match is None:
        raise invalid(text, f"{token!r} is not field:value")
    path = match["field"].split(".")
    op = match["op"] or ":"
    value = match["value"]
    if value[:1] in ("'", '"'):
        value = value[1:-1]
    if value == "*" and op == ":":
        return lambda doc: any(v is not None and v != "" for v in _values(doc, path))
    compare = _COMPARISONS[op]
    return lambda doc: any(compare(found, value) for found in _values(doc, path))


def _values(doc: Any, path: list[str]) -> list[Any]:
    """The values at ``path``; a list on the way fans out (any element may match)."""
    current = [doc]
    for name in path:
        following: list[Any] = []
        for item in current:
            if isinstance(item, list):
                following += [x.get(name) for x in item if isinstance(x, dict)]
            elif isinstance(item, dict):
                following.append(item.get(name))
        current = following
    flat: list[Any] = []
    for item in current:
        if isinstance(item, list):
            flat += item
        elif path[-1] == "tags" and isinstance(item, str):
            flat += [t.strip() for t in item.split(",") if t.strip()]
        else:
            flat.append(item)
    return flat


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _instant(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo else None


def _ordered(found: Any, wanted: str) -> tuple[Any, Any] | None:
    for read in (_number, _instant):
        left, right = read(found), read(wanted)
        if left is not None and right is not None:
            return left, right
    if isinstance(found, str):
        return found.casefold(), wanted.casefold()
    return None


def _equal(found: Any, wanted: str) -> bool:
    if found is None:
        return wanted.lower() == "null"
    if isinstance(found, bool):
        return str(found).lower() == wanted.lower()
    pair = _ordered(found, wanted)
    return pair is not None and pair[0] == pair[1]


def _comparing(test: Callable[[Any, Any], bool]) -> Callable[[Any, str], bool]:
    def compare(found: Any, wanted: str) -> bool:
        pair = _ordered(found, wanted)
        return pair is not None and test(pair[0], pair[1])

    return compare


_COMPARISONS: dict[str, Callable[[Any, str], bool]] = {
    ":": _equal,
    ">": _comparing(lambda a, b: a > b),
    ">=": _comparing(lambda a, b: a >= b),
    "<": _comparing(lambda a, b: a < b),
    "<=": _comparing(lambda a, b: a <= b),
}


def matches(text: str | None, payload: Any) -> bool:
    """Whether a delivery with ``payload`` passes the subscription's filter (none: yes)."""
    if not text:
        return True
    try:
        return parse(text).matches(payload)
    except ShopifyError:
        return False  # refused at subscription time; a stored bad one delivers nothing
