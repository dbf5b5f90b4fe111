"""engine.webhook_intake_bad_signature (issue 10, item 4): how many bad-signature webhook
deliveries per second a real ``tradewind run`` refuses while its database is busy, and
what that does to ``/health``.

Unauthenticated traffic must never block the event loop nor cost a write each: the
sender floods one plugin's hook with deliveries whose signature is wrong, while another
process keeps the SQLite database busy (a write transaction held 200 ms, over and over)
and a prober asks ``/health`` every 10 ms. The figures are the refusals per second and
the probe's p99 (target 50 ms), measured after a warm-up that builds the plugin's
verifier. The note says how many refusals the plugin's one notification counted.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import select, text

from benchmarks.harness import Figure
from benchmarks.support import bench_hub, null_plugins, tradewind_server
from tradewind.db import make_engine
from tradewind.monitoring.notifications import Notification

DELIVERIES = 20_000
CONCURRENCY = 16
WARM_UP = 500  # deliveries sent before the clock starts (the verifier is built, once)
PROBE_EVERY = 0.005  # seconds between /health probes
HOLD_SECONDS = 0.2  # how long the busy writer keeps its write transaction open


def run() -> Iterator[Figure]:
    with bench_hub() as hub, tempfile.TemporaryDirectory() as extra:
        (plugin,) = null_plugins(hub, 1)
        busy = _BusyWriter(hub.settings.resolved_database_url)
        # The server stops gracefully on leaving: the refusals counted so far are written.
        with tradewind_server(hub, Path(extra)) as base:
            busy.start()
            try:
                statuses, elapsed, probes = asyncio.run(_flood(base, plugin))
            finally:
                busy.stop()
        with hub.db.read() as session:
            notice = session.scalar(
                select(Notification).where(Notification.subject == "webhook signatures")
            )
    refused = statuses.count(401)
    p99 = statistics.quantiles(probes, n=100)[98] * 1000
    told = notice.occurrences if notice else 0
    note = (
        f"{DELIVERIES} bad-signature deliveries (after {WARM_UP} to warm up), {CONCURRENCY} "
        f"concurrent, {refused} answered "
        f"401; SQLite held by a writer {busy.holds} times ({HOLD_SECONDS * 1000:.0f} ms each); "
        f"{len(probes)} /health probes (max {max(probes) * 1000:.0f} ms); the notification "
        f"counted {told} refusals"
    )
    yield Figure(
        bench="engine.webhook_intake_bad_signature",
        metric="deliveries_per_second",
        value=round(DELIVERIES / elapsed),
        unit="deliveries/s",
        note=note,
    )
    yield Figure(
        bench="engine.webhook_intake_bad_signature",
        metric="health_p99_ms",
        value=round(p99, 1),
        unit="ms",
        target=50,
        note=note,
    )


class _BusyWriter:
    """Another process's long write transactions on the same SQLite file (a thread here,
    with its own connection: to the server it is just another writer)."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.holds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="busy-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        with self.engine.connect() as connection:
            while not self._stop.is_set():
                with connection.begin():  # BEGIN IMMEDIATE: the write lock
                    connection.execute(text("UPDATE plugins SET name = name"))
                    self._stop.wait(HOLD_SECONDS)
                self.holds += 1
                self._stop.wait(0.02)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.engine.dispose()


async def _flood(base: str, plugin: int) -> tuple[list[int], float, list[float]]:
    """Send every delivery over ``CONCURRENCY`` keep-alive connections (built before the
    clock starts, spoken as raw HTTP/1.1) while another process probes ``/health``."""
    host, port = base.removeprefix("http://").split(":")
    requests = []
    for number in range(WARM_UP + DELIVERIES):
        body = json.dumps({"order_id": f"o-{number}"}).encode()
        head = (
            f"POST /hooks/{plugin}/orders/create HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"X-Signature: not-the-signature\r\nX-Delivery: d-{number}\r\n\r\n"
        )
        requests.append(head.encode() + body)
    statuses: list[int] = []

    async def exchange(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
    ) -> int:
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await reader.readexactly(length)
        return int(head.split(b" ", 2)[1])

    async def sender() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for request in queue:
                statuses.append(await exchange(reader, writer, request))
        finally:
            writer.close()

    warm_up = iter(requests[:WARM_UP])
    queue = iter(requests[WARM_UP:])

    async def warm() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for request in warm_up:
                await exchange(reader, writer, request)
        finally:
            writer.close()

    await asyncio.gather(*(warm() for _ in range(CONCURRENCY)))
    # The prober is a process of its own, so that what it measures is the server's answer
    # time, not this (busy) event loop's.
    context = multiprocessing.get_context("spawn")
    stop, found = context.Event(), context.Queue()
    prober = context.Process(target=_probe, args=(host, int(port), stop, found))
    prober.start()
    found.get(timeout=30)  # it is probing
    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    stop.set()
    probes: list[float] = found.get(timeout=30)
    prober.join(timeout=30)
    return statuses, elapsed, probes


def _probe(host: str, port: int, stop: Any, found: Any) -> None:
    """``GET /health`` every ``PROBE_EVERY`` seconds until ``stop``; the latencies go to
    ``found`` (after a first message that says probing has begun)."""
    latencies: list[float] = []
    with httpx2.Client(base_url=f"http://{host}:{port}", timeout=30) as client:
        client.get("/health")
        found.put([])
        while not stop.is_set():
            started = time.perf_counter()
            client.get("/health").raise_for_status()
            latencies.append(time.perf_counter() - started)
            stop.wait(PROBE_EVERY)
    found.put(latencies)
