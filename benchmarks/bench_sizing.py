"""engine.cost_per_item and engine.memory (issue 17 item 7): what one imported order, one
stock item pushed and one webhook stored cost, measured with 200 plugins (200 shops in one
Shopify sandbox process) on PostgreSQL + Redis with 1 and with 2 ``tradewind worker``
processes, and what a plugin costs when nothing happens. The README's sizing table is
worked out from these figures.

Costs are read from the operating system and the database, not estimated: CPU time of
the worker and web processes (``/proc/PID/stat``), CPU time of the PostgreSQL backends
serving the run's database (found in ``pg_stat_activity``), and the SQL statements each
Tradewind process sent (``benchmarks/counted.py`` around the unmodified command).

A run: setup (plugins connected, locations and products mapped, not measured); then
idle for ``IDLE_SECONDS`` (the per-plugin fixed cost: timers, polls); then orders placed
across the shops with stock sync off (import cost per order; web cost per webhook
stored); then every SKU's stock changed once with stock sync absolute (push cost per item:
one SKU at one plugin). The order and stock costs are the work's own: each span's CPU
and statements less the idle window's rate over as long, so a span the loaded machine
slows down does not count the plugins' fixed cost again for each extra second (the fixed
cost is its own figure). ``SIZING_PLUGINS`` and ``SIZING_ORDERS`` make a smaller run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx2
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text

from benchmarks import counted
from benchmarks.bench_scaling import (
    SKUS,
    Store,
    connect,
    env_for,
    healthy,
    imported,
    start,
    subscribed,
    wait_for,
)
from benchmarks.harness import Figure, Reported, measured
from benchmarks.support import free_port, postgres_database
from tradewind import migrations
from tradewind.app import actions
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.core.catalog.models import Product
from tradewind.core.inventory import service as inventory
from tradewind.core.inventory.models import Warehouse
from tradewind.core.plugins.models import Plugin
from tradewind.db import make_engine, utcnow
from tradewind.hub import Hub
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.sandbox.shopify import control as c
from tradewind.sandbox.shopify.state import Plan
from tradewind.settings import Settings
from tradewind.sync.models import InboxDelivery, SyncWork, WorkState
from tradewind.vocabulary import StockMode

PLUGINS = int(os.environ.get("SIZING_PLUGINS", "200"))
ORDERS = int(os.environ.get("SIZING_ORDERS", "400"))
THREADS = 4
IDLE_SECONDS = 60.0  # one whole cycle of the plugins' minute probe (sync/schedule.py PROBE_SECONDS)
TICK = os.sysconf("SC_CLK_TCK")


def run() -> Iterator[Reported]:
    yield from measured(
        "engine.memory",
        ["worker_rss_mb_0_plugins", "idle_worker_cpu_ms_per_second_0_plugins"],
        _empty_worker,
    )
    costs = [f"{what}_{workers}w" for workers in (1, 2) for what in Costs.METRICS]
    yield from measured(
        "engine.cost_per_item", [*costs, f"worker_rss_mb_{PLUGINS}_plugins"], _costs
    )


# ------------------------------------------------------------------ what is measured


@dataclass(frozen=True)
class Meter:
    """CPU seconds and statements so far: the workers, the web process, the backends."""

    worker_cpu: float
    web_cpu: float
    database_cpu: float
    worker_sql: int
    web_sql: int
    seconds: float  # wall clock (monotonic)

    def __sub__(self, other: Meter) -> Meter:
        return Meter(
            self.worker_cpu - other.worker_cpu,
            self.web_cpu - other.web_cpu,
            self.database_cpu - other.database_cpu,
            self.worker_sql - other.worker_sql,
            self.web_sql - other.web_sql,
            self.seconds - other.seconds,
        )

    def beyond(self, idle: Meter) -> Meter:
        """What this span cost beyond the idle rate over as long: the work itself, without
        the plugins' fixed cost (polls, timers), which a slow span would otherwise count
        once more for every second it lasted."""
        share = self.seconds / idle.seconds if idle.seconds > 0 else 0.0
        return Meter(
            max(0.0, self.worker_cpu - idle.worker_cpu * share),
            max(0.0, self.web_cpu - idle.web_cpu * share),
            max(0.0, self.database_cpu - idle.database_cpu * share),
            max(0, round(self.worker_sql - idle.worker_sql * share)),
            max(0, round(self.web_sql - idle.web_sql * share)),
            self.seconds,
        )


@dataclass(frozen=True)
class Costs:
    METRICS = (
        "worker_cpu_ms_per_order",
        "database_cpu_ms_per_order",
        "sql_per_order",
        "web_cpu_ms_per_webhook",
        "sql_per_webhook",
        "worker_cpu_ms_per_stock_item",
        "database_cpu_ms_per_stock_item",
        "sql_per_stock_item",
        "gross_worker_cpu_ms_per_order",
        "gross_database_cpu_ms_per_order",
        "gross_worker_cpu_ms_per_stock_item",
        "idle_worker_cpu_ms_per_second",
        "idle_database_cpu_ms_per_second",
        "idle_sql_per_second",
    )

    orders: Meter
    order_count: int
    webhooks: int
    stock: Meter
    stock_items: int
    idle: Meter

    def figures(self, workers: int) -> Iterator[Figure]:
        per_order, per_item = self.orders.beyond(self.idle), self.stock.beyond(self.idle)
        values = {
            "worker_cpu_ms_per_order": per_order.worker_cpu * 1000 / self.order_count,
            "database_cpu_ms_per_order": per_order.database_cpu * 1000 / self.order_count,
            "sql_per_order": per_order.worker_sql / self.order_count,
            "web_cpu_ms_per_webhook": per_order.web_cpu * 1000 / max(self.webhooks, 1),
            "sql_per_webhook": per_order.web_sql / max(self.webhooks, 1),
            "worker_cpu_ms_per_stock_item": per_item.worker_cpu * 1000 / self.stock_items,
            "database_cpu_ms_per_stock_item": per_item.database_cpu * 1000 / self.stock_items,
            "sql_per_stock_item": per_item.worker_sql / self.stock_items,
            # the same spans with the plugins' fixed cost over them left in
            "gross_worker_cpu_ms_per_order": self.orders.worker_cpu * 1000 / self.order_count,
            "gross_database_cpu_ms_per_order": self.orders.database_cpu * 1000 / self.order_count,
            "gross_worker_cpu_ms_per_stock_item": self.stock.worker_cpu * 1000 / self.stock_items,
            "idle_worker_cpu_ms_per_second": self.idle.worker_cpu * 1000 / self.idle.seconds,
            "idle_database_cpu_ms_per_second": self.idle.database_cpu * 1000 / self.idle.seconds,
            "idle_sql_per_second": self.idle.worker_sql / self.idle.seconds,
        }
        note = (
            f"{PLUGINS} plugins (one sandbox process), PostgreSQL + Redis, {workers} worker "
            f"process(es) x {THREADS} threads; {self.order_count} orders imported from "
            f"{self.webhooks} webhooks stored; {self.stock_items} stock items pushed "
            f"({len(SKUS)} SKUs x {PLUGINS} plugins) in {self.orders.seconds:.0f} s and "
            f"{self.stock.seconds:.0f} s, less the idle rate over as long (idle "
            f"{self.idle.seconds:.0f} s); load average {os.getloadavg()[0]:.1f}"
        )
        for metric, value in values.items():
            unit = "statements" if metric.startswith("sql") else "ms"
            yield Figure(
                "engine.cost_per_item", f"{metric}_{workers}w", round(value, 3), unit, note=note
            )


def _cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _settled_process(pid: int, timeout: float = 120) -> None:
    """Until a process's start-up is over: a second in which it used under a tenth of one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = _cpu(pid)
        time.sleep(1)
        if _cpu(pid) - before < 0.1:
            return
    raise RuntimeError(f"process {pid} stayed busy for {timeout:.0f} s")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class Run:
    """One measured deployment: the processes, the database, where their counts go."""

    def __init__(
        self,
        hub: Hub,
        folder: Path,
        stores: list[Store],
        web: subprocess.Popen[bytes],
        workers: Sequence[subprocess.Popen[bytes]],
    ) -> None:
        self.hub, self.folder, self.stores = hub, folder, stores
        self.web, self.workers = web, list(workers)
        self.processes = [web, *workers]
        self.backends: dict[int, float] = {}

    def meter(self) -> Meter:
        time.sleep(0.5)  # the counters' files are written every 0.2 s
        return Meter(
            worker_cpu=sum(_cpu(worker.pid) for worker in self.workers),
            web_cpu=_cpu(self.web.pid),
            database_cpu=self._database_cpu(),
            worker_sql=sum(
                counted.read(str(self.folder / f"worker{n}.json")) for n in range(len(self.workers))
            ),
            web_sql=counted.read(str(self.folder / "web.json")),
            seconds=time.monotonic(),
        )

    def _database_cpu(self) -> float:
        with self.hub.db.read() as session:
            pids = session.scalars(
                text(
                    "select pid from pg_stat_activity "
                    "where datname = current_database() and pid <> pg_backend_pid()"
                )
            ).all()
        for pid in pids:  # a backend seen once keeps its last reading after it exits
            self.backends[pid] = max(self.backends.get(pid, 0.0), _cpu(pid))
        return sum(self.backends.values())

    def quiet(self, timeout: float = 600) -> None:
        """Nothing running and nothing due within a few seconds (a stock window included;
        a poll hours away is not waited for)."""
        wait_for(lambda: _open_work(self.hub) == 0, timeout, self.processes)


