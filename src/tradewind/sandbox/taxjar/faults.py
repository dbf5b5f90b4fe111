"""Bad days on demand, per token: the next N requests answered with an error status
(429, 500, 503 …) or held back ``delay_ms`` first (a client's timeout), and the
per-token rate limit, a fixed window of one minute counted
on an injectable clock so that tests never sleep."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]
WINDOW = 60.0


@dataclass
class Fault:
    status: int | None  # None: answered normally, after the delay
    count: int
    path_contains: str | None = None
    delay_ms: int = 0


class Faults:
    def __init__(self) -> None:
        self._by_token: dict[str, list[Fault]] = {}
        self._lock = threading.Lock()

    def add(self, token: str, fault: Fault) -> None:
        with self._lock:
            self._by_token.setdefault(token, []).append(fault)

    def clear(self, token: str) -> None:
        with self._lock:
            self._by_token.pop(token, None)

    def take(self, token: str, path: str) -> Fault | None:
        """The first fault that matches ``path``, one use of it spent."""
        with self._lock:
            faults = self._by_token.get(token, [])
            for fault in faults:
                if fault.path_contains and fault.path_contains not in path:
                    continue
                fault.count -= 1
                if fault.count <= 0:
                    faults.remove(fault)
                return fault
            return None


class RateLimiter:
    """At most ``limit`` requests per token in each minute (windows start at multiples of
    60 s on the clock). ``hit`` answers None when allowed, else the seconds to wait."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, token: str, limit: int) -> int | None:
        now = self.clock()
        window = int(now // WINDOW)
        with self._lock:
            start, used = self._windows.get(token, (window, 0))
            if start != window:
                used = 0
            if used >= limit:
                self._windows[token] = (window, used)
                return max(1, int((window + 1) * WINDOW - now + 0.999))
            self._windows[token] = (window, used + 1)
            return None
