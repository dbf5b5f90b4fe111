"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, a hub around it.

PostgreSQL: the server at 127.0.0.1:5432 (database ``test``) is used to create a throwaway
database per test session. With ``CI=true`` it is mandatory; elsewhere the PostgreSQL
variants skip with the reason printed when the server cannot be reached.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import tradewind.models  # noqa: F401  (every table on Base.metadata)
from tests.fakes import FakeConnector
from tradewind import migrations
from tradewind.connectors.outbound import parse_address
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.db import Base, Database, make_engine
from tradewind.hub import Hub
from tradewind.logs import to_stderr
from tradewind.settings import Settings

# As a served Tradewind does: log lines (of engine threads still running, say) go to
# stderr and never mix with a command's output that a test reads.
structlog.configure(logger_factory=to_stderr)

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_ADMIN_URL = os.environ.get(
    "TRADEWIND_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_problem() -> str | None:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL at {POSTGRES_ADMIN_URL} unreachable: {type(exc).__name__}: {exc}"
    return None


_GETADDRINFO = socket.getaddrinfo


def _loopback_names_only(host: Any, *args: Any, **kwargs: Any) -> Any:
    """No test sends traffic outside 127.0.0.0/8, a DNS query included: numbers and
    ``localhost`` resolve as usual, any other name is unknown. (A test that means a name
    hands the hub a resolver: ``Hub(..., resolver=...)``, the outbound policy's seam.)"""
    name = host.decode() if isinstance(host, bytes) else host
    if name is None or name == "localhost" or parse_address(str(name)) is not None:
        return _GETADDRINFO(host, *args, **kwargs)
    raise socket.gaierror(socket.EAI_NONAME, f"tests resolve no names ({name})")


@pytest.fixture(autouse=True)
def _no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _loopback_names_only)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    problem = _postgres_problem()
    if problem:
        if IN_CI:
            pytest.fail(f"{problem} (mandatory in CI)")
        pytest.skip(problem)
    name = f"tradewind_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("template") / "tradewind.db"
    engine = make_engine(f"sqlite:///{path}")
    migrations.upgrade(engine)
    engine.dispose()
    return path


def _truncate_all(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A clean migrated database: every test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "tradewind.db"
        shutil.copy(template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_url")
    _truncate_all(url)
    return url


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "tradewind.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # Test platforms (Fake Market, the sandboxes) listen on loopback, which the outbound
    # policy opens only with sandbox hosts allowed.
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_keys=(Fernet.generate_key().decode(),),
        allow_sandbox_hosts=True,
    )


@pytest.fixture
def hub(settings: Settings) -> Iterator[Hub]:
    with Hub(settings, registry=ConnectorRegistry.of(FakeConnector)) as built:
        yield built


@pytest.fixture
def db(hub: Hub) -> Database:
    return hub.db
