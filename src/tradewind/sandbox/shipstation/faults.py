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
from enum import StrEnum

WINDOW_SECONDS = 60.0


class FaultKind(StrEnum):
    rate_limit = "rate_limit"  # 429, as when the limiter refuses a request
    server_error = "server_error"  # 5xx (status chosen: 500, 503 …)
    latency = "latency"  # wait ``latency_ms`` before answering normally


@dataclass
class Fault:
    kind: FaultKind
    count: int | None = 1
    status: int = 500
    latency_ms: int = 0
    path_contains: str | None = None
    key: str | None = None

    @property
    def answer(self) -> int:
        return 429 if self.kind is FaultKind.rate_limit else self.status

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "count": self.count,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "path_contains": self.path_contains,
            "key": self.key,
        }


class Faults:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, key: str, path: str) -> Fault | None:
        """The first fault matching this request, one use of it consumed."""
        with self._lock:
            for fault in self._faults:
                if fault.key is not None and fault.key != key:
                    continue
                if fault.path_contains and fault.path_contains not in path:
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                return fault
            return None


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
