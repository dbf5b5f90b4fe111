"""What the page modules share beyond ``web.app`` (rendering) and ``web.session``
(``hub_of`` and the ``reader``/``writer`` dependencies): how a list is cut into pages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import ValidationError

from tradewind.errors import TradewindError

T = TypeVar("T")

PAGE_SIZE = 50  # rows on one page of a list


@dataclass(frozen=True)
class Page(Generic[T]):
    """The rows one page of a list shows, and the link to the page after it (None at the end)."""

    rows: list[T]
    next_url: str | None


def page_of(rows: Sequence[T], link: Callable[[T], str]) -> Page[T]:
    """``rows`` fetched with ``limit=PAGE_SIZE + 1``: the extra one only says there is a next
    page. ``link`` builds that page's URL from the last row shown, where the list goes on."""
    shown = list(rows[:PAGE_SIZE])
    if len(rows) <= PAGE_SIZE:
        return Page(shown, None)
    return Page(shown, link(shown[-1]))


def said_of(exc: Exception) -> str:
    """What a refused form says to a person: the rule's message, or each field and what
    it takes."""
    if isinstance(exc, TradewindError):
        return exc.message
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()
        )
    return str(exc).splitlines()[0]
