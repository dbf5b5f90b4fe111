"""The shapes of a handler. Each kind of work is one object that reads what it needs and
talks to the connector outside any transaction (``fetch``), then writes the answer inside
the one transaction that completes its rows (``apply``).

A handler raises the connector's typed errors; the drainer applies the failure policy.
It never records calls, completes rows or renews its claim itself: the batch does
(``sync/batch.py``).

* ``Single`` — one fetch and one apply for the whole batch.
* ``PerRow`` — one platform call per row; a row the platform refuses is closed on its
  own, and when the platform fails mid-batch what was already fetched is applied first.
* ``Paged`` — a long read kept in a run (a backfill, a product sync): one page per claim,
  the next page queued as new work so that live work runs in between.
* ``Walk`` — a window read page by page within one claim (the reconciliation polls),
  each page written with the next page's cursor on the work row.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import ValidationError
from sqlalchemy.orm import Session

from tradewind.connectors.errors import ConnectorError, Rejected
from tradewind.connectors.records import Page
from tradewind.db import utcnow
from tradewind.sync import ledger
from tradewind.sync.batch import Job, unreadable
from tradewind.sync.models import BackfillState, PagedRun, SyncWork, WorkKind

C = TypeVar("C")
F = TypeVar("F")
T = TypeVar("T")
Q = TypeVar("Q")
R = TypeVar("R")
W = TypeVar("W")


class Handler(ABC):
    """One kind of work."""

    @abstractmethod
    def run(self, job: Job) -> None:
        """Do the batch's work and complete every row it holds (or raise)."""


class Single(Handler, Generic[F]):
    """``fetch`` outside a transaction, ``apply`` inside the one that completes the
    batch, then ``after``: what may only happen once the rows are done."""

    def run(self, job: Job) -> None:
        fetched = self.fetch(job)
        job.finish(lambda session: self.apply(session, job, fetched))
        self.after(job, fetched)

    @abstractmethod
    def fetch(self, job: Job) -> F: ...

    def apply(self, session: Session, job: Job, fetched: F) -> None:
        """Write what ``fetch`` brought back (default: nothing to write)."""

    def after(self, job: Job, fetched: F) -> None:
        """Run once the rows are complete (default: nothing)."""


class PerRow(Handler, Generic[C, T]):
    """One platform call per row (``fetch_row``), with what ``prepare`` set up for the
    batch (the connector's capability, say, or the batch's rows read at once)."""

    def run(self, job: Job) -> None:
        context = self.prepare(job)
        fetched: list[tuple[SyncWork, T]] = []
        try:
            for row in list(job.rows):
                try:
                    fetched.append((row, self.fetch_row(job, context, row)))
                except Rejected as exc:
                    job.reject(row, str(exc))
                except ValidationError as exc:
                    job.reject(row, unreadable(exc))
        except ConnectorError:
            # What was already read (the orders of a batch of re-reads) is written before
            # the policy sees the failure: it is not lost to a later row's outage.
            self._finish(job, fetched)
            raise
        self._finish(job, fetched)
        self.after(job, fetched)

    @abstractmethod
    def prepare(self, job: Job) -> C: ...

    @abstractmethod
    def fetch_row(self, job: Job, context: C, row: SyncWork) -> T:
        """Outside a transaction: what the row needs from the platform."""

    @abstractmethod
    def apply(self, session: Session, job: Job, fetched: list[tuple[SyncWork, T]]) -> None:
        """Inside the transaction that completes the fetched rows."""

    def after(self, job: Job, fetched: list[tuple[SyncWork, T]]) -> None:
        """Run once the rows are complete (default: nothing)."""

    def _finish(self, job: Job, fetched: list[tuple[SyncWork, T]]) -> None:
        job.finish(
            lambda session: self.apply(session, job, fetched), rows=[row for row, _ in fetched]
        )


RunT = TypeVar("RunT", bound=PagedRun)


class Paged(Single["tuple[int, Page[R]] | None"], Generic[RunT, Q, R]):
    """A run (its id is the work key) read one page per claim. Stopping the run (its
    state is no longer running) stops its pages: the next claim finds it and does
    nothing."""

    kind: ClassVar[WorkKind]
    run_model: type[RunT]

    def fetch(self, job: Job) -> tuple[int, Page[R]] | None:
        run_id = int(job.row.key)
        with job.hub.db.read() as session:
            run = self._running(session, run_id)
            if run is None:
                return None
            query = self.query(run)
        return run_id, self.read_page(job, run_id, query)

    def apply(self, session: Session, job: Job, fetched: tuple[int, Page[R]] | None) -> None:
        if fetched is None:
            return
        run_id, page = fetched
        run = self._running(session, run_id)
        if run is None:
            return
        self.apply_page(session, job, run, page)
        run.pages += 1
        run.cursor = page.next_cursor
        if page.next_cursor is None:
            run.state = BackfillState.DONE
            run.finished_at = utcnow()
            self.done(session, job, run)
        else:
            ledger.enqueue(session, job.plugin.id, self.kind, str(run_id))

    def _running(self, session: Session, run_id: int) -> RunT | None:
        run: RunT | None = session.get(self.run_model, run_id)
        return run if run is not None and run.state is BackfillState.RUNNING else None

    @abstractmethod
    def query(self, run: RunT) -> Q:
        """What ``read_page`` needs of the run (its cursor among it), read while the
        run's session is open."""

    @abstractmethod
    def read_page(self, job: Job, run_id: int, query: Q) -> Page[R]: ...

    @abstractmethod
    def apply_page(self, session: Session, job: Job, run: RunT, page: Page[R]) -> None: ...

    def done(self, session: Session, job: Job, run: RunT) -> None:
        """After the last page (default: nothing more)."""


class Walk(Handler, Generic[W, R]):
    """A window read page by page within one claim. Every page but the last is written
    with the cursor of the next (``Job.checkpoint``), so a crash resumes mid-window; the
    last is written with ``done`` as the batch completes."""

    def run(self, job: Job) -> None:
        saved = dict(job.row.payload)
        window = self.window(job, saved)
        cursor: str | None = saved.get("cursor")
        while True:
            page = self.read_page(job, window, cursor)
            cursor = page.next_cursor
            if cursor is None:
                break
            job.checkpoint(
                self._writer(job, window, page), {**self.saved(window), "cursor": cursor}
            )

        def last(session: Session) -> None:
            self.apply_page(session, job, window, page)
            self.done(session, job, window)

        job.finish(last)

    def _writer(self, job: Job, window: W, page: Page[R]) -> Callable[[Session], None]:
        return lambda session: self.apply_page(session, job, window, page)

    @abstractmethod
    def window(self, job: Job, saved: Mapping[str, Any]) -> W:
        """What to read: the window a crashed claim saved (``saved``), or a new one."""

    @abstractmethod
    def saved(self, window: W) -> dict[str, Any]:
        """The window as kept on the work row between pages."""

    @abstractmethod
    def read_page(self, job: Job, window: W, cursor: str | None) -> Page[R]: ...

    @abstractmethod
    def apply_page(self, session: Session, job: Job, window: W, page: Page[R]) -> None: ...

    @abstractmethod
    def done(self, session: Session, job: Job, window: W) -> None:
        """After the last page, in the transaction that completes the work."""
