"""`tradewind demo` for real: a subprocess serving the UI with a sandbox Shopify store
connected; the printed admin credentials sign in; orders arrive by backfill and webhook;
a second start reuses everything and shows no new password."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2

from tradewind.demo import HISTORY, PLUGIN

PASSWORD_LINE = re.compile(r"sign in as admin with password (\S+)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Demo:
    def __init__(self, process: subprocess.Popen[str], port: int, data: Path) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{port}"
        self.data = data
        self.lines: list[str] = []
        reader = threading.Thread(target=self._read, daemon=True)
        reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.data / "tradewind.db") as db:
            return db.execute(sql).fetchall()


@contextmanager
def running_demo(data: Path) -> Iterator[Demo]:
    port = _free_port()
    env = {
        **os.environ,
        "TRADEWIND_DATA_DIR": str(data),
        "TRADEWIND_RECONCILE_SECONDS": "1",
        "COLUMNS": "200",
    }
    env.pop("TRADEWIND_DATABASE_URL", None)
    env.pop("TRADEWIND_QUEUE_URL", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tradewind",
            "demo",
            "--port",
            str(port),
            "--orders-per-minute",
            "120",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    demo = Demo(process, port, data)
    try:
        wait_for(lambda: _healthy(demo.url), 60, demo)
        yield demo
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _healthy(url: str) -> bool:
    try:
        return httpx2.get(f"{url}/health", timeout=2).status_code == 200
    except httpx2.TransportError:
        return False


def wait_for(condition: Callable[[], bool], timeout: float, demo: Demo) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if demo.process.poll() is not None:
            raise AssertionError(f"the demo exited:\n{demo.output()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout}s:\n{demo.output()[-3000:]}")
        time.sleep(0.3)


def _sign_in(client: httpx2.Client, password: str) -> None:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    answer = client.post(
        "/login",
        data={"username": "admin", "password": password, "csrf_token": token.group(1), "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def test_the_demo_connects_a_store_and_orders_flow_in_then_restarts_as_it_was(
    tmp_path: Path,
) -> None:
    data = tmp_path / "var"
    with running_demo(data) as demo:
        wait_for(lambda: PASSWORD_LINE.search(demo.output()) is not None, 10, demo)
        found = PASSWORD_LINE.search(demo.output())
        assert found is not None
        password = found.group(1)
        with httpx2.Client(base_url=demo.url, timeout=10) as client:
            _sign_in(client, password)
            dashboard = client.get("/")
            assert dashboard.status_code == 200 and PLUGIN in dashboard.text
        # The store's own history comes in, then orders its customers place afterwards
        # (the generator places 120 a minute here) arrive by webhook.
        wait_for(lambda: demo.query("select count(*) from orders")[0][0] > HISTORY, 60, demo)
        wait_for(lambda: demo.query("select count(*) from product_links") == [(5,)], 30, demo)
        wait_for(lambda: demo.query("select count(*) from stock_sync_state")[0][0] >= 10, 30, demo)
        assert demo.query(
            "select count(*) from notifications where resolved_at is null "
            "and subject = 'stock of unmapped products'"
        ) == [(0,)]
        duplicates = demo.query(
            "select external_id from orders group by plugin_id, external_id having count(*) > 1"
        )
        assert duplicates == []
        first_run_orders = demo.query("select count(*) from orders")[0][0]
        # Labels and tax need no set-up: EasyPost and TaxJar answer on the same channel.
        services = demo.query(
            "select name, state from plugins where connector in ('easypost', 'taxjar') "
            "order by name"
        )
        assert services == [("Demo EasyPost", "active"), ("Demo TaxJar", "active")]

    with running_demo(data) as again:
        wait_for(lambda: "sign in with your user" in again.output(), 10, again)
        assert PASSWORD_LINE.search(again.output()) is None
        assert again.query("select count(*) from plugins") == [(3,)]  # + EasyPost, TaxJar
        assert again.query("select count(*) from channel_services") == [(6,)]
        assert again.query("select count(*) from products") == [(5,)]
        with httpx2.Client(base_url=again.url, timeout=10) as client:
            _sign_in(client, password)
            assert client.get("/").status_code == 200
        wait_for(
            lambda: again.query("select count(*) from orders")[0][0] > first_run_orders,
            60,
            again,
        )