def _open_work(hub: Hub) -> int:
    soon = utcnow() + dt.timedelta(seconds=5)
    with hub.db.read() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(SyncWork)
                .where(
                    (SyncWork.state == WorkState.RUNNING)
                    | ((SyncWork.state == WorkState.PENDING) & (SyncWork.not_before <= soon))
                )
            )
            or 0
        )


def _webhooks(hub: Hub) -> int:
    with hub.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(InboxDelivery)) or 0)


# ------------------------------------------------------------------------ the runs


def _costs() -> Iterator[Figure]:
    for workers in (1, 2):
        with _deployment(workers) as deployment:
            yield from _measure(deployment).figures(workers)
            if workers == 1:
                yield _full_worker(deployment)


def _measure(run: Run) -> Costs:
    hub, stores = run.hub, run.stores
    run.quiet()
    before = run.meter()
    time.sleep(IDLE_SECONDS)  # the bench's idle window itself: what plugins cost doing nothing
    idle = run.meter() - before

    webhooks_before = _webhooks(hub)
    before = run.meter()
    baskets = [
        (stores[n % len(stores)], [SKUS[n % len(SKUS)], SKUS[(n + 1) % len(SKUS)]])
        for n in range(ORDERS)
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda basket: basket[0].place(basket[1]), baskets))
    wait_for(lambda: imported(hub) >= ORDERS, 1200, run.processes)
    run.quiet()
    orders = run.meter() - before
    webhooks = _webhooks(hub) - webhooks_before

    for plugin_id in _plugin_ids(hub):
        actions.set_stock_mode(hub, plugin_id, mode=StockMode.ABSOLUTE, window_seconds=1)
    run.quiet()  # switching on sends everything once: not the live path measured
    before = run.meter()
    with hub.db.unit_of_work() as session:
        warehouse = session.scalars(select(Warehouse)).one()
        for product in session.scalars(select(Product)):
            inventory.receive(session, product.id, warehouse.id, 1)
    run.quiet()
    stock = run.meter() - before
    return Costs(orders, ORDERS, webhooks, stock, len(SKUS) * PLUGINS, idle)


