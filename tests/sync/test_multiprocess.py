"""The scale-out path for real: PostgreSQL + Redis + two ``tradewind worker`` processes,
one killed with SIGKILL in the middle of a batch. Every unit of work completes exactly
once: every order is imported once, every ledger row ends done, nothing fails."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tests.conftest import IN_CI, _truncate_all
from tests.fakeplatform import TOKEN, WEBHOOK_SECRET, FakeMarketServer
from tests.fakes import FakeConnector
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.channels import service as channels
from tradewind.core.inventory import service as inventory
from tradewind.core.links import service as links
from tradewind.core.orders.models import Order, OrderActivity
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin
from tradewind.db import utcnow
from tradewind.hub import Hub
from tradewind.settings import Settings
from tradewind.sync import ledger
from tradewind.sync.inbox import Inbox
from tradewind.sync.models import PluginLease, SyncWork, WorkKind, WorkState
from tradewind.sync.worker import announce_through_queue
from tradewind.vocabulary import StockMode, Toggle

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


def _environment(
    postgres_url: str, tmp_path: Path, **settings: str
) -> tuple[dict[str, str], Settings]:
    """The workers' environment (``settings`` as ``TRADEWIND_*`` overrides) and the test's
    own settings, on a clean PostgreSQL database and a Redis queue of their own."""
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
        "TRADEWIND_RECONCILE_SECONDS": "0.5",
        "TRADEWIND_ALLOW_SANDBOX_HOSTS": "true",  # Fake Market listens on loopback
        **{f"TRADEWIND_{name.upper()}": value for name, value in settings.items()},
    }
    config = Settings(
        database_url=postgres_url,
        queue_url=queue,
        secret_keys=(keys,),
        data_dir=tmp_path / "data",
        allow_sandbox_hosts=True,
    )
    return env, config


def _market_plugin(session: Session, hub: Hub, number: int, market: FakeMarketServer) -> Plugin:
    """Plugin ``shop-{number}`` on a channel of its own, importing orders from ``market``."""
    channel = channels.create_channel(session, f"channel {number}")
    plugin = plugins.add_plugin(
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
    plugins.attach(session, plugin.id, channel.id)
    plugins.set_toggle(session, FakeConnector.info, plugin.id, Toggle.IMPORT_ORDERS, True)
    return plugin


@pytest.mark.slow
def test_two_workers_one_killed_every_unit_completes_exactly_once(
    postgres_url: str, tmp_path: Path
) -> None:
    env, settings = _environment(
        postgres_url, tmp_path, drain_seconds="2", lease_seconds="5", log_level="WARNING"
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
                plugin = _market_plugin(session, hub, number, market)
                activated = plugins.activate(session, plugin.id)
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


# ------------------------------------------------------------------ single flight (#10)

SKUS = ("MUG", "PLATE", "BOWL", "CUP", "JUG", "TRAY")
STREAM_PLUGINS = 3
STREAM_ORDERS = 50  # per plugin


@dataclass
class Cluster:
    """PostgreSQL + Redis + ``tradewind worker`` processes over Fake Market stores that
    share one catalog and one warehouse (so imports of different plugins lock the same
    stock rows). Workers log JSON at debug level to files: each batch is a line."""

    hub: Hub
    env: dict[str, str]
    root: Path
    markets: list[FakeMarketServer]
    plugins: list[int]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_worker(self, threads: int) -> subprocess.Popen[bytes]:
        log = (self.root / f"worker-{len(self.workers)}.log").open("wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "tradewind", "worker", "--threads", str(threads)],
            env=self.env,
            cwd=self.root,
            stdout=log,  # structlog writes its JSON lines here
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.workers.append(worker)
        return worker

    def stop_workers(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in self.workers:
            worker.wait(timeout=60)

    def logs(self) -> list[dict[str, Any]]:
        lines: list[dict[str, Any]] = []
        for path in sorted(self.root.glob("worker-*.log")):
            for raw in path.read_text(errors="replace").splitlines():
                with contextlib.suppress(ValueError):
                    parsed = json.loads(raw)
                    if isinstance(parsed, dict):
                        lines.append(parsed)
        return lines

    def batches(self) -> list[dict[str, Any]]:
        return [line for line in self.logs() if line.get("event") == "batch ran"]

    def place(self, index: int, number: int, rng: random.Random) -> None:
        """An order of two or three products (in a random order: imports that lock
        stock order by order would lock the same rows in opposite orders), announced by
        a webhook through the intake, as the web process would store it."""
        market = self.markets[index].market
        external = f"p{self.plugins[index]}-{number:03d}"
        lines = [
            {"id": f"{external}-{n}", "sku": sku, "quantity": 1, "unit_price": "5.00", "title": sku}
            for n, sku in enumerate(rng.sample(SKUS, rng.choice((2, 3))))
        ]
        market.add_order(external, lines=lines)
        headers, body = market.webhook(external, delivery=f"d-{external}")
        answer = self.inbox.accept(self.plugins[index], "orders/create", headers, body)
        assert answer.status == 200, answer

    @functools.cached_property
    def inbox(self) -> Inbox:
        return Inbox(self.hub)

    def settled(self, orders: int) -> bool:
        with self.hub.db.read() as session:
            imported = session.scalar(select(func.count()).select_from(Order))
            open_work = session.scalar(
                select(func.count())
                .select_from(SyncWork)
                .where(SyncWork.state.in_([WorkState.PENDING, WorkState.RUNNING]))
            )
        return imported == orders and open_work == 0

    def check_alive(self) -> None:
        for worker in self.workers:
            code = worker.poll()
            if code is not None and code != -signal.SIGKILL:
                raise AssertionError(f"a worker exited with {code}: {self.logs()[-5:]}")


@contextlib.contextmanager
def _cluster(
    postgres_url: str, tmp_path: Path, *, stores: int, **settings: str
) -> Iterator[Cluster]:
    env, config = _environment(
        postgres_url, tmp_path, log_level="DEBUG", log_format="json", **settings
    )
    with (
        contextlib.ExitStack() as stack,
        Hub(config, registry=ConnectorRegistry.of(FakeConnector)) as hub,
    ):
        markets = [stack.enter_context(FakeMarketServer()) for _ in range(stores)]
        ids = []
        with hub.db.unit_of_work() as session:
            warehouse = inventory.create_warehouse(session, "MAIN")
            for sku in SKUS:
                product = catalog.create_product(
                    session, ProductIn(sku=sku, title=sku, price=Decimal("5"))
                )
                inventory.receive(session, product.id, warehouse.id, 100_000)
            for number, market in enumerate(markets):
                market.market.latency = 0.01  # a batch takes a while: overlaps would show
                plugin = _market_plugin(session, hub, number, market)
                plugins.set_stock_sync(
                    session, plugin.id, mode=StockMode.ABSOLUTE, window_seconds=1
                )
                links.sync_locations(session, plugin.id, [("loc-1", "Main")])
                links.map_location(
                    session, plugin.id, "loc-1", warehouse_id=warehouse.id, is_default=True
                )
                activated = plugins.activate(session, plugin.id)
                activated.enabled_at = utcnow() - dt.timedelta(days=1)
                ids.append(plugin.id)
        # The test speaks the workers' queue: work it commits is announced at once.
        announce_through_queue(hub)
        cluster = Cluster(hub, env, tmp_path, markets, ids)
        try:
            yield cluster
        finally:
            cluster.stop_workers()


def _deadlocks(hub: Hub) -> int:
    """Deadlocks PostgreSQL detected in this database, as its statistics say once every
    backend that could report one has gone (a backend flushes its counters on exit)."""
    with hub.db.engine.connect() as connection:
        name = connection.execute(text("select current_database()")).scalar_one()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            others = connection.execute(
                text(
                    "select count(*) from pg_stat_activity "
                    "where datname = :name and pid <> pg_backend_pid()"
                ),
                {"name": name},
            ).scalar_one()
            connection.rollback()
            if others == 0:
                break
            time.sleep(0.1)
        connection.execute(text("select pg_stat_clear_snapshot()"))
        return int(
            connection.execute(
                text("select deadlocks from pg_stat_database where datname = :name"),
                {"name": name},
            ).scalar_one()
        )


def _overlaps(batches: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Pairs of batches of one plugin that ran at the same time."""
    found = []
    by_plugin: dict[int, list[dict[str, Any]]] = {}
    for batch in batches:
        by_plugin.setdefault(batch["plugin"], []).append(batch)
    for runs in by_plugin.values():
        runs.sort(key=lambda run: run["started"])
        latest = runs[0]
        for run in runs[1:]:
            if run["started"] < latest["finished"]:
                found.append((latest, run))
            if run["finished"] > latest["finished"]:
                latest = run
    return found


