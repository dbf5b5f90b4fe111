"""What Tradewind writes to disk is for its user alone (#10 item 9): the data directory
is 0700, the embedded database, its queue, the key file and SQLite's -wal and -shm files
beside them are 0600, whatever the process umask lets through."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import FakeConnector
from tradewind import migrations
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.hub import Hub
from tradewind.settings import Settings
from tradewind.sync.worker import make_huey

PRIVATE_FILES = {
    "tradewind.db",
    "tradewind.db-wal",
    "tradewind.db-shm",
    "queue.db",
    "queue.db-wal",
    "queue.db-shm",
    "secret.keys",
}


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that hides nothing (0644 files would then be 0666): the modes must not
    depend on the operator's umask."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _modes_while_running(data: Path) -> dict[str, int]:
    settings = Settings(data_dir=data, database_url=None, queue_url=None, secret_keys=())
    with Hub(settings, registry=ConnectorRegistry.of(FakeConnector)) as hub:
        migrations.upgrade(hub.db.engine)
        queue = make_huey(settings.resolved_queue_url)
        queue.storage.enqueue(b"work", 0)
        # -wal and -shm exist while a connection is open: look now.
        return {path.name: _mode(path) for path in data.iterdir()}


@pytest.mark.usefixtures("open_umask")
def test_a_new_data_directory_and_everything_in_it_are_private(tmp_path: Path) -> None:
    data = tmp_path / "var"
    modes = _modes_while_running(data)
    assert set(modes) >= PRIVATE_FILES
    assert {name: oct(mode) for name, mode in modes.items() if mode != 0o600} == {}
    assert oct(_mode(data)) == oct(0o700)


@pytest.mark.usefixtures("open_umask")
def test_an_existing_data_directory_and_database_are_made_private(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir(mode=0o755)
    (data / "tradewind.db").touch(mode=0o644)
    data.chmod(0o755)
    (data / "tradewind.db").chmod(0o644)
    modes = _modes_while_running(data)
    assert oct(_mode(data)) == oct(0o700)
    assert oct(modes["tradewind.db"]) == oct(0o600)
    assert oct(modes["tradewind.db-wal"]) == oct(0o600)
