"""REST cursor pagination as Shopify does it: a ``page_info`` cursor marks the last record
a page returned (its sort value and id, the direction, the sort and the filters of the
first request), never a position, so records deleted or inserted while a client walks
the list neither make it skip nor repeat one. ``order=`` sorts a list by the fields
Shopify sorts it by; ``since_id`` sorts by id, as Shopify has since 2017.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.ops.base import ShopifyError
from tradewind.sandbox.shopify.state import Doc

if TYPE_CHECKING:
    from tradewind.sandbox.shopify.rest.base import Context

DEFAULT_LIMIT = 50

MAX_LIMIT = 250

PAGE_INFO_COMPANIONS = frozenset({"limit", "fields", "page_info"})

CURSOR_KEY = "_cursor"  # the decoded cursor, carried in the query to ``page``

TIME_KEYS = frozenset({"created_at", "updated_at", "processed_at", "published_at"})


def invalid() -> ShopifyError:
    return ShopifyError(400, {"page_info": "Invalid value."})


@dataclass(frozen=True)
class Sorting:
    """The fields a list can be ordered by (``order=field asc|desc``) and its order when
    none is asked. ``ident`` reads the record's unique key, the tie-breaker."""

    keys: frozenset[str] = frozenset({"id"})
    default: tuple[str, bool] = ("id", False)  # (field, descending)
    ident: Callable[[Doc], Any] = lambda doc: doc["id"]


BY_ID = Sorting()


def _sort_value(value: Any) -> tuple[int, Any]:
    """Nulls first; timestamps by the instant they name (offsets differ across DST)."""
    if value is None:
        return (0, 0)
    if isinstance(value, str):
        try:
            return (1, datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
        except ValueError:
            return (2, value.casefold())
    return (1, value)


def _ordering(query: dict[str, str], sorting: Sorting) -> tuple[str, bool]:
    if query.get("since_id"):
        return ("id", False)
    asked = query.get("order", "").strip().split()
    if asked and asked[0] in sorting.keys:
        direction = asked[1].lower() if len(asked) > 1 else "asc"
        if direction in ("asc", "desc"):
            return (asked[0], direction == "desc")
    return sorting.default


def _list_name(url: str) -> str:
    """The list a cursor belongs to: the path after ``/admin/api/{version}/``."""
    match = re.search(r"/admin/api/[^/]+/(.+)$", url)
    return match.group(1) if match else url


def _as_key(ident: Any) -> Any:
    return tuple(ident) if isinstance(ident, list) else ident


def page(
    ctx: Context,
    items: list[Doc],
    render: Callable[[Doc], Doc] | None = None,
    sorting: Sorting = BY_ID,
) -> list[Doc]:
    """Sort, cut one page after (or before) the cursor's record, set the ``Link`` header,
    render the page's items and apply ``fields``."""
    try:
        limit = min(MAX_LIMIT, max(1, int(ctx.query.get("limit", DEFAULT_LIMIT))))
    except ValueError as exc:
        raise ShopifyError(400, {"limit": "Limit must be an integer"}) from exc
    field, descending = _ordering(ctx.query, sorting)

    def key(doc: Doc) -> tuple[tuple[int, Any], Any]:
        return (_sort_value(doc.get(field)), _as_key(sorting.ident(doc)))

    ordered = sorted(items, key=key, reverse=descending)
    cursor = ctx.query.get(CURSOR_KEY)
    if cursor is None:
        chunk, more_before, more_after = ordered[:limit], False, len(ordered) > limit
    else:
        mark = _cursor_mark(cursor, ctx.url)

        def after(doc: Doc) -> bool:
            return key(doc) < mark if descending else key(doc) > mark

        later = [doc for doc in ordered if after(doc)]
        earlier = [doc for doc in ordered if not after(doc) and key(doc) != mark]
        if json.loads(cursor)["direction"] == "next":
            chunk = later[:limit]
            more_before = len(ordered) > len(later)
            more_after = len(later) > limit
        else:
            chunk = earlier[-limit:]
            more_before = len(earlier) > limit
            more_after = len(ordered) > len(earlier)
    filters = {
        k: v
        for k, v in ctx.query.items()
        if k not in PAGE_INFO_COMPANIONS and not k.startswith("_")
    }
    extra = f"&fields={ctx.query['fields']}" if ctx.query.get("fields") else ""
    links = []

    def link(doc: Doc, direction: str, rel: str) -> str:
        token = encode_cursor(ctx.url, filters, doc.get(field), sorting.ident(doc), direction)
        return f'<{ctx.url}?limit={limit}{extra}&page_info={token}>; rel="{rel}"'

    if chunk and more_before:
        links.append(link(chunk[0], "prev", "previous"))
    if chunk and more_after:
        links.append(link(chunk[-1], "next", "next"))
    if links:
        ctx.link = ", ".join(links)
    if render is not None:
        chunk = [render(doc) for doc in chunk]
    return [pick_fields(doc, ctx.query) for doc in chunk]


def pick_fields(doc: Doc, query: dict[str, str]) -> Doc:
    wanted = query.get("fields")
    if not wanted:
        return doc
    names = [f.strip().replace("-", "_") for f in wanted.split(",") if f.strip()]
    return {k: doc[k] for k in names if k in doc}


def encode_cursor(
    url: str, filters: dict[str, str], last_value: Any, last_id: Any, direction: str
) -> str:
    payload = {
        "direction": direction,
        "last_id": last_id,
        "last_value": last_value,
        "list": _list_name(url),
        "filters": filters,
    }
    return d.page_cursor(json.dumps(payload, separators=(",", ":")))


def _cursor_mark(cursor: str, url: str) -> tuple[Any, Any]:
    """Where the cursor's record sorts (the sort itself travels in the filters)."""
    data = json.loads(cursor)
    if data.get("list") != _list_name(url):
        raise invalid()  # a cursor handed out by another list
    return (_sort_value(data.get("last_value")), _as_key(data["last_id"]))


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
        if not isinstance(cursor, dict) or cursor.get("direction") not in ("next", "prev"):
            raise invalid()
        last_id = cursor["last_id"]
        if not isinstance(last_id, int | list) or not isinstance(cursor["list"], str):
            raise invalid()
        if not isinstance(cursor.get("last_value"), str | int | float | None):
            raise invalid()
        query = {str(k): str(v) for k, v in cursor["filters"].items()}
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise invalid() from exc
    query[CURSOR_KEY] = json.dumps(cursor)
    for key in ("limit", "fields"):
        if key in raw:
            query[key] = raw[key]
    return query
