"""Bad days on demand, and ShipStation's rate limit.

A fault applies to the next ``count`` API requests (of one key, or of every key when
``key`` is None, and only to paths containing ``path_contains`` when given) and then
clears itself; ``count=None`` lasts until cleared. Revoking credentials is a state
change, made by the control API.

The rate limit is ShipStation's: ``per_minute`` requests (40) per key+secret in a window
of 60 seconds of the sandbox's clock that opens with the window's first request. Every
answer says where the caller stands (``X-Rate-Limit-Limit``, ``-Remaining``, ``-Reset``:
whole seconds until the window closes).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# The faults are the shared ones (re-exported: the sandbox's modules import them here).
from tradewind.sandbox.faults import Fault as Fault
from tradewind.sandbox.faults import FaultKind as FaultKind
from tradewind.sandbox.faults import Faults as Faults

WINDOW_SECONDS = 60.0


@dataclass
class Limits:
    per_minute: int = 40
    enabled: bool = True

    def as_dict(self) -> dict[str, object]:
        return {"enabled": self.enabled, "per_minute": self.per_minute}


@dataclass(frozen=True)
class Standing:
    """Where a caller stands in its window after a request: the three headers' values."""

    allowed: bool
    limit: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        return {
            "X-Rate-Limit-Limit": str(self.limit),
            "X-Rate-Limit-Remaining": str(self.remaining),
            "X-Rate-Limit-Reset": str(self.reset),
        }


class RateLimiter:
    """One window per key+secret, opened by its first request and lasting 60 seconds."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def _window(self, caller: str, now: float) -> tuple[float, int]:
        opened, used = self._windows.get(caller, (now, 0))
        if now - opened >= WINDOW_SECONDS:
            opened, used = now, 0
        return opened, used

    def _standing(self, allowed: bool, opened: float, used: int, now: float) -> Standing:
        limit = self.limits.per_minute
        reset = max(0, math.ceil(opened + WINDOW_SECONDS - now))
        return Standing(allowed, limit, max(0, limit - used), reset)

    def take(self, caller: str) -> Standing:
        """Count one request of ``caller`` (refused ones are not counted)."""
        now = self.clock()
        with self._lock:
            opened, used = self._window(caller, now)
            if self.limits.enabled and used >= self.limits.per_minute:
                self._windows[caller] = (opened, used)
                return self._standing(False, opened, used, now)
            used += 1
            self._windows[caller] = (opened, used)
            return self._standing(True, opened, used, now)

    def peek(self, caller: str) -> Standing:
        now = self.clock()
        with self._lock:
            opened, used = self._window(caller, now)
            return self._standing(True, opened, used, now)