@pytest.mark.slow
def test_two_workers_of_four_threads_drain_each_plugin_once_at_a_time_without_deadlocks(
    postgres_url: str, tmp_path: Path
) -> None:
    """#10 item 20: a steady order stream for three plugins sharing a catalog, drained by
    2 workers × 4 threads. No two batches of one plugin ever overlap, and PostgreSQL
    detects no deadlock (stock rows locked in one global order, ledger upserts sorted)."""
    with _cluster(
        postgres_url,
        tmp_path,
        stores=STREAM_PLUGINS,
        drain_seconds="2",  # drains end often: leases change hands many times
        lease_seconds="5",
    ) as cluster:
        hub = cluster.hub
        before = _deadlocks(hub)
        for _ in range(2):
            cluster.start_worker(threads=4)
        rng = random.Random(10)
        total = STREAM_PLUGINS * STREAM_ORDERS
        for number in range(STREAM_ORDERS):  # a steady stream, interleaved between stores
            for index in range(STREAM_PLUGINS):
                cluster.place(index, number, rng)
            cluster.check_alive()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not cluster.settled(total):
            cluster.check_alive()
            time.sleep(0.25)
        assert cluster.settled(total), "the stream was not imported"
        cluster.stop_workers()
        hub.db.dispose()
        batches = cluster.batches()
        assert {batch["plugin"] for batch in batches} == set(cluster.plugins)
        assert _overlaps(batches) == []
        assert _deadlocks(hub) == before
        assert not [line for line in cluster.logs() if "deadlock" in json.dumps(line).lower()]
        with hub.db.read() as session:
            failed = session.scalar(
                select(func.count()).select_from(SyncWork).where(SyncWork.state == WorkState.FAILED)
            )
            created = session.scalar(
                select(func.count())
                .select_from(OrderActivity)
                .where(OrderActivity.kind == "created")
            )
        assert failed == 0
        assert created == total  # each order imported once


