"""A claimed batch of work and the only ways its rows are settled.

Every write a handler makes goes through one of these, so recording the platform calls
made, completing rows, renewing the claim's lease and the retry of a transaction that
lost a deadlock are written once, here, and never in a handler:

* ``finish`` — write results and complete rows in one transaction;
* ``checkpoint`` — write a page and save where a long read got to, keeping the claim;
* ``record`` — write something that completes nothing (a courtesy call's calls);
* ``reject`` — close one row for good with its reason and a notification;
* ``settle`` / ``fail`` — the drainer's failure policy: back to pending, or closed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy.orm import Session

from tradewind.connectors.base import Connector
from tradewind.connectors.errors import Rejected
from tradewind.connectors.http import Call
from tradewind.core.plugins.models import Plugin
from tradewind.hub import Hub
from tradewind.monitoring import notifications
from tradewind.monitoring.executions import record_calls
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync import ledger
from tradewind.sync.models import SyncWork
from tradewind.sync.runtime import CallBuffer

T = TypeVar("T")
P = TypeVar("P")


@dataclass
class Job:
    """One claimed batch of work for one plugin, with a live connector."""

    hub: Hub
    plugin: Plugin
    connector: Connector
    calls: CallBuffer
    token: str
    rows: list[SyncWork]
    results: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # The first row as claimed: a batch is one kind, and the policy reads its counters.
        self.first = self.rows[0]
        self.kind = self.first.kind

    @property
    def ids(self) -> list[int]:
        return [row.id for row in self.rows]

    @property
    def row(self) -> SyncWork:
        return self.rows[0] if self.rows else self.first

    def capability(self, protocol: type[P]) -> P:
        if not isinstance(self.connector, protocol):
            raise Rejected(
                f"the {self.plugin.connector} connector cannot {protocol.__name__} "
                f"(work {self.row.kind.value})"
            )
        return self.connector

    # ------------------------------------------------------------------ what handlers do

    def finish(
        self, write: Callable[[Session], None] | None = None, rows: list[SyncWork] | None = None
    ) -> None:
        """Write results and complete ``rows`` (default: all still held) atomically, with
        the calls made. Completed rows leave the job: if a later row fails, the failure
        policy applies to what is left only. A transaction that loses a deadlock is run
        again (``write`` must only touch the database)."""
        done = list(self.rows if rows is None else rows)
        if not done:
            return
        calls = self.calls.take()
        reported = len(self.results)

        def commit(session: Session) -> None:
            del self.results[reported:]  # a run that was rolled back reported nothing
            if write is not None:
                write(session)
            record_calls(session, self.plugin.id, calls, done[0].id)
            ledger.complete(session, [row.id for row in done], self.token)

        self.hub.db.transaction(commit)
        self.rows = [row for row in self.rows if row not in done]

    def checkpoint(self, write: Callable[[Session], None], payload: Mapping[str, Any]) -> None:
        """Write one page of a long read and save where it got to (``payload`` on the work
        row) together, renewing the claim: a crash resumes from the next page."""
        with self.hub.db.unit_of_work() as session:
            write(session)
            row = session.get(SyncWork, self.row.id)
            if row is not None:
                row.payload = dict(payload)
            ledger.renew(session, self.token, seconds=self.hub.settings.lease_seconds)
            record_calls(session, self.plugin.id, self.calls.take(), self.row.id)

    def record(self, write: Callable[[Session], T], calls: Sequence[Call] | None = None) -> T:
        """Write something that completes no row, with the calls made for it (default:
        those made since the last write); run again on a deadlock like ``finish``."""
        taken = self.calls.take() if calls is None else list(calls)
        work_id = self.row.id if self.rows else None

        def commit(session: Session) -> T:
            written = write(session)
            record_calls(session, self.plugin.id, taken, work_id)
            return written

        return self.hub.db.transaction(commit)

    def reject(self, row: SyncWork, reason: str) -> None:
        """Close one row for good with its reason and a notification; the rest go on."""
        self._close([row], reason)
        self.rows = [held for held in self.rows if held is not row]

    # --------------------------------------------------------- what the failure policy does

    def settle(
        self, *, delay: float, error: str, count: bool, throttled: bool | None = None
    ) -> None:
        """Put what is still held back to pending, due in ``delay`` seconds."""
        if not self.rows:
            return
        calls = self.calls.take()
        ids = self.ids
        work_id = self.row.id

        def commit(session: Session) -> None:
            record_calls(session, self.plugin.id, calls, work_id)
            ledger.retry_later(
                session,
                ids,
                self.token,
                delay=delay,
                error=error,
                count_attempt=count,
                throttled=throttled,
            )

        self.hub.db.transaction(commit)

    def fail(self, reason: str) -> None:
        """Close everything still held for good, with one notification."""
        if self.rows:
            self._close(self.rows, reason)
            self.rows = []

    def _close(self, rows: list[SyncWork], reason: str) -> None:
        with self.hub.db.unit_of_work() as session:
            record_calls(session, self.plugin.id, self.calls.take(), rows[0].id)
            ledger.fail(session, [row.id for row in rows], self.token, error=reason)
            subject = f"{rows[0].kind.value} {rows[0].key}".strip()
            notifications.raise_notification(
                session,
                NotificationKind.RECORD_REJECTED,
                plugin_id=self.plugin.id,
                subject=subject,
                message=f"{self.plugin.name} refused {subject}: {reason}",
            )


def unreadable(exc: ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()
    )
    return f"the platform sent a record Tradewind cannot read: {problems}"
