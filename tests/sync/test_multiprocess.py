"""The scale-out path for real: PostgreSQL + Redis + two ``tradewind worker`` processes,
one killed with SIGKILL in the middle of a batch. Every unit of work completes exactly
once: every order is imported once, every ledger row ends done, nothing fails."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from tests.conftest import IN_CI, _truncate_all
from tests.fakeplatform import TOKEN, WEBHOOK_SECRET, FakeMarketServer
from tests.fakes import FakeConnector
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.core.channels import service as channels
from tradewind.core.orders.models import Order, OrderActivity
from tradewind.db import utcnow
from tradewind.hub import Hub
from tradewind.settings import Settings
from tradewind.sync import ledger
from tradewind.sync.models import PluginLease, SyncWork, WorkKind, WorkState
from tradewind.vocabulary import Toggle

REPO = Path(__file__).resolve().parents[2]
PLUGINS = 3
ORDERS_PER_PLUGIN = 60


def _redis_problem() -> str | None:
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2).ping()
    except Exception as exc:
        return f"Redis at 127.0.0.1:6379 unreachable: {exc}"
    return None


def _register_fake_connector(root: Path) -> Path:
    """Make ``fake`` discoverable by entry points in child processes, the way a third-party
    connector distribution would be."""
    dist = root / "tradewind_fake_connector-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: tradewind-fake-connector\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text(
        "[tradewind.connectors]\nfake = tests.fakes:FakeConnector\n"
    )
    return root


@pytest.mark.slow
def test_two_workers_one_killed_every_unit_completes_exactly_once(
    postgres_url: str, tmp_path: Path
) -> None:
    problem = _redis_problem()
    if problem:
        if IN_CI:
            pytest.fail(f"{problem} (mandatory in CI)")
        pytest.skip(problem)
    _truncate_all(postgres_url)
    keys = Fernet.generate_key().decode()
    queue = f"redis://127.0.0.1:6379/0?name=tw-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "PYTHONPATH": f"{_register_fake_connector(tmp_path / 'dist')}{os.pathsep}{REPO}",
        "TRADEWIND_DATABASE_URL": postgres_url,
        "TRADEWIND_QUEUE_URL": queue,
        "TRADEWIND_SECRET_KEYS": keys,
        "TRADEWIND_DATA_DIR": str(tmp_path / "data"),
        "TRADEWIND_DRAIN_SECONDS": "2",
        "TRADEWIND_LEASE_SECONDS": "5",
        "TRADEWIND_RECONCILE_SECONDS": "0.5",
        "TRADEWIND_LOG_LEVEL": "WARNING",
        "TRADEWIND_ALLOW_SANDBOX_HOSTS": "true",  # Fake Market listens on loopback
    }
    settings = Settings(
        database_url=postgres_url,
        queue_url=queue,
        secret_keys=(keys,),
        data_dir=tmp_path / "data",
        allow_sandbox_hosts=True,
    )
    markets = [FakeMarketServer() for _ in range(PLUGINS)]  # one store per plugin
    with (
        contextlib.ExitStack() as stack,
        Hub(settings, registry=ConnectorRegistry.of(FakeConnector)) as hub,
    ):
        for market in markets:
            stack.enter_context(market)
            market.market.latency = 0.1  # a running row is easy to catch mid-flight
        with hub.db.unit_of_work() as session:
            for number, market in enumerate(markets):
                channel = channels.create_channel(session, f"channel {number}")
                plugin = channels.add_plugin(
                    session,
                    hub.vault,
                    FakeConnector.info,
                    name=f"shop-{number}",
                    config={
                        "shop": f"shop-{number}",
                        "api_token": TOKEN,
                        "webhook_secret": WEBHOOK_SECRET,
                        "base_url": market.url,
                    },
                )
                channels.attach(session, plugin.id, channel.id)
                channels.set_toggle(
                    session, FakeConnector.info, plugin.id, Toggle.IMPORT_ORDERS, True
                )
                activated = channels.activate(session, plugin.id)
                activated.enabled_at = utcnow() - dt.timedelta(days=1)
                keys_ = []
                for order in range(ORDERS_PER_PLUGIN):
                    external = f"p{plugin.id}-{order:03d}"
                    market.market.add_order(external)
                    keys_.append(external)
                ledger.enqueue_many(session, plugin.id, WorkKind.IMPORT_ORDER, keys_)
        command = [sys.executable, "-m", "tradewind", "worker", "--threads", "3"]
        workers = [
            subprocess.Popen(
                command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            for _ in range(2)
        ]
        try:
            victim = _kill_one_mid_batch(hub, workers)
            total = PLUGINS * ORDERS_PER_PLUGIN
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                with hub.db.read() as session:
                    left = session.scalar(
                        select(func.count())
                        .select_from(SyncWork)
                        .where(SyncWork.state != WorkState.DONE)
                    )
                if left == 0:
                    break
                time.sleep(0.25)
            survivor = next(w for w in workers if w is not victim)
            assert survivor.poll() is None, (
                survivor.stderr.read().decode() if survivor.stderr else ""
            )
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
            for worker in workers:
                worker.wait(timeout=30)
        with hub.db.read() as session:
            states = dict(
                session.execute(select(SyncWork.state, func.count()).group_by(SyncWork.state)).all()
            )
            stuck = session.execute(
                select(
                    SyncWork.key,
                    SyncWork.state,
                    SyncWork.attempts,
                    SyncWork.not_before,
                    SyncWork.last_error,
                ).where(SyncWork.state != WorkState.DONE)
            ).all()
            assert list(states) == [WorkState.DONE], stuck  # nothing pending, failed or stuck
            imports = session.scalar(
                select(func.count())
                .select_from(SyncWork)
                .where(SyncWork.kind == WorkKind.IMPORT_ORDER)
            )
            assert imports == total
            assert session.scalar(select(func.count()).select_from(Order)) == total
            created = session.scalar(
                select(func.count())
                .select_from(OrderActivity)
                .where(OrderActivity.kind == "created")
            )
            assert created == total
            retried = session.scalars(select(SyncWork).where(SyncWork.attempts > 0)).all()
            assert retried, "the killed worker held no work: the kill proved nothing"
            assert all("stopped" in row.last_error for row in retried)
        assert victim.returncode == -signal.SIGKILL


def _kill_one_mid_batch(
    hub: Hub, workers: list[subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes]:
    """SIGKILL the worker that holds a plugin while one of that plugin's rows is running."""
    pids = {worker.pid: worker for worker in workers}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with hub.db.read() as session:
            imported = session.scalar(select(func.count()).select_from(Order)) or 0
            holders = session.scalars(
                select(PluginLease.holder)
                .join(SyncWork, SyncWork.plugin_id == PluginLease.plugin_id)
                .where(
                    PluginLease.lease_until > utcnow(),
                    SyncWork.state == WorkState.RUNNING,
                )
            ).all()
        for holder in holders:
            pid = int(holder.split(":")[1]) if holder.count(":") >= 2 else 0
            if pid in pids and imported >= 20:
                os.kill(pid, signal.SIGKILL)
                pids[pid].wait(timeout=10)
                return pids[pid]
        for worker in workers:
            if worker.poll() is not None:
                raise AssertionError(worker.stderr.read().decode() if worker.stderr else "died")
        time.sleep(0.02)
    raise AssertionError("no worker ever held work to kill")
