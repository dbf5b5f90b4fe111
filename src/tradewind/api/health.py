"""``/health``: the process answers and its database is reachable.

Probes must stay fast when the server is busiest (a webhook flood, a busy database), so
the database is not asked on every probe: one check at a time runs off the event loop,
and its answer holds for ``every`` seconds — unless the engine has seen the database
fail since (``Database.availability``), which is believed at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool

from tradewind.db import Database, unavailable


class HealthCheck:
    def __init__(
        self, db: Database, *, every: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.db = db
        self.every = every
        self.clock = clock
        self._checked_at: float | None = None
        self._reachable = False
        self._lock = threading.Lock()

    async def database_reachable(self) -> bool:
        if self._fresh():
            return self._reachable  # on the loop: no thread, no I/O
        return await run_in_threadpool(self._check)

    def _fresh(self) -> bool:
        if self._checked_at is None or (self._reachable and not self.db.availability.up):
            return False
        return self.clock() - self._checked_at < self.every

    def _check(self) -> bool:
        with self._lock:  # many probes at once: one check, the others take its answer
            if self._fresh():
                return self._reachable
            try:
                with self.db.read() as session:
                    session.connection()
                reachable = True
            except Exception as exc:
                if not unavailable(exc):
                    raise
                reachable = False
            self._reachable, self._checked_at = reachable, self.clock()
            return reachable
