"""Cursor pagination: an opaque cursor names the last id seen; a page carries the cursor
of the next one (``null`` at the end)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from tradewind.errors import Invalid

T = TypeVar("T")
O = TypeVar("O")  # noqa: E741 - a type variable

MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; null at the end."
    )


class PageParams(BaseModel):
    after_id: int
    limit: int


def page_params(
    cursor: str | None = Query(
        default=None, max_length=64, description="The `next_cursor` of the previous page."
    ),
    limit: int = Query(default=50, ge=1, le=MAX_LIMIT, description="Items per page."),
) -> PageParams:
    return PageParams(after_id=decode_cursor(cursor), limit=limit)


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = raw.partition(":")
        number = int(value)
        if kind != "id" or number < 0 or number > 2**62:
            raise ValueError
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise Invalid("cursor is not one this API gave out", fields={"cursor": "invalid"}) from None
    return number


def paginate(
    rows: Sequence[O],
    limit: int,
    to_item: Callable[[O], T],
    key: Callable[[O], int],
) -> Page[T]:
    """``rows`` fetched with ``limit + 1``: the extra one only says there is a next page."""
    more = len(rows) > limit
    kept = list(rows[:limit])
    return Page[T](
        items=[to_item(row) for row in kept],
        next_cursor=encode_cursor(key(kept[-1])) if more and kept else None,
    )
