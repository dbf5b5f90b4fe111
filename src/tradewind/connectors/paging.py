"""Pagination helpers. The engine drives paging one page at a time (so it can checkpoint
after each); a connector only has to say where the next page is."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx2

from tradewind.connectors.errors import Rejected

_LINK = re.compile(r"<(?P<url>[^>]*)>\s*;\s*(?P<params>[^,]*)")
_REL = re.compile(r'rel\s*=\s*"?(?P<rel>[a-z]+)"?')


def links(header: str | None) -> dict[str, str]:
    """``{rel: url}`` from an RFC 8288 ``Link`` header."""
    found: dict[str, str] = {}
    for match in _LINK.finditer(header or ""):
        rel = _REL.search(match.group("params"))
        if rel:
            found[rel.group("rel")] = match.group("url")
    return found


def next_link(response: httpx2.Response) -> str | None:
    return links(response.headers.get("Link")).get("next")


def query_value(url: str, name: str) -> str | None:
    """One query parameter of ``url`` (``page_info`` of a next link)."""
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0] if values else None


class LoopGuard:
    """Stops a paginator that hands back a cursor it has handed back before (a platform bug
    that would otherwise page forever)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def check(self, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        if cursor in self._seen:
            raise Rejected(
                f"the platform returned page cursor {cursor[:40]!r} twice; paging stopped"
            )
        self._seen.add(cursor)
        return cursor
