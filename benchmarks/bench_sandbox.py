"""``sandbox.rest_reads``: REST Admin API reads per second the Shopify sandbox answers with
rate limits off, so that it is never the bottleneck of a hub benchmark.

The sandbox runs as ``python -m tradewind.sandbox shopify --no-limits`` in its own process;
this process is the load: concurrent keep-alive HTTP/1.1 connections over loopback, each
sending the next request when the previous answer is complete. The client is a minimal
asyncio one so that the figure measures the server, not a heavy client library sharing
the machine's two cores. The reads are the ones a connector makes: an order, a product,
inventory levels of an item, a page of orders, the locations.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable

from benchmarks import bare
from benchmarks.harness import Figure, Reported, measured

TOKEN = "shpat_bench"  # noqa: S105 - a throwaway token of a throwaway sandbox
SHOP = "bench"
CONNECTIONS = 32
WARMUP_SECONDS = 1.0
MEASURE_SECONDS = 4.0
VERSION = "2025-07"


def start_sandbox() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tradewind.sandbox",
            "shopify",
            "--port",
            "0",
            "--shop",
            SHOP,
            "--token",
            TOKEN,
            "--seed",
            "demo",
            "--no-limits",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    assert process.stdout is not None
    base_url = process.stdout.readline().strip()
    if not base_url.startswith("http://127.0.0.1:"):
        process.kill()
        raise RuntimeError(f"the sandbox did not start: {base_url!r}")
    return process, base_url


def fetch(base_url: str, path: str, method: str = "GET", body: object | None = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - a loopback URL we started
        base_url + path,
        data=data,
        method=method,
        headers={"X-Shopify-Access-Token": TOKEN, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def read_paths(base_url: str) -> list[str]:
    """Place a few orders, then the mix of reads a connector makes."""
    admin = f"/admin/api/{VERSION}"
    products = fetch(base_url, f"{admin}/products.json")["products"]  # type: ignore[index]
    variant = products[0]["variants"][0]
    for _ in range(20):
        fetch(
            base_url,
            f"{admin}/orders.json",
            "POST",
            {"order": {"line_items": [{"variant_id": variant["id"], "quantity": 1}]}},
        )
    orders = fetch(base_url, f"{admin}/orders.json?limit=5")["orders"]  # type: ignore[index]
    return [
        f"{admin}/orders/{orders[0]['id']}.json",
        f"{admin}/products/{products[0]['id']}.json",
        f"{admin}/inventory_levels.json?inventory_item_ids={variant['inventory_item_id']}",
        f"{admin}/orders.json?limit=5&status=any",
        f"{admin}/locations.json",
        f"{admin}/variants/{variant['id']}.json",
    ]


async def connection(
    host: str, port: int, requests: list[bytes], until: float, counts: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    done = 0
    try:
        while time.perf_counter() < until:
            writer.write(requests[done % len(requests)])
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            if status != 200:
                raise RuntimeError(f"status {status}: {head[:200]!r}")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            done += 1
    finally:
        writer.close()
    counts.append(done)


async def load(host: str, port: int, paths: list[str], seconds: float) -> float:
    requests = [
        (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"X-Shopify-Access-Token: {TOKEN}\r\nAccept: application/json\r\n\r\n"
        ).encode()
        for path in paths
    ]
    counts: list[int] = []
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(
        *(
            connection(host, port, requests[i:] + requests[:i], until, counts)
            for i in range(CONNECTIONS)
        )
    )
    return sum(counts) / (time.perf_counter() - started)


def run() -> Iterable[Reported]:
    yield from measured("sandbox.rest_reads", ["reads_per_second"], _rest_reads)


def _rest_reads() -> Iterable[Figure]:
    process, base_url = start_sandbox()
    try:
        host, port = base_url.removeprefix("http://").split(":")
        paths = read_paths(base_url)
        asyncio.run(load(host, int(port), paths, WARMUP_SECONDS))
        rate = asyncio.run(load(host, int(port), paths, MEASURE_SECONDS))
    finally:
        process.terminate()
        process.wait(timeout=10)
    with bare.served("json") as floor_url:
        host, port = floor_url.removeprefix("http://").split(":")
        asyncio.run(load(host, int(port), paths, WARMUP_SECONDS))
        floor = asyncio.run(load(host, int(port), paths, MEASURE_SECONDS))
    yield Figure(
        bench="sandbox.rest_reads",
        metric="reads_per_second",
        value=round(rate),
        unit="req/s",
        floor=round(floor),
        target=2000,
        note=f"{CONNECTIONS} keep-alive connections over loopback, limits off, "
        f"{len(paths)} kinds of read; floor: a bare JSON endpoint under the same uvicorn "
        f"answering an order-sized body ({rate / floor:.2f}x its rate)",
    )
