"""Faults injected into one shop through the control API, so that a hub's handling of a
bad day can be tested: 429 storms, 5xx bursts, added latency, answers lost after the
request was carried out, and dropped, duplicated or reordered webhook deliveries.
(Revoked tokens and uninstalls are real state changes, done by the control API itself.)

Each fault is counted: it applies to the next ``count`` requests or deliveries and then
clears itself, so a test can assert the recovery. ``count=None`` lasts until cleared.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum


class FaultKind(StrEnum):
    rate_limit = "rate_limit"  # answer 429 + Retry-After, as a throttled shop would
    server_error = "server_error"  # answer 5xx (status chosen, 500 by default)
    latency = "latency"  # wait before answering
    # Carry the request out, then answer 504 in place of its answer (a gateway timing
    # out): the client cannot know whether its write happened.
    lose_answer = "lose_answer"
    drop_webhooks = "drop_webhooks"  # never deliver (lost, no retry)
    duplicate_webhooks = "duplicate_webhooks"  # deliver twice, same X-Shopify-Webhook-Id
    reorder_webhooks = "reorder_webhooks"  # hold ``count`` deliveries, send them newest first


REQUEST_FAULTS = (FaultKind.rate_limit, FaultKind.server_error, FaultKind.latency)


@dataclass
class Fault:
    kind: FaultKind
    count: int | None = 1
    status: int = 500
    latency_ms: int = 0
    # Only requests whose path contains this text (e.g. "graphql.json", "orders").
    path_contains: str | None = None
    # Only GraphQL requests whose document contains this text (e.g. "refundCreate").
    query_contains: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "count": self.count,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "path_contains": self.path_contains,
            "query_contains": self.query_contains,
        }


class Faults:
    """The active faults of every shop."""

    def __init__(self) -> None:
        self._by_shop: dict[str, list[Fault]] = {}
        self._lock = threading.Lock()

    def add(self, shop: str, fault: Fault) -> None:
        with self._lock:
            self._by_shop.setdefault(shop, []).append(fault)

    def clear(self, shop: str) -> None:
        with self._lock:
            self._by_shop.pop(shop, None)

    def active(self, shop: str) -> list[Fault]:
        with self._lock:
            return list(self._by_shop.get(shop, []))

    def take(
        self, shop: str, kinds: tuple[FaultKind, ...], path: str = "", query: str = ""
    ) -> Fault | None:
        """The first matching fault, consuming one use of it."""
        with self._lock:
            faults = self._by_shop.get(shop)
            if not faults:
                return None
            for fault in faults:
                if fault.kind not in kinds:
                    continue
                if fault.path_contains and fault.path_contains not in path:
                    continue
                if fault.query_contains and fault.query_contains not in query:
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        faults.remove(fault)
                return fault
            return None
