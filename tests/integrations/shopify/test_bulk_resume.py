"""A bulk backfill survives its worker being killed, for real: ``tradewind worker``
processes on PostgreSQL, SIGKILLed once while Shopify prepares the export (the export
finishes while no Tradewind runs: the next worker polls that same operation, it starts
no other) and once mid-file (the next worker reads on from the last chunk committed).
Every order is imported once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.integrations.shopify.conftest import World, database_for, make_world
from tests.integrations.shopify.test_bulk_backfill import (
    _backfill,
    _bulk_starts,
    _history,
    _run,
    _threshold,
)
from tradewind.app.present import backfill_row_out
from tradewind.core.orders.models import Order
from tradewind.sandbox.shopify import ShopifySandbox
from tradewind.sandbox.shopify.bulk import Status
from tradewind.sync.models import Backfill, BackfillState

ORDERS = 30


@pytest.fixture
def pg_world(
    sandbox: ShopifySandbox, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[World]:
    with make_world(sandbox, database_for("postgresql", request), tmp_path) as built:
        yield built


def _worker(world: World, log: Path) -> subprocess.Popen[bytes]:
    settings = world.hub.settings
    env = {
        **os.environ,
        "TRADEWIND_DATABASE_URL": str(settings.database_url),
        "TRADEWIND_SECRET_KEYS": ",".join(k.get_secret_value() for k in settings.secret_keys),
        "TRADEWIND_DATA_DIR": str(settings.data_dir),
        "TRADEWIND_BASE_URL": settings.base_url,
        "TRADEWIND_ALLOW_SANDBOX_HOSTS": "true",
        "TRADEWIND_RECONCILE_SECONDS": "0.5",
        "TRADEWIND_LEASE_SECONDS": "5",
        "TRADEWIND_EXPORT_CHUNK": "1",  # one order a transaction: a kill lands mid-file
        "TRADEWIND_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tradewind", "worker", "--threads", "1"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _until(
    world: World, run_id: int, holds: Callable[[Backfill], bool], timeout: float
) -> Backfill:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _run(world, run_id)
        if holds(found):
            return found
        time.sleep(0.01)
    raise AssertionError("the backfill never reached the expected state")


def _kill(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL


def test_a_killed_bulk_backfill_polls_the_same_export_and_imports_each_order_once(
    pg_world: World, tmp_path: Path
) -> None:
    world = pg_world
    placed = _history(world, ORDERS)
    _threshold(world, 1)
    world.settle()
    runner = world.sandbox.sandbox.bulk
    runner.hold()  # Shopify takes its time preparing the export
    workers: list[subprocess.Popen[bytes]] = []
    try:
        run_id = _backfill(world)
        workers.append(_worker(world, tmp_path / "worker-a.log"))
        started = _until(world, run_id, lambda run: run.export_id is not None, 120)
        _kill(workers[-1])

        # the export finishes while no worker runs
        assert started.export_id is not None
        op = int(started.export_id.rsplit("/", 1)[1])
        runner.step(2)
        assert runner.wait_for(op, Status.COMPLETED) is Status.COMPLETED

        workers.append(_worker(world, tmp_path / "worker-b.log"))
        midway = _until(
            world,
            run_id,
            lambda run: run.export_size is not None and 0 < run.export_offset < run.export_size,
            120,
        )
        _kill(workers[-1])
        left = _run(world, run_id)  # what the killed worker had committed
        assert left.state is BackfillState.RUNNING and left.export_size is not None
        assert midway.export_offset <= left.export_offset < left.export_size
        fraction = midway.read_fraction
        assert fraction is not None and 0 < fraction < 1
        assert backfill_row_out(midway).progress == fraction

        workers.append(_worker(world, tmp_path / "worker-c.log"))
        done = _until(world, run_id, lambda run: run.state is not BackfillState.RUNNING, 180)
    finally:
        runner.release()
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=30)

    assert done.state is BackfillState.DONE
    assert done.export_id == started.export_id
    assert len(_bulk_starts(world)) == 1  # one export, polled across three workers
    assert done.export_offset == done.export_size
    # each chunk and its read position commit together: none imported twice
    assert (done.imported, done.unchanged, done.skipped) == (ORDERS, 0, 0)
    ids = [str(order["id"]) for order in placed]
    with world.hub.db.read() as session:
        counts = dict(
            session.execute(
                select(Order.external_id, func.count())
                .where(Order.plugin_id == world.plugin_id)
                .group_by(Order.external_id)
            ).all()
        )
    assert {external: counts.get(external) for external in ids} == dict.fromkeys(ids, 1)
