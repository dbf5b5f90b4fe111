"""engine.worker_scaling (issue 10 item 20): orders per second end to end with 1 and with 2
``tradewind worker`` processes of 4 threads each, on PostgreSQL + Redis.

Two Shopify sandbox stores (each its own process, on the plus plan so the API limit is not
what is measured) sell the same six SKUs, mapped to one Tradewind warehouse: imports of
the two plugins reserve the same stock rows, and every import changes stock that goes back
to both stores (absolute, window 1 s). A ``tradewind run --no-worker`` process receives
the stores' webhooks. The clock runs from the first order placed to the last imported.
Also reported: the deadlocks PostgreSQL detected in the run's database (target 0).

Drill before the fix, 1 / 2 / 3 workers × 4 threads: 4.05 / 3.65 / 5.79 orders/s and 209
deadlocks (one lease holder per process, so all threads drained one plugin at once).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx2
import redis
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text

from benchmarks.harness import Figure
from benchmarks.support import REPO, free_port, postgres_database
from tradewind import migrations
from tradewind.app import actions
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.channels import service as channels
from tradewind.core.inventory import service as inventory
from tradewind.core.links import service as links
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.db import make_engine, utcnow
from tradewind.hub import Hub
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.sandbox.shopify import control as c
from tradewind.settings import Settings
from tradewind.sync.drain import Drainer
from tradewind.sync.models import SyncWork, WorkState
from tradewind.vocabulary import StockMode, Toggle

STORES = 2
ORDERS_PER_STORE = 120
THREADS = 4
SKUS = ("MUG", "PLATE", "BOWL", "CUP", "JUG", "TRAY")
APP_KEY = "sandbox-app"
APP_SECRET = "sandbox-secret"  # noqa: S105 - the sandbox's default app
ADDRESS = c.AddressSpec(
    first_name="Ada", last_name="Byron", address1="1 Main St", city="Springfield", zip="62701"
)


def run() -> Iterator[Figure]:
    problem = _services_problem()
    if problem:
        raise RuntimeError(f"needs PostgreSQL and Redis on 127.0.0.1: {problem}")
    rates: dict[int, float] = {}
    deadlocks = 0
    for workers in (1, 2):
        rate, found = _measure(workers)
        rates[workers] = rate
        deadlocks += found
    total = STORES * ORDERS_PER_STORE
    setup = (
        f"{total} orders of 2-3 lines over {STORES} Shopify sandbox stores (plus plan) "
        f"sharing {len(SKUS)} SKUs, webhooks to tradewind run --no-worker, PostgreSQL + Redis"
    )
    for workers, rate in rates.items():
        yield Figure(
            "engine.worker_scaling",
            f"orders_per_second_{workers}_worker{'s' if workers > 1 else ''}",
            round(rate, 2),
            "orders/s",
            note=f"{workers} x {THREADS} threads; {setup}",
        )
    yield Figure(
        "engine.worker_scaling",
        "speedup_2_workers",
        round(rates[2] / rates[1], 2),
        "x",
        target=1.0,
        note="2 workers x 4 threads against 1 worker x 4 threads",
    )
    yield Figure(
        "engine.worker_scaling",
        "deadlocks",
        deadlocks,
        "deadlocks",
        floor=0,
        target=0,
        note="pg_stat_database.deadlocks over both runs",
    )


def _services_problem() -> str | None:
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2).ping()
        with postgres_database():
            pass
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


# ------------------------------------------------------------------------------ a run


@dataclass
class Store:
    name: str
    base_url: str
    token: str
    client: httpx2.Client

    def place(self, skus: list[str]) -> None:
        spec = c.OrderSpec(
            lines=[c.LineSpec(sku=sku) for sku in skus],
            customer=c.CustomerSpec(first_name="Ada", email="ada@example.com"),
            shipping_address=ADDRESS,
        )
        answer = self.client.post(
            f"/shops/{self.name}/orders", json=spec.model_dump(mode="json", exclude_none=True)
        )
        answer.raise_for_status()


def _measure(workers: int) -> tuple[float, int]:
    """One run on a fresh database, queue and stores: orders/s and deadlocks."""
    with (
        postgres_database() as url,
        tempfile.TemporaryDirectory() as folder,
        contextlib.ExitStack() as stack,
    ):
        engine = make_engine(url)
        migrations.upgrade(engine)
        engine.dispose()
        port = free_port()
        settings = Settings(
            data_dir=Path(folder) / "data",
            database_url=url,
            queue_url=f"redis://127.0.0.1:6379/0?name=tw-bench-{uuid.uuid4().hex[:8]}",
            secret_keys=(Fernet.generate_key().decode(),),
            base_url=f"http://127.0.0.1:{port}",
            allow_sandbox_hosts=True,
            log_level="WARNING",
        )
        stores = [stack.enter_context(_store(f"scale{n}")) for n in range(STORES)]
        hub = stack.enter_context(Hub(settings, registry=ConnectorRegistry.of(ShopifyConnector)))
        connect(hub, stores)
        env = env_for(settings)
        processes = [
            start(["run", "--no-worker", "--port", str(port)], env, Path(folder), "web"),
            *(
                start(["worker", "--threads", str(THREADS)], env, Path(folder), f"worker{n}")
                for n in range(workers)
            ),
        ]
        try:
            wait_for(lambda: healthy(port), 60, processes)
            wait_for(lambda: subscribed(stores), 120, processes)
            total = STORES * ORDERS_PER_STORE
            rng = random.Random(workers)
            baskets = [
                (store, rng.sample(SKUS, rng.choice((2, 3))))
                for _ in range(ORDERS_PER_STORE)
                for store in stores
            ]
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(lambda basket: basket[0].place(basket[1]), baskets))
            wait_for(lambda: imported(hub) >= total, 600, processes)
            elapsed = time.monotonic() - started
            wait_for(lambda: settled(hub), 300, processes)  # stock pushed back, nothing open
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        hub.db.dispose()
        return total / elapsed, _deadlocks(url)


@contextlib.contextmanager
def _store(name: str) -> Iterator[Store]:
    """A sandbox store in its own process, as Shopify is on its own servers."""
    token = f"shpat_{name}"
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
            name,
            "--token",
            token,
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
        client = httpx2.Client(base_url=f"{base_url}/_sandbox", timeout=60)
        store = Store(name, base_url, token, client)
        for sku in SKUS:
            client.post(
                f"/shops/{name}/products",
                json=c.ProductSpec(
                    title=sku, variants=[c.VariantSpec(sku=sku, available=100_000)]
                ).model_dump(mode="json", exclude_none=True),
            ).raise_for_status()
        yield store
        client.close()
    finally:
        process.terminate()
        process.wait(timeout=15)


def connect(hub: Hub, stores: list[Store]) -> None:
    """Setup, not measured: the catalog in one warehouse, one plugin per store with its
    location mapped, its products mapped and its stock absolute; work drained here."""
    with hub.db.unit_of_work() as session:
        warehouse = inventory.create_warehouse(session, "MAIN")
        for sku in SKUS:
            product = catalog.create_product(session, ProductIn(sku=sku, title=sku))
            inventory.receive(session, product.id, warehouse.id, 100_000)
        plugin_ids = []
        for store in stores:
            channel = channels.create_channel(session, store.name)
            plugin = plugins.add_plugin(
                session,
                hub.vault,
                ShopifyConnector.info,
                name=store.name,
                config={
                    "store_url": f"https://{store.name}.myshopify.com",
                    "access_token": store.token,
                    "client_id": APP_KEY,
                    "client_secret": APP_SECRET,
                    "sandbox_url": store.base_url,
                },
            )
            plugins.attach(session, plugin.id, channel.id)
            plugins.set_toggle(
                session, ShopifyConnector.info, plugin.id, Toggle.IMPORT_ORDERS, True
            )
            plugin_ids.append(plugin.id)
        warehouse_id = warehouse.id
    drainer = Drainer(hub, holder="bench-setup", kick=lambda *_: None)

    def drain(plugin_id: int) -> None:
        while drainer.drain(plugin_id):
            pass

    for plugin_id in plugin_ids:
        actions.activate(hub, plugin_id)
        with hub.db.unit_of_work() as session:
            found = plugins.get_plugin(session, plugin_id)
            found.enabled_at = utcnow() - dt.timedelta(minutes=1)
        drain(plugin_id)  # locations, webhooks
        with hub.db.unit_of_work() as session:
            (location,) = [m for m in links.location_mappings(session, plugin_id) if m.active]
            links.map_location(
                session, plugin_id, location.external_id, warehouse_id=warehouse_id, is_default=True
            )
        actions.sync_products(hub, plugin_id)
        drain(plugin_id)
        actions.set_stock_mode(hub, plugin_id, mode=StockMode.ABSOLUTE, window_seconds=1)
        drain(plugin_id)


def env_for(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "TRADEWIND_DATABASE_URL": settings.resolved_database_url,
        "TRADEWIND_QUEUE_URL": settings.resolved_queue_url,
        "TRADEWIND_SECRET_KEYS": ",".join(k.get_secret_value() for k in settings.secret_keys),
        "TRADEWIND_DATA_DIR": str(settings.data_dir),
        "TRADEWIND_BASE_URL": settings.base_url,
        "TRADEWIND_ALLOW_SANDBOX_HOSTS": "true",
        "TRADEWIND_LOG_LEVEL": "WARNING",
    }


def start(
    args: list[str], env: dict[str, str], folder: Path, name: str, *, counted: bool = False
) -> subprocess.Popen[bytes]:
    """``tradewind ARGS`` in ``folder``, its output in ``NAME.log``; ``counted``: with its
    SQL statements counted into ``NAME.json`` (benchmarks/counted.py)."""
    log = (folder / f"{name}.log").open("wb")
    runner = ["benchmarks.counted", str(folder / f"{name}.json")] if counted else ["tradewind"]
    process = subprocess.Popen(
        [sys.executable, "-m", *runner, *args],
        env=env,
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    return process


def wait_for(
    condition: Callable[[], bool], timeout: float, processes: list[subprocess.Popen[bytes]]
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"not reached within {timeout}s")
        time.sleep(0.1)


def healthy(port: int) -> bool:
    try:
        return httpx2.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except httpx2.HTTPError:
        return False


def subscribed(stores: list[Store]) -> bool:
    """Every store delivers order webhooks to the web process."""
    for store in stores:
        state = store.client.get(f"/shops/{store.name}").json()
        if not any(hook["topic"] == "orders/create" for hook in state.get("webhooks", [])):
            return False
    return True


def imported(hub: Hub) -> int:
    with hub.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Order)) or 0)


def settled(hub: Hub) -> bool:
    with hub.db.read() as session:
        open_work = session.scalar(
            select(func.count())
            .select_from(SyncWork)
            .where(
                SyncWork.state.in_([WorkState.PENDING, WorkState.RUNNING]),
                SyncWork.not_before <= utcnow(),
            )
        )
    return open_work == 0


def _deadlocks(url: str) -> int:
    """The database's deadlock count, once every other backend has gone (a backend
    flushes its statistics as it exits)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
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
    finally:
        engine.dispose()
