"""Floors measured in the same run on the same machine, so that a figure with no
contractual limit is read as a ratio that holds from machine to machine (issue 17 item 8):

* ``huey_items_per_second`` — bare Huey: the same count of no-op tasks enqueued and then
  dequeued and executed by one loop, on the queue the ledger bench uses (SqliteHuey in a
  file, or RedisHuey);
* ``python -m benchmarks.bare intake PORT DBFILE`` — the least a webhook endpoint can do:
  an ASGI app under uvicorn as ``tradewind run`` serves it, checking the same HMAC and
  making one INSERT (autocommit, the hub's SQLite pragmas) before its 200;
* ``python -m benchmarks.bare json PORT`` — the least a REST read can cost: an ASGI app
  under uvicorn as the sandboxes serve it (h11), answering every GET with a fixed JSON
  body the size of a sandbox order.

Each server prints its base URL on stdout once it listens, as the sandbox does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from huey import Huey, RedisHuey, SqliteHuey
from starlette.types import Receive, Scope, Send

from benchmarks.support import SECRET

HOST = "127.0.0.1"
ORDER_LIKE = json.dumps(
    {
        "order": {
            "id": 1,
            "line_items": [{"id": n, "sku": f"SKU-{n}", "title": "x" * 40} for n in range(12)],
            "note": "y" * 400,
        }
    }
).encode()


def huey_items_per_second(count: int, redis_url: str | None = None) -> float:
    """Enqueue ``count`` no-op tasks, then dequeue and execute every one, in this process."""
    with tempfile.TemporaryDirectory() as folder:
        if redis_url is None:
            huey: Huey = SqliteHuey("floor", filename=str(Path(folder) / "q.db"), results=False)
        else:
            huey = RedisHuey(f"floor-{os.getpid()}-{time.time_ns()}", url=redis_url, results=False)

        nothing: Any = huey.task()(_nothing)
        try:
            started = time.perf_counter()
            for number in range(count):
                nothing(number)
            done = 0
            while done < count:
                task = huey.dequeue()
                if task is None:
                    raise RuntimeError(f"the queue ran dry after {done} of {count}")
                huey.execute(task)
                done += 1
            return count / (time.perf_counter() - started)
        finally:
            huey.flush()


EXECUTED = [0]  # tasks the bare queue ran, in this process


def _nothing(number: int) -> None:
    del number
    EXECUTED[0] += 1


@contextmanager
def served(kind: str, *args: str) -> Iterator[str]:
    """One of this module's servers in a child process; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bare", kind, "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    try:
        assert process.stdout is not None
        base = process.stdout.readline().strip()
        if not base.startswith(f"http://{HOST}:"):
            raise RuntimeError(f"the bare {kind} server did not start: {base!r}")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


class Intake:
    """Check the body's HMAC as the hub does for the bench connector, store it, answer."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.execute("CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, body BLOB)")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = dict(scope["headers"])
        wanted = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest())
        if not hmac.compare_digest(wanted, headers.get(b"x-signature", b"")):
            await _answer(send, 401, b"")
            return
        delivery = headers.get(b"x-delivery", b"").decode()
        self.db.execute("INSERT OR IGNORE INTO deliveries VALUES (?, ?)", (delivery, body))
        await _answer(send, 200, b"")


async def _json(scope: Scope, receive: Receive, send: Send) -> None:
    del receive  # a GET: no body to read
    if scope["type"] == "http":
        await _answer(send, 200, ORDER_LIKE, b"application/json")


async def _answer(send: Send, status: int, body: bytes, kind: bytes = b"text/plain") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def main(argv: list[str]) -> None:
    kind, port = argv[0], int(argv[1])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(2048)  # connections wait in the backlog until uvicorn accepts them
    print(f"http://{HOST}:{sock.getsockname()[1]}", flush=True)
    if kind == "intake":  # as tradewind run serves (cli/serve.server_config)
        config = uvicorn.Config(Intake(argv[2]), log_level="warning", proxy_headers=False)
    else:  # as the sandboxes serve (sandbox/serving.py)
        config = uvicorn.Config(
            _json, log_level="warning", access_log=False, http="h11", timeout_keep_alive=30
        )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main(sys.argv[1:])
