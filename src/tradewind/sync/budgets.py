"""Rate budgets shared by every process: one leaky bucket per (remote account, bucket),
kept in the database so that web workers, queue workers and the CLI all draw from it."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.connectors.errors import RateLimited
from tradewind.connectors.ratelimit import BucketPolicy, BucketState, Priority, take
from tradewind.db import Database, insert_ignore
from tradewind.sync.models import RateBudgetRow


class SharedBudget:
    """A ``RateBudget`` stored in the ``rate_budgets`` table (short transactions only)."""

    def __init__(self, db: Database, account: str, policy: BucketPolicy) -> None:
        self._db = db
        self.key = f"{account}:{policy.name}"[:255]
        self.policy = policy

    def _row(self, session: Session) -> RateBudgetRow:
        insert_ignore(
            session,
            RateBudgetRow.__table__,
            [{"key": self.key, "level": 0.0, "updated_at": time.time(), "blocked_until": 0.0}],
            conflict_columns=["key"],
        )
        row = session.scalar(
            select(RateBudgetRow).where(RateBudgetRow.key == self.key).with_for_update()
        )
        assert row is not None
        return row

    def acquire(self, cost: float, priority: Priority = Priority.LIVE) -> None:
        with self._db.unit_of_work() as session:
            row = self._row(session)
            state = BucketState(row.level, row.updated_at, row.blocked_until)
            wait = take(state, self.policy, cost, priority, time.time(), row.capacity)
            row.level, row.updated_at = state.level, state.updated
        if wait > 0:
            raise RateLimited(f"the {self.policy.name} rate budget is spent", retry_after=wait)

    def observe(self, used: float, capacity: float | None = None) -> None:
        with self._db.unit_of_work() as session:
            row = self._row(session)
            row.level, row.updated_at = used, time.time()
            if capacity:
                row.capacity = capacity

    def throttled(self, retry_after: float) -> None:
        with self._db.unit_of_work() as session:
            row = self._row(session)
            row.blocked_until = max(row.blocked_until, time.time() + retry_after)
