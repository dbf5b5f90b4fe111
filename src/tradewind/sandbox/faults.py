"""Faults on demand, shared by the service sandboxes (EasyPost, Shippo, ShipStation): the
next N requests (of a key, on a path) answer 429 or a 5xx, or wait first; a fault met
clears itself, so a test can assert the recovery; ``count=None`` lasts until cleared."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum


class FaultKind(StrEnum):
    rate_limit = "rate_limit"  # 429, as when the service's limiter refuses a request
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
    # A 429's Retry-After header, in seconds (None: none, as EasyPost sends none).
    retry_after: float | None = None

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
            "retry_after": self.retry_after,
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
