"""Cursor pagination: an opaque cursor names the last item seen (its id, and for a list
ordered by a time, that time too); a page carries the cursor of the next one (``null`` at
the end). Keyset pages stay correct while rows are added: nothing is skipped or repeated."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
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
    # Lists ordered newest first by a time (orders by placed_at): the time of the last
    # item seen, which with ``after_id`` is where the next page starts.
    after_at: dt.datetime | None = None


def page_params(
    cursor: str | None = Query(
        default=None, max_length=96, description="The `next_cursor` of the previous page."
    ),
    limit: int = Query(default=50, ge=1, le=MAX_LIMIT, description="Items per page."),
) -> PageParams:
    after_id, after_at = decode_position(cursor)
    return PageParams(after_id=after_id, after_at=after_at, limit=limit)


def encode_cursor(last_id: int, at: dt.datetime | None = None) -> str:
    raw = f"id:{last_id}" if at is None else f"at:{at.astimezone(dt.UTC).isoformat()}|{last_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The id a cursor names (lists ordered by id)."""
    return decode_position(cursor)[0]


def decode_position(cursor: str | None) -> tuple[int, dt.datetime | None]:
    """The id and, for lists ordered by a time, the time a cursor names."""
    if not cursor:
        return 0, None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = raw.partition(":")
        at: dt.datetime | None = None
        if kind == "at":
            moment, _, value = value.rpartition("|")
            at = dt.datetime.fromisoformat(moment)
            if at.tzinfo is None:
                raise ValueError
        elif kind != "id":
            raise ValueError
        number = int(value)
        if number < 0 or number > 2**62:
            raise ValueError
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise Invalid("cursor is not one this API gave out", fields={"cursor": "invalid"}) from None
    return number, at


def paginate(
    rows: Sequence[O],
    limit: int,
    to_item: Callable[[O], T],
    key: Callable[[O], int],
    at: Callable[[O], dt.datetime] | None = None,
) -> Page[T]:
    """``rows`` fetched with ``limit + 1``: the extra one only says there is a next page.
    ``at`` gives the time a list is ordered by, when it is (then by ``key``)."""
    more = len(rows) > limit
    kept = list(rows[:limit])
    cursor = None
    if more and kept:
        cursor = encode_cursor(key(kept[-1]), at(kept[-1]) if at is not None else None)
    return Page[T](items=[to_item(row) for row in kept], next_cursor=cursor)
