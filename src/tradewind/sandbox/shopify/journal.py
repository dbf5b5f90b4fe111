"""What the shop was asked: every Admin API request (REST and GraphQL) a client sent,
with its body and the status it got, kept per shop (the most recent ``LIMIT``). A test
asserts on what Shopify received rather than on what a client meant to send."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

LIMIT = 2000  # requests kept per shop


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # relative to /admin/api/{version}/, e.g. "fulfillments.json" or "graphql.json"
    version: str
    app_key: str
    body: Any  # the JSON body as parsed (GraphQL: {"query", "variables"}); None when empty
    status: int
    at: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Journal:
    def __init__(self, limit: int = LIMIT) -> None:
        self._lock = threading.Lock()
        self._limit = limit
        self._by_shop: dict[str, deque[Request]] = {}

    def record(self, shop: str, request: Request) -> None:
        with self._lock:
            kept = self._by_shop.setdefault(shop, deque(maxlen=self._limit))
            kept.append(request)

    def recent(self, shop: str, path_contains: str | None = None) -> list[Request]:
        """The shop's requests, oldest first, optionally only those whose path holds
        ``path_contains``."""
        with self._lock:
            kept = list(self._by_shop.get(shop, ()))
        if path_contains is None:
            return kept
        return [item for item in kept if path_contains in item.path]

    def clear(self, shop: str) -> None:
        with self._lock:
            self._by_shop.pop(shop, None)
