"""Rate budgets: how much of a platform's quota may be spent now, and by whom.

A budget belongs to a remote account (one shop), not to a plugin or a process: every
process and every kind of work on that account draws from it. The connector describes
the platform's bucket (``BucketPolicy``) and feeds the budget what the platform reports
(``X-Shopify-Shop-Api-Call-Limit: 32/40``, a GraphQL ``throttleStatus``); the engine
provides the shared storage. When the budget is spent the HTTP client raises
``RateLimited`` before sending, so the engine reschedules the work instead of a thread
sleeping.

Live work (orders, stock) may fill the bucket; background work (backfills, catalog
syncs) only up to ``background_share`` of it, so it never starves live work.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

from tradewind.connectors.errors import RateLimited


class Priority(IntEnum):
    LIVE = 0
    BACKGROUND = 1


@dataclass(frozen=True, kw_only=True)
class BucketPolicy:
    """A leaky bucket: ``capacity`` units that drain at ``leak_per_second``."""

    name: str  # "rest", "graphql"
    capacity: float
    leak_per_second: float
    background_share: float = 0.5


class RateBudget(Protocol):
    def acquire(self, cost: float, priority: Priority = Priority.LIVE) -> None:
        """Take ``cost`` units now or raise ``RateLimited`` with the wait."""

    def observe(self, used: float, capacity: float | None = None) -> None:
        """The platform says ``used`` units of the bucket are taken."""

    def throttled(self, retry_after: float) -> None:
        """The platform refused a call (429/THROTTLED): nobody calls for ``retry_after``."""


_HAIR = 1e-6  # units of a bucket


@dataclass
class BucketState:
    level: float = 0.0
    updated: float = 0.0
    blocked_until: float = 0.0


def take(
    state: BucketState,
    policy: BucketPolicy,
    cost: float,
    priority: Priority,
    now: float,
    capacity: float | None = None,
) -> float:
    """Leak, then take ``cost`` from ``state``; returns 0 when taken, else the seconds to
    wait (state unchanged apart from the leak). Shared by every budget store."""
    size = capacity or policy.capacity
    state.level = max(0.0, state.level - (now - state.updated) * policy.leak_per_second)
    state.updated = now
    if now < state.blocked_until:
        return state.blocked_until - now
    allowed = size if priority is Priority.LIVE else size * policy.background_share
    # A level a rounding error above what fits, fits: refusing it would cost a second try
    # for a wait of nothing.
    if state.level + cost <= allowed + _HAIR or state.level <= _HAIR:
        state.level += cost
        return 0.0
    return (state.level + cost - allowed) / policy.leak_per_second


def reserve(
    state: BucketState,
    policy: BucketPolicy,
    cost: float,
    priority: Priority,
    now: float,
    capacity: float | None = None,
    *,
    within: float,
) -> tuple[float, bool]:
    """``take`` for a caller that will wait: when the bucket has room within ``within``
    seconds, that room is taken now for then (the level passes the capacity by what is
    spoken for, and drains to where a take at that moment would leave it). Returns the
    seconds until the room, and whether it was taken (not when the account is blocked,
    or the room comes later than ``within``)."""
    wait = take(state, policy, cost, priority, now, capacity)
    if wait == 0:
        return 0.0, True
    if now < state.blocked_until or wait > within:
        return wait, False
    state.level += cost
    return wait, True


class LocalBudget:
    """A budget held in this process only (tests, single-process tools)."""

    def __init__(self, policy: BucketPolicy) -> None:
        self.policy = policy
        self._state = BucketState(updated=time.monotonic())
        self._capacity: float | None = None
        self._lock = threading.Lock()

    def acquire(self, cost: float, priority: Priority = Priority.LIVE) -> None:
        with self._lock:
            wait = take(self._state, self.policy, cost, priority, time.monotonic(), self._capacity)
        if wait > 0:
            raise RateLimited(f"{self.policy.name} budget spent", retry_after=wait)

    def observe(self, used: float, capacity: float | None = None) -> None:
        with self._lock:
            self._state.level = used
            self._state.updated = time.monotonic()
            if capacity:
                self._capacity = capacity

    def throttled(self, retry_after: float) -> None:
        with self._lock:
            self._state.blocked_until = max(
                self._state.blocked_until, time.monotonic() + retry_after
            )


class UnlimitedBudget:
    """For platforms without a published limit: never refuses, ignores observations."""

    def acquire(self, cost: float, priority: Priority = Priority.LIVE) -> None:
        return None

    def observe(self, used: float, capacity: float | None = None) -> None:
        return None

    def throttled(self, retry_after: float) -> None:
        return None