def _plugin_ids(hub: Hub) -> list[int]:
    with hub.db.read() as session:
        return list(session.scalars(select(Plugin.id).order_by(Plugin.id)))


@contextlib.contextmanager
def _deployment(workers: int) -> Iterator[Run]:
    """A fresh database, queue and sandbox with ``PLUGINS`` shops connected; the web
    process and ``workers`` worker processes running, counted."""
    with (
        postgres_database() as url,
        tempfile.TemporaryDirectory() as scratch,
        _shops(PLUGINS) as stores,
    ):
        folder = Path(scratch)
        engine = make_engine(url)
        migrations.upgrade(engine)
        engine.dispose()
        port = free_port()
        settings = Settings(
            data_dir=folder / "data",
            database_url=url,
            queue_url=f"redis://127.0.0.1:6379/0?name=tw-sizing-{uuid.uuid4().hex[:8]}",
            secret_keys=(Fernet.generate_key().decode(),),
            base_url=f"http://127.0.0.1:{port}",
            allow_sandbox_hosts=True,
            log_level="WARNING",
        )
        with Hub(settings, registry=ConnectorRegistry.of(ShopifyConnector)) as hub:
            connect(hub, stores)
            for plugin_id in _plugin_ids(hub):  # orders first, with no stock pushed back
                actions.set_stock_mode(hub, plugin_id, mode=StockMode.OFF)
            env = env_for(settings)
            web = start(
                ["run", "--no-worker", "--port", str(port)], env, folder, "web", counted=True
            )
            started = [
                start(
                    ["worker", "--threads", str(THREADS)], env, folder, f"worker{n}", counted=True
                )
                for n in range(workers)
            ]
            run = Run(hub, folder, stores, web, started)
            try:
                wait_for(lambda: healthy(port), 60, run.processes)
                wait_for(lambda: subscribed(stores), 300, run.processes)
                yield run
            finally:
                _stop(run.processes)


