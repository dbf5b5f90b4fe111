"""Bad days on demand, and the rate limit.

A fault applies to the next ``count`` API requests (of one key, or of every key when
``key`` is None, and only to paths containing ``path_contains`` when given) and then
clears itself, so a test can assert the recovery; ``count=None`` lasts until cleared.
Revoking a key is a state change, made by the control API itself.

The rate limit counts requests per key in one-second windows of the sandbox's clock:
EasyPost's fixed 5 per second on index (list) endpoints, and a stand-in for its
load-based limiter on everything else (``per_second``, 20 by default).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class FaultKind(StrEnum):
    rate_limit = "rate_limit"  # 429, as when EasyPost's limiter refuses a request
    server_error = "server_error"  # 5xx (status chosen: 500, 503, 504 …)
    latency = "latency"  # wait ``latency_ms`` before answering normally


@dataclass
class Fault:
    kind: FaultKind
    count: int | None = 1
    status: int = 500
    latency_ms: int = 0
    path_contains: str | None = None
    key: str | None = None
    # Answer the error after the request took effect, as when a response is lost on the
    # way back (the label is bought, the client hears 5xx).
    after: bool = False

    @property
    def answer(self) -> int:
        """The status a request meeting this fault gets."""
        return 429 if self.kind is FaultKind.rate_limit else self.status

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "count": self.count,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "path_contains": self.path_contains,
            "key": self.key,
            "after": self.after,
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


INDEX_PER_SECOND = 5


@dataclass
class Limits:
    per_second: int = 20
    index_per_second: int = INDEX_PER_SECOND
    enabled: bool = True

    def as_dict(self) -> dict[str, object]:
        return {
            "enabled": self.enabled,
            "per_second": self.per_second,
            "index_per_second": self.index_per_second,
        }


class RateLimiter:
    """Fixed one-second windows per key and class (``index`` or ``other``)."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._windows: dict[tuple[str, bool], tuple[int, int]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, index: bool) -> bool:
        if not self.limits.enabled:
            return True
        limit = self.limits.index_per_second if index else self.limits.per_second
        second = int(self.clock())
        with self._lock:
            window, used = self._windows.get((key, index), (second, 0))
            if window != second:
                window, used = second, 0
            if used >= limit:
                return False
            self._windows[(key, index)] = (window, used + 1)
            return True
