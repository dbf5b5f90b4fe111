"""What every REST handler works with: the request context and the answer, list filters,
``fields`` and Shopify's 400 bodies; paging (``page``, ``Sorting``) is ``paging``'s.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tradewind.sandbox.shopify.ops.base import ShopifyError
from tradewind.sandbox.shopify.rest.paging import BY_ID as BY_ID
from tradewind.sandbox.shopify.rest.paging import Sorting as Sorting
from tradewind.sandbox.shopify.rest.paging import decode_query as decode_query
from tradewind.sandbox.shopify.rest.paging import page as page
from tradewind.sandbox.shopify.rest.paging import pick_fields as pick_fields
from tradewind.sandbox.shopify.service import ShopOps
from tradewind.sandbox.shopify.state import Doc, Token


@dataclass
class Context:
    ops: ShopOps
    token: Token
    query: dict[str, str]
    body: Doc
    ids: tuple[int, ...]
    version: str
    url: str  # absolute URL of the resource path, without query (for Link)
    link: str | None = None


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


Handler = Callable[[Context], Answer]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    scopes: tuple[str, ...]  # any of these grants access; () = no scope needed


def ok(body: Any, status: int = 200) -> Answer:
    return Answer(status, body)


def parse_time(text: str) -> datetime:
    """Shopify accepts ISO 8601 with a ``T`` or a space and an optional offset."""
    value = text.strip().replace(" ", "T", 1)
    value = re.sub(r"\s*([+-]\d{2}):?(\d{2})$", r"\1:\2", value)
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ShopifyError(400, {"errors": f"invalid date {text!r}"}) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def id_set(text: str | None) -> set[int] | None:
    if not text:
        return None
    try:
        return {int(part) for part in text.split(",") if part.strip()}
    except ValueError as exc:
        raise ShopifyError(400, {"errors": "ids must be integers"}) from exc


TIME_FILTERS = ("created_at", "updated_at", "processed_at", "published_at")


def common_filter(items: list[Doc], query: dict[str, str]) -> list[Doc]:
    ids = id_set(query.get("ids"))
    if ids is not None:
        items = [i for i in items if i["id"] in ids]
    if query.get("since_id"):
        since = int(query["since_id"])
        items = [i for i in items if i["id"] > since]
    for name in TIME_FILTERS:
        low, high = query.get(name + "_min"), query.get(name + "_max")
        if low:
            bound = parse_time(low)
            items = [i for i in items if i.get(name) and parse_time(i[name]) >= bound]
        if high:
            bound = parse_time(high)
            items = [i for i in items if i.get(name) and parse_time(i[name]) <= bound]
    return items


def by_id(items: list[Doc]) -> list[Doc]:
    return sorted(items, key=lambda i: i["id"])


def body_of(ctx: Context, key: str) -> Doc:
    value = ctx.body.get(key)
    if not isinstance(value, dict):
        raise ShopifyError(400, {key: "Required parameter missing or invalid"})
    return value
