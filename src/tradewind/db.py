"""The database: engine set-up for SQLite and PostgreSQL, column types, and the unit of work.

SQLite is configured the way it was measured to be safe with several processes
(shared/reference/stack.md §4.2): WAL, a busy timeout, and ``BEGIN IMMEDIATE`` for
write transactions. Without ``BEGIN IMMEDIATE`` concurrent read-modify-write
transactions silently lose updates. Read-only sessions use a deferred ``BEGIN`` so
readers never queue behind writers.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import structlog
from sqlalchemy import (
    DateTime,
    Engine,
    Enum,
    MetaData,
    Numeric,
    create_engine,
    event,
)
from sqlalchemy.engine import Connection, ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from tradewind.events import EventBus, take_pending

log = structlog.get_logger(__name__)

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC datetime is required")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Money(TypeDecorator[Decimal]):
    """Exact decimal amounts; 4 places covers every ISO 4217 currency's minor unit."""

    impl = Numeric(18, 4)
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value)).quantize(Decimal("0.0001"))


def str_enum(enum_class: type[StrEnum]) -> Enum:
    """A portable enum column: VARCHAR holding the member's value (no PostgreSQL ENUM type,
    so adding a member is not a migration)."""
    return Enum(
        enum_class,
        native_enum=False,
        length=40,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Timestamped:
    """``created_at`` and ``updated_at`` maintained by the ORM."""

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


_READ_ONLY = "tradewind_read_only"


def private_directory(path: Path) -> None:
    """Create ``path`` (and its parents) if missing, and keep it 0700: the data directory
    holds the embedded database, the queue and the key file, for this user alone."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)


def private_file(path: Path) -> None:
    """Create ``path`` empty if missing (a missing directory 0700), and keep it 0600.
    SQLite gives a database's -wal and -shm files the database file's mode, so making the
    file first (an empty file is an empty database) keeps them private too."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with Tradewind's transaction rules applied."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    if parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 30)
    return create_engine(url, **kwargs)


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("timeout", 30)
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        private_file(Path(database))  # before SQLite creates it (and its -wal, -shm) 0644
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(_READ_ONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached or used right now (down,
    restarting, refusing or out of connections, SQLite locked past its busy timeout)
    rather than that a statement was wrong: the answer to the caller is "try again
    later" (503), not a 500. A deadlock or serialization failure is not an outage."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    state = getattr(exc.orig, "sqlstate", None) or ""
    return not state.startswith("40")


class Availability:
    """Whether this process reaches its database, logged as a change of state — one line
    when it is lost, one when it is back — never once per failing request (DESIGN: log a
    state change, not every failure). Fed by the engine's own events, so every path
    (API, UI, webhooks, workers) tells the same story."""

    def __init__(self, url: str) -> None:
        self.where = make_url(url).render_as_string(hide_password=True)
        self._lock = threading.Lock()
        self._lost_at: float | None = None

    @property
    def up(self) -> bool:
        return self._lost_at is None

    def lost(self, exc: BaseException) -> None:
        with self._lock:
            if self._lost_at is not None:
                return
            self._lost_at = time.monotonic()
        cause = getattr(exc, "orig", None) or exc
        log.error("database unavailable", database=self.where, error=str(cause).strip()[:300])

    def back(self) -> None:
        with self._lock:
            lost_at, self._lost_at = self._lost_at, None
        if lost_at is not None:
            lost_for = round(time.monotonic() - lost_at, 1)
            log.warning("database back", database=self.where, unavailable_seconds=lost_for)


# SQLSTATEs of a transaction PostgreSQL aborted so that another could go on: a deadlock,
# a serialization failure. Nothing was wrong with it; run again, it succeeds.
_CONFLICTS = frozenset({"40P01", "40001"})
CONFLICT_ATTEMPTS = 4


def conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is a deadlock or serialization failure: the transaction is to be
    run again at once — it is neither a bad statement nor an outage (of the database or
    of a platform)."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in _CONFLICTS


_LAST_WRITES = "tradewind.last_writes"


def write_last(session: Session, name: str, write: Callable[[Session], None]) -> None:
    """Have ``write`` run once, just before the unit of work that owns ``session``
    commits, after every before-commit subscriber: rows that many code paths add to one
    transaction (the ledger's work) are written together, in one order, so concurrent
    transactions never lock them in opposite orders."""
    session.info.setdefault(_LAST_WRITES, {})[name] = write


def run_last_writes(session: Session) -> None:
    """Run the writes ``write_last`` deferred so far (also called by code that must read
    them back in the same transaction)."""
    while writes := session.info.pop(_LAST_WRITES, None):
        for write in writes.values():
            write(session)


class FairLock:
    """A reentrant lock handed over in the order it was asked for. ``threading.RLock`` is
    not: a thread that releases it and asks again at once (a loop of transactions) mostly
    gets it back before a waiting thread wakes, and the webhook senders' short
    transactions waited seconds behind a producer's stream of long ones."""

    __slots__ = ("_depth", "_mutex", "_owner", "_waiting")

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self._waiting: collections.deque[tuple[int, threading.Lock]] = collections.deque()

    @property
    def waiting(self) -> int:
        """How many threads wait for it."""
        with self._mutex:
            return len(self._waiting)

    def __enter__(self) -> FairLock:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._depth += 1
                return self
            if self._owner is None:
                self._owner, self._depth = me, 1
                return self
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append((me, turn))
        turn.acquire()  # released by the holder before us, which made us the owner
        return self

    def __exit__(self, *exc: object) -> None:
        with self._mutex:
            assert self._owner == threading.get_ident(), "released by a thread not holding it"
            self._depth -= 1
            if self._depth:
                return
            if not self._waiting:
                self._owner = None
                return
            # Owned by the next in line from now on, before it even wakes: nobody cuts in.
            self._owner, turn = self._waiting.popleft()
            self._depth = 1
        turn.release()


class Database:
    """One database: its engine, sessions and units of work."""

    def __init__(self, url: str, *, bus: EventBus | None = None, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.bus = bus or EventBus()
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(
            self.engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False
        )
        # SQLite has one writer. Threads of this process queue for it on a lock (first
        # come, first served) instead of in SQLite's busy handler, which sleeps in growing
        # steps and turned a burst of webhooks into second-long waits. Other processes
        # still meet the busy timeout.
        self._writer: FairLock | None = FairLock() if self.engine.dialect.name == "sqlite" else None
        self.availability = Availability(url)
        event.listen(self.engine, "handle_error", self._on_error)
        # A connection handed out (after PostgreSQL's pre-ping) means the database is back.
        event.listen(self.engine, "checkout", lambda *_: self.availability.back())

    def _on_error(self, context: ExceptionContext) -> None:
        failed = context.sqlalchemy_exception
        if not context.is_pre_ping and failed is not None and unavailable(failed):
            self.availability.lost(failed)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A write transaction. Events recorded in it reach subscribers after commit."""
        with self._writer if self._writer is not None else contextlib.nullcontext():
            session = self._sessions()
            try:
                yield session
                session.flush()
                self.bus.run_before_commit(session)
                run_last_writes(session)
                session.commit()
                committed = take_pending(session)
            except BaseException:
                session.rollback()
                take_pending(session)
                raise
            finally:
                session.close()
        self.bus.publish(committed)

    def transaction(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a unit of work and return what it returns. When PostgreSQL
        aborts the transaction for a deadlock or a serialization failure, ``work`` runs
        again at once in a fresh one (a few times; then the conflict is raised). ``work``
        must only touch the database: it may run more than once."""
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                with self.unit_of_work() as session:
                    return work(session)
            except DBAPIError as exc:
                if not conflict(exc) or attempt == CONFLICT_ATTEMPTS:
                    raise
                log.warning("transaction retried", reason=str(exc.orig).splitlines()[0])
                time.sleep(random.uniform(0, 0.01 * attempt))  # de-synchronise the two
        raise AssertionError("unreachable")

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (deferred transaction, never commits)."""
        session = self._read_sessions()
        try:
            yield session
        finally:
            # close() ends the transaction without expiring what was loaded, so objects
            # read here stay usable (detached) afterwards.
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def keep(session: Session, objects: Iterable[object]) -> None:
    """Hold ``objects`` in ``session`` until it closes. Its identity map keeps only weak
    references: objects a unit of work made in bulk and let go of would be read again,
    one query each, by the subscribers that look them up by id before commit."""
    session.info.setdefault("tradewind.kept", []).extend(objects)


def insert_ignore(
    session: Session,
    table: Any,
    rows: list[dict[str, Any]],
    *,
    conflict_columns: list[str],
    where: Any = None,
) -> int:
    """``INSERT … ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL alike; returns how many
    rows were inserted."""
    if not rows:
        return 0
    statement = dialect_insert(session)(table).values(rows)
    # RETURNING counts what was inserted on both backends (psycopg reports rowcount -1).
    result = session.execute(
        statement.on_conflict_do_nothing(
            index_elements=conflict_columns, index_where=where
        ).returning(table.c[conflict_columns[0]])
    )
    return len(result.all())


_PREPARED: dict[tuple[str, str], Any] = {}


def prepared(session: Session, name: str, build: Callable[[Any], Any]) -> Any:
    """The statement ``build(insert)`` makes, built once per (name, dialect) and reused:
    compiling a large upsert costs more than running it, and some run per webhook or per
    pushed batch. ``insert`` is the dialect's construct (``dialect_insert``)."""
    key = (name, session.get_bind().dialect.name)
    statement = _PREPARED.get(key)
    if statement is None:
        statement = _PREPARED[key] = build(dialect_insert(session))
    return statement


def dialect_insert(session: Session) -> Any:
    """The dialect's ``insert`` construct (it has ``on_conflict_do_…``) for ``session``."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert
