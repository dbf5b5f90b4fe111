"""webhooks.fanout (issue 14): 10,000 events × 3 local receivers.

Live: products are created in transactions of 200 (each writes its ``product.created``
event and three deliveries in the same commit) while the engine sends: deliveries per
second from the first commit to the last arrival, and the p99 from a change's commit to
its arrival at the receiver — embedded (SQLite + SqliteHuey, one process, 4 threads) and
on PostgreSQL + Redis with 2 ``tradewind worker`` processes. The live rate can be no
higher than the rate the products are made at (the note gives that rate, and says when
it is what bounds the figure), so a second figure measures the senders alone: the same
events written first, then sent (deliveries per second from the first arrival to the
last), with the CPU the senders spent per delivery (a figure a busy machine changes less
than the rates). The receiver is a separate process (asyncio, keep-alive), as the
merchant's systems are. ``TRADEWIND_BENCH_WEBHOOK_EVENTS`` scales it.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from sqlalchemy import func, select

from benchmarks.harness import Figure, Reported, measured
from benchmarks.support import (
    REPO,
    bench_hub,
    child_env,
    entry_point_dir,
    free_port,
    postgres_database,
)
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.hub import Hub
from tradewind.sync.worker import Engine, announce_through_queue
from tradewind.webhooks import service
from tradewind.webhooks.models import DeliveryStatus, WebhookDelivery

EVENTS = int(os.environ.get("TRADEWIND_BENCH_WEBHOOK_EVENTS", "10000"))
RECEIVERS = 3
BATCH = 200


def run() -> Iterator[Reported]:
    for where, postgres in (("embedded", False), ("postgres_redis", True)):
        live = [f"deliveries_per_second_{where}", f"commit_to_receiver_p99_{where}"]
        yield from measured("webhooks.fanout", live, partial(_fanout, where, postgres=postgres))
    for where, postgres in (("embedded", False), ("postgres_redis", True)):
        yield from measured(
            "webhooks.fanout",
            [f"backlog_deliveries_per_second_{where}"],
            partial(_fanout, where, postgres=postgres, backlog=True),
        )


def _fanout(where: str, *, postgres: bool, backlog: bool = False) -> Iterator[Figure]:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        port = free_port()
        records = root / "arrivals.tsv"
        receiver = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.webhook_receiver", str(port), str(records)],
            cwd=REPO,
            stdout=subprocess.PIPE,
        )
        assert receiver.stdout is not None
        receiver.stdout.readline()  # "ready"
        try:
            if postgres:
                with postgres_database() as url:
                    queue = f"redis://127.0.0.1:6379/0?name=tw-bench-{uuid.uuid4().hex[:8]}"
                    with bench_hub(url, queue, allow_sandbox_hosts=True) as hub:
                        commits, made, finished, cpu = _scaled(hub, port, root, backlog=backlog)
            else:
                with bench_hub(allow_sandbox_hosts=True) as hub:
                    commits, made, finished, cpu = _embedded(hub, port, backlog=backlog)
        finally:
            receiver.terminate()
            receiver.wait(timeout=30)
        lines = [line.split("\t") for line in records.read_text().splitlines() if line]
    arrivals = [line for line in lines if line[3] in commits]  # not the warm-up's
    total = EVENTS * RECEIVERS
    label = (
        "SQLite + SqliteHuey, 1 process, 4 threads"
        if not postgres
        else "PostgreSQL + RedisHuey, 2 worker processes × 4 threads"
    )
    if backlog:
        times = sorted(float(at) for at, _, _, _ in arrivals)
        yield Figure(
            bench="webhooks.fanout",
            metric=f"backlog_deliveries_per_second_{where}",
            value=round((len(times) - 1) / (times[-1] - times[0])),
            unit="deliveries/s",
            target=1000,
            note=f"{EVENTS} events × {RECEIVERS} receivers written first, then sent; {label}; "
            f"{cpu * 1000 / total:.2f} ms of sender CPU per delivery"
            f"{' (the workers start-up included)' if postgres else ''}; "
            f"{len(arrivals) - total} repeats",
        )
        return
    latencies = sorted(float(at) - commits[sku] for at, _, _, sku in arrivals if sku in commits)
    first = min(commits.values())
    last = max(float(at) for at, _, _, _ in arrivals)
    rate = total / (last - first)
    producing = total / made
    bound = " (the producer bounds this figure)" if rate >= 0.9 * producing else ""
    yield Figure(
        bench="webhooks.fanout",
        metric=f"deliveries_per_second_{where}",
        value=round(rate),
        unit="deliveries/s",
        target=1000,
        note=f"{EVENTS} events × {RECEIVERS} receivers, {label}; "
        f"{len(arrivals) - total} repeats; all succeeded {finished:.1f} s after the first commit; "
        f"the products were made at {producing:.0f} deliveries/s{bound}",
    )
    yield Figure(
        bench="webhooks.fanout",
        metric=f"commit_to_receiver_p99_{where}",
        value=round(latencies[min(len(latencies) - 1, math.ceil(0.99 * len(latencies)) - 1)], 3),
        unit="s",
        target=1.0,
        note=f"p50 {latencies[len(latencies) // 2]:.3f} s; {label}",
    )


def _subscribe(hub: Hub, port: int) -> None:
    with hub.db.unit_of_work() as session:
        for number in range(RECEIVERS):
            service.create_subscription(
                session,
                hub.vault,
                service.UrlRules(hub.outbound),
                url=f"http://127.0.0.1:{port}/{number}",
                event_types=["product.created"],
            )


def _produce(hub: Hub) -> tuple[dict[str, float], float]:
    """Create the products, a batch a transaction; each SKU's commit time, and the
    seconds it took."""
    started = time.time()
    commits: dict[str, float] = {}
    for start in range(0, EVENTS, BATCH):
        skus = [f"SKU-{number:06d}" for number in range(start, min(start + BATCH, EVENTS))]
        with hub.db.unit_of_work() as session:
            for sku in skus:
                catalog.create_product(session, ProductIn(sku=sku, title=sku))
        committed = time.time()
        commits.update(dict.fromkeys(skus, committed))
    return commits, time.time() - started


def _warm_up(hub: Hub) -> None:
    """A test event to each receiver, sent before the clock starts: the workers are up
    (imported, connected) when the products are made."""
    with hub.db.unit_of_work() as session:
        for subscription in service.list_subscriptions(session):
            service.send_test(session, subscription.id, "product.created")
    _wait_delivered(hub, time.time(), count=RECEIVERS)


def _wait_delivered(
    hub: Hub, since: float, timeout: float = 600, *, count: int = EVENTS * RECEIVERS
) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with hub.db.read() as session:
            done = session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.status == DeliveryStatus.SUCCEEDED)
            )
        if done == count:
            return time.time() - since
        time.sleep(0.05)
    raise RuntimeError(f"{done} of {count} deliveries succeeded")


def _embedded(
    hub: Hub, port: int, *, backlog: bool
) -> tuple[dict[str, float], float, float, float]:
    """Commit times, seconds the products took, seconds to the last success, and the CPU
    seconds spent sending (the backlog: the process's after the events were written)."""
    _subscribe(hub, port)
    engine = Engine(hub)
    if backlog:
        commits, made = _produce(hub)  # the hub's announcements go to an engine not consuming
    engine.start(workers=4)
    cpu = time.process_time()
    try:
        started = time.time()
        if not backlog:
            commits, made = _produce(hub)
        return commits, made, _wait_delivered(hub, started), time.process_time() - cpu
    finally:
        engine.stop()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _scaled(
    hub: Hub, port: int, root: Path, *, backlog: bool
) -> tuple[dict[str, float], float, float, float]:
    _subscribe(hub, port)
    env = child_env(hub, entry_point_dir(root / "dist"))
    env["TRADEWIND_RECONCILE_SECONDS"] = "0.5"
    env["TRADEWIND_ALLOW_SANDBOX_HOSTS"] = "true"
    if backlog:
        commits, made = _produce(hub)  # no worker yet: their first sweep finds it all due
    else:
        announce_through_queue(hub)  # commits announce their deliveries on Redis
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tradewind", "worker", "--threads", "4"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        started = time.time()
        expected = EVENTS * RECEIVERS
        if not backlog:
            _warm_up(hub)
            expected += RECEIVERS
            started = time.time()
            commits, made = _produce(hub)
        finished = _wait_delivered(hub, started, count=expected)
        return commits, made, finished, sum(_cpu_seconds(worker.pid) for worker in workers)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