def _stop(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def _shops(count: int) -> Iterator[list[Store]]:
    """``count`` shops in one sandbox process (plus plan: the platform's limit is not what
    is measured), each selling ``SKUS``."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tradewind",
            "sandbox",
            "shopify",
            "--port",
            "0",
            "--shop",
            "size0",
            "--token",
            "shpat_size0",
            "--plan",
            "plus",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        client = httpx2.Client(base_url=f"{base_url}/_sandbox", timeout=120)
        stores = []
        for n in range(count):
            name = f"size{n}"
            if n:
                spec = c.ShopSpec(name=name, plan=Plan.plus, token=f"shpat_{name}")
                client.post("/shops", json=spec.model_dump(mode="json")).raise_for_status()
            for sku in SKUS:
                product = c.ProductSpec(
                    title=sku, variants=[c.VariantSpec(sku=sku, available=10**6)]
                )
                client.post(
                    f"/shops/{name}/products",
                    json=product.model_dump(mode="json", exclude_none=True),
                ).raise_for_status()
            stores.append(Store(name, base_url, f"shpat_{name}", client))
        yield stores
        client.close()
    finally:
        process.terminate()
        process.wait(timeout=30)


# ---------------------------------------------------------------------------- memory


def _empty_worker() -> Iterator[Figure]:
    """Resident memory of one worker with no plugin, after the idle window."""
    with postgres_database() as url, tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        engine = make_engine(url)
        migrations.upgrade(engine)
        engine.dispose()
        settings = Settings(
            data_dir=folder / "data",
            database_url=url,
            queue_url=f"redis://127.0.0.1:6379/0?name=tw-sizing-{uuid.uuid4().hex[:8]}",
            secret_keys=(Fernet.generate_key().decode(),),
            log_level="WARNING",
        )
        worker = start(["worker", "--threads", str(THREADS)], env_for(settings), folder, "empty")
        try:
            _settled_process(worker.pid)
            before = _cpu(worker.pid)
            time.sleep(IDLE_SECONDS)  # the same idle window as the full worker's
            idle = _cpu(worker.pid) - before
            resident = _rss_mb(worker.pid)
        finally:
            _stop([worker])
    yield Figure(
        "engine.memory",
        "worker_rss_mb_0_plugins",
        round(resident, 1),
        "MB",
        note=f"tradewind worker --threads {THREADS}, no plugin, after {IDLE_SECONDS:.0f} s",
    )
    yield Figure(
        "engine.memory",
        "idle_worker_cpu_ms_per_second_0_plugins",
        round(idle * 1000 / IDLE_SECONDS, 2),
        "ms",
        note="the same worker's CPU over the idle window: the cost of no plugin at all",
    )


def _full_worker(run: Run) -> Figure:
    """The 1-worker run's worker, after its setup, idle window, orders and stock."""
    resident = _rss_mb(run.workers[0].pid)
    return Figure(
        "engine.memory",
        f"worker_rss_mb_{PLUGINS}_plugins",
        round(resident, 1),
        "MB",
        note=f"tradewind worker --threads {THREADS} with {PLUGINS} Shopify plugins, after the "
        f"idle window, {ORDERS} orders and a stock change of every SKU at every plugin",
    )
