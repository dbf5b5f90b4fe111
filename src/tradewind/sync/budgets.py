"""Rate budgets shared by every process: one leaky bucket per (remote account, bucket),
kept in the database so that web workers, queue workers and the CLI all draw from it;
and the patience of a call a person waits for (``PatientBudget``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from tradewind.connectors.errors import RateLimited
from tradewind.connectors.ratelimit import (
    BucketPolicy,
    BucketState,
    Priority,
    reserve,
    take,
)
from tradewind.db import Database, insert_ignore
from tradewind.sync.models import RateBudgetRow

_TABLE = cast(Table, RateBudgetRow.__table__)
# Every call to a platform runs these two: built once, the bucket's key a parameter
# (building a statement cost as much as running it).
_LOCKED_STATE = (
    select(_TABLE.c.level, _TABLE.c.updated_at, _TABLE.c.blocked_until, _TABLE.c.capacity)
    .where(_TABLE.c.key == bindparam("bucket"))
    .with_for_update()
)
_KEEP_STATE = (
    update(_TABLE)
    .where(_TABLE.c.key == bindparam("bucket"))
    .values(level=bindparam("new_level"), updated_at=bindparam("now"))
)


class SharedBudget:
    """A ``RateBudget`` stored in the ``rate_budgets`` table (short transactions only)."""

    def __init__(self, db: Database, account: str, policy: BucketPolicy) -> None:
        self._db = db
        self.key = f"{account}:{policy.name}"[:255]
        self.policy = policy

    def _row(self, session: Session) -> RateBudgetRow:
        locked = select(RateBudgetRow).where(RateBudgetRow.key == self.key).with_for_update()
        row = session.scalar(locked)
        if row is not None:  # the bucket exists from its first call on: one statement
            return row
        self._create(session)
        row = session.scalar(locked)
        assert row is not None
        return row

    def _create(self, session: Session) -> None:
        insert_ignore(
            session,
            RateBudgetRow.__table__,
            [{"key": self.key, "level": 0.0, "updated_at": time.time(), "blocked_until": 0.0}],
            conflict_columns=["key"],
        )

    def _state(self, session: Session) -> tuple[BucketState, float | None]:
        """The bucket's state and capacity, locked; read as columns, not as an object:
        every call to the platform takes from its bucket first."""
        connection = session.connection()  # the table's statements, past the ORM's work
        key = {"bucket": self.key}
        found = connection.execute(_LOCKED_STATE, key).one_or_none()
        if found is None:
            self._create(session)
            found = connection.execute(_LOCKED_STATE, key).one()
        level, updated, blocked_until, capacity = found
        return BucketState(level, updated, blocked_until), capacity

    def _keep(self, session: Session, state: BucketState) -> None:
        session.connection().execute(
            _KEEP_STATE, {"bucket": self.key, "new_level": state.level, "now": state.updated}
        )

    def acquire(self, cost: float, priority: Priority = Priority.LIVE) -> None:
        with self._db.unit_of_work() as session:
            state, capacity = self._state(session)
            wait = take(state, self.policy, cost, priority, time.time(), capacity)
            self._keep(session, state)
        if wait > 0:
            raise RateLimited(f"the {self.policy.name} rate budget is spent", retry_after=wait)

    def reserve(self, cost: float, priority: Priority, within: float) -> float:
        """Take ``cost`` units for the first moment within ``within`` seconds that the
        bucket has room, and return the seconds until then; or raise ``RateLimited``
        with the wait, taking nothing, when that is later (or the account is blocked)."""
        with self._db.unit_of_work() as session:
            state, capacity = self._state(session)
            wait, taken = reserve(
                state, self.policy, cost, priority, time.time(), capacity, within=within
            )
            self._keep(session, state)
        if not taken:
            raise RateLimited(f"the {self.policy.name} rate budget is spent", retry_after=wait)
        return wait

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


class PatientBudget:
    """``inner``, waited for: a call a person is waiting on takes the bucket's next room
    within ``patience`` seconds and sleeps until it, rather than being refused and
    started over (which would lose the moment the bucket frees to the work of starting
    over, and let the next call's wait start late). A longer wait is refused as
    ``inner`` refuses it. The engine's workers do not wait: they reschedule the work."""

    def __init__(
        self,
        inner: SharedBudget,
        patience: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._inner = inner
        self._patience = patience
        self._clock = clock
        self._sleep = sleep

    def acquire(self, cost: float, priority: Priority = Priority.LIVE) -> None:
        deadline = self._clock() + self._patience
        while True:
            try:
                wait = self._inner.reserve(cost, priority, max(0.0, deadline - self._clock()))
            except RateLimited as exc:  # blocked by the platform, or too long a wait
                wait = exc.retry_after if exc.retry_after is not None else 1.0
                if self._clock() + wait > deadline:
                    raise
                self._sleep(wait)
                continue
            if wait > 0:
                self._sleep(wait)  # the room is ours from then on
            return

    def observe(self, used: float, capacity: float | None = None) -> None:
        self._inner.observe(used, capacity)

    def throttled(self, retry_after: float) -> None:
        self._inner.throttled(retry_after)
