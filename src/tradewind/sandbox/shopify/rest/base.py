"""What every REST handler works with: the request context and the answer, list filters,
``fields``, cursor pagination with the ``Link`` header, and Shopify's 400 bodies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.ops.base import ShopifyError
from tradewind.sandbox.shopify.service import ShopOps
from tradewind.sandbox.shopify.state import Doc, Token

DEFAULT_LIMIT = 50

MAX_LIMIT = 250

PAGE_INFO_COMPANIONS = frozenset({"limit", "fields", "page_info"})


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


def pick_fields(doc: Doc, query: dict[str, str]) -> Doc:
    wanted = query.get("fields")
    if not wanted:
        return doc
    names = [f.strip().replace("-", "_") for f in wanted.split(",") if f.strip()]
    return {k: doc[k] for k in names if k in doc}


def page(ctx: Context, items: list[Doc], render: Callable[[Doc], Doc] | None = None) -> list[Doc]:
    """Cut one page, set the ``Link`` header, render the page's items and apply ``fields``."""
    try:
        limit = min(MAX_LIMIT, max(1, int(ctx.query.get("limit", DEFAULT_LIMIT))))
    except ValueError as exc:
        raise ShopifyError(400, {"limit": "Limit must be an integer"}) from exc
    start = int(ctx.query.get("_start", 0))
    chunk = items[start : start + limit]
    links = []
    filters = {
        k: v for k, v in ctx.query.items() if k not in PAGE_INFO_COMPANIONS and k != "_start"
    }
    extra = f"&fields={ctx.query['fields']}" if ctx.query.get("fields") else ""
    if start + limit < len(items):
        cursor = encode_cursor(filters, start + limit)
        links.append(f'<{ctx.url}?limit={limit}{extra}&page_info={cursor}>; rel="next"')
    if start > 0:
        cursor = encode_cursor(filters, max(0, start - limit))
        links.insert(0, f'<{ctx.url}?limit={limit}{extra}&page_info={cursor}>; rel="previous"')
    if links:
        ctx.link = ", ".join(links)
    if render is not None:
        chunk = [render(doc) for doc in chunk]
    return [pick_fields(doc, ctx.query) for doc in chunk]


def encode_cursor(filters: dict[str, str], start: int) -> str:
    return d.page_cursor(json.dumps({"f": filters, "s": start}, separators=(",", ":")))


def decode_query(raw: dict[str, str]) -> dict[str, str]:
    """Expand ``page_info`` into the filters of the first request, as Shopify does."""
    if "page_info" not in raw:
        return raw
    for key in raw:
        if key not in PAGE_INFO_COMPANIONS:
            raise ShopifyError(
                400,
                {
                    key: f"{key} cannot be passed when page_info is present. See "
                    "https://shopify.dev/api/usage/pagination-rest for more information."
                },
            )
    try:
        cursor = json.loads(d.read_cursor(raw["page_info"]))
        query = {str(k): str(v) for k, v in cursor["f"].items()}
        query["_start"] = str(int(cursor["s"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise ShopifyError(400, {"page_info": "Invalid value."}) from exc
    for key in ("limit", "fields"):
        if key in raw:
            query[key] = raw[key]
    return query


def by_id(items: list[Doc]) -> list[Doc]:
    return sorted(items, key=lambda i: i["id"])


def body_of(ctx: Context, key: str) -> Doc:
    value = ctx.body.get(key)
    if not isinstance(value, dict):
        raise ShopifyError(400, {key: "Required parameter missing or invalid"})
    return value
