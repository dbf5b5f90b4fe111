"""Shopify's two rate limits, per app and shop, as leaky buckets over an injected clock.

REST: each call adds one marble; the bucket leaks ``leak`` marbles per second; a call
that would overflow it is refused (429). GraphQL: a query's requested cost is taken from
a bucket that refills at ``restore`` points per second; a query that costs more than is
available is throttled (HTTP 200, ``THROTTLED``), and the unused part of an accepted
query's cost is given back.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]


@dataclass
class LeakyBucket:
    size: int
    leak: float
    level: float = 0.0
    at: float = 0.0

    def _drain(self, now: float) -> None:
        self.level = max(0.0, self.level - (now - self.at) * self.leak)
        self.at = now

    def take(self, now: float) -> bool:
        """Add one call if it fits; ``False`` means the caller gets a 429."""
        self._drain(now)
        if self.level + 1 > self.size:
            return False
        self.level += 1
        return True

    def used(self) -> int:
        return min(self.size, math.ceil(self.level))


@dataclass
class CostBucket:
    maximum: float
    restore: float
    available: float
    at: float = 0.0

    def _refill(self, now: float) -> None:
        self.available = min(self.maximum, self.available + (now - self.at) * self.restore)
        self.at = now

    def take(self, cost: float, now: float) -> bool:
        self._refill(now)
        if cost > self.available:
            return False
        self.available -= cost
        return True

    def give_back(self, points: float) -> None:
        self.available = min(self.maximum, self.available + points)


class Limiter:
    """All buckets of one sandbox, keyed by (shop, app). ``enabled=False`` (benchmarks)
    accepts everything while still reporting the headers Shopify always sends."""

    def __init__(self, clock: Clock, enabled: bool = True) -> None:
        self.clock = clock
        self.enabled = enabled
        self._rest: dict[tuple[str, str], LeakyBucket] = {}
        self._graphql: dict[tuple[str, str], CostBucket] = {}
        self._lock = threading.Lock()

    def rest(self, shop: str, app: str, size: int, leak: float) -> tuple[bool, str]:
        """Charge one REST call. Returns (allowed, X-Shopify-Shop-Api-Call-Limit value)."""
        with self._lock:
            now = self.clock()
            bucket = self._rest.get((shop, app))
            if bucket is None or bucket.size != size or bucket.leak != leak:
                level = bucket.level if bucket else 0.0
                bucket = LeakyBucket(size, leak, min(level, size), now)
                self._rest[(shop, app)] = bucket
            if not self.enabled:
                return True, f"1/{size}"
            allowed = bucket.take(now)
            return allowed, f"{bucket.used()}/{size}"

    def graphql(
        self, shop: str, app: str, maximum: float, restore: float, cost: float
    ) -> tuple[bool, float]:
        """Charge a query's requested cost. Returns (allowed, currently available)."""
        with self._lock:
            now = self.clock()
            bucket = self._graphql.get((shop, app))
            if bucket is None or bucket.maximum != maximum or bucket.restore != restore:
                bucket = CostBucket(maximum, restore, maximum, now)
                self._graphql[(shop, app)] = bucket
            if not self.enabled:
                return True, maximum
            allowed = bucket.take(cost, now)
            return allowed, bucket.available

    def refund(self, shop: str, app: str, points: float) -> float:
        with self._lock:
            bucket = self._graphql.get((shop, app))
            if bucket is None:
                return 0.0
            if self.enabled:
                bucket.give_back(points)
            return bucket.available

    def reset(self, shop: str) -> None:
        with self._lock:
            for key in [k for k in self._rest if k[0] == shop]:
                del self._rest[key]
            for key in [k for k in self._graphql if k[0] == shop]:
                del self._graphql[key]
