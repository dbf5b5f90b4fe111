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

# The faults are the shared ones (re-exported: the sandbox's modules import them here).
from tradewind.sandbox.faults import Fault as Fault
from tradewind.sandbox.faults import FaultKind as FaultKind
from tradewind.sandbox.faults import Faults as Faults

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