@pytest.mark.slow
def test_a_killed_lease_holder_is_taken_over_before_its_old_lease_would_end(
    postgres_url: str, tmp_path: Path
) -> None:
    """#10 item 21: SIGKILL the worker draining a plugin mid-batch. Its lease was drain +
    lease seconds (here over two minutes) and the reconciler skipped the plugin that long;
    now the lease is short and renewed by a heartbeat, so the other worker takes the
    plugin over, and finishes the killed batch, long before."""
    drain_seconds = 120.0
    with _cluster(
        postgres_url,
        tmp_path,
        stores=1,
        drain_seconds=str(drain_seconds),
        lease_seconds="5",
    ) as cluster:
        hub = cluster.hub
        (plugin_id,) = cluster.plugins
        cluster.markets[0].market.latency = 0.05  # a batch of 50 takes a few seconds
        for _ in range(2):
            cluster.start_worker(threads=4)
        stop = threading.Event()
        rng = random.Random(21)

        def stream() -> None:
            number = 0
            while not stop.wait(0.1):  # well within what one drain imports
                cluster.place(0, number, rng)
                number += 1

        streamer = threading.Thread(target=stream, daemon=True)
        streamer.start()
        try:
            victim, holder, in_flight = _kill_the_holder(cluster, plugin_id)
            killed_at = time.monotonic()
            survivor = next(worker for worker in cluster.workers if worker is not victim)
            taken_over = False
            while time.monotonic() < killed_at + drain_seconds:
                cluster.check_alive()
                with hub.db.read() as session:
                    lease = session.get(PluginLease, plugin_id)
                    finished = session.scalar(
                        select(func.count())
                        .select_from(SyncWork)
                        .where(SyncWork.id.in_(in_flight), SyncWork.state == WorkState.DONE)
                    )
                now_held_by = lease.holder if lease is not None else ""
                if f":{survivor.pid}:" in now_held_by and finished == len(in_flight):
                    taken_over = True
                    break
                time.sleep(0.1)
        finally:
            stop.set()
            streamer.join(timeout=30)
        assert taken_over, "the plugin waited for the dead holder's lease to run out"
        assert victim.returncode == -signal.SIGKILL
        assert holder.split(":")[1] == str(victim.pid)


def _kill_the_holder(
    cluster: Cluster, plugin_id: int
) -> tuple[subprocess.Popen[bytes], str, list[int]]:
    """SIGKILL the worker whose drain holds ``plugin_id`` while it has claimed work;
    returns the worker, the drain that held the plugin and the work it had claimed."""
    pids = {worker.pid: worker for worker in cluster.workers}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        cluster.check_alive()
        with cluster.hub.db.read() as session:
            lease = session.get(PluginLease, plugin_id)
            running = session.scalars(
                select(SyncWork.id).where(
                    SyncWork.plugin_id == plugin_id, SyncWork.state == WorkState.RUNNING
                )
            ).all()
        holder = lease.holder if lease is not None and lease.lease_until > utcnow() else ""
        pid = int(holder.split(":")[1]) if holder.count(":") >= 2 else 0
        if pid in pids and len(running) >= 10:
            os.kill(pid, signal.SIGKILL)
            pids[pid].wait(timeout=10)
            with cluster.hub.db.read() as session:  # what it held when it died
                in_flight = session.scalars(
                    select(SyncWork.id).where(
                        SyncWork.plugin_id == plugin_id, SyncWork.state == WorkState.RUNNING
                    )
                ).all()
            return pids[pid], holder, list(in_flight)
        time.sleep(0.02)
    raise AssertionError("no worker ever held the plugin with work in flight")
