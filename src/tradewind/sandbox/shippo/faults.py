"""Bad days on demand, and Shippo's per-minute rate limits.

Faults are the EasyPost sandbox's (``Fault``, ``Faults``, ``FaultKind``): the next
``count`` requests (of one token, or all; of paths containing ``path_contains``) get a
429/5xx, a delay, or, with ``after``, take effect and then answer the error.

The limiter counts requests per token and class in fixed one-minute windows of the
sandbox clock, with Shippo's published numbers (live / test) per class. Every answer
carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (the
epoch second the window ends).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from tradewind.sandbox.faults import Fault, FaultKind, Faults

__all__ = ["Fault", "FaultKind", "Faults", "Limits", "RateClass", "RateLimiter", "Verdict"]


class RateClass(StrEnum):
    post = "post"  # most POST/PUT
    get_single = "get_single"
    get_list = "get_list"
    tracking = "tracking"


# Requests per minute: (live, test), from Shippo's rate-limit page (2026-07).
PUBLISHED: dict[RateClass, tuple[int, int]] = {
    RateClass.post: (500, 50),
    RateClass.get_single: (4000, 400),
    RateClass.get_list: (50, 10),
    RateClass.tracking: (750, 50),
}


@dataclass
class Limits:
    enabled: bool = True
    per_minute: dict[RateClass, tuple[int, int]] = field(default_factory=lambda: dict(PUBLISHED))

    def limit(self, kind: RateClass, test: bool) -> int:
        live, test_limit = self.per_minute[kind]
        return test_limit if test else live

    def as_dict(self) -> dict[str, object]:
        return {
            "enabled": self.enabled,
            "per_minute": {
                k.value: {"live": v[0], "test": v[1]} for k, v in self.per_minute.items()
            },
        }


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


class RateLimiter:
    def __init__(self, limits: Limits, clock: Callable[[], float] = time.time) -> None:
        self.limits = limits
        self.clock = clock
        self._windows: dict[tuple[str, RateClass], tuple[int, int]] = {}
        self._lock = threading.Lock()

    def check(self, token: str, kind: RateClass, test: bool) -> Verdict | None:
        """None when limits are off; otherwise whether the request may go ahead."""
        if not self.limits.enabled:
            return None
        limit = self.limits.limit(kind, test)
        minute = int(self.clock() // 60)
        reset = (minute + 1) * 60
        with self._lock:
            window, used = self._windows.get((token, kind), (minute, 0))
            if window != minute:
                window, used = minute, 0
            if used >= limit:
                return Verdict(False, limit, 0, reset)
            self._windows[(token, kind)] = (window, used + 1)
            return Verdict(True, limit, limit - used - 1, reset)
