"""The benchmarks' own machinery: a figure that cannot be measured is printed as an error
line in its place, and the bare servers that give the floors do the work they claim."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
from benchmarks.harness import Figure, Unmeasured, measured
from benchmarks.support import sign

from benchmarks import bare, counted


def test_a_bench_that_fails_midway_reports_each_missing_figure_with_the_reason() -> None:
    def produce() -> Iterator[Figure]:
        yield Figure(bench="b", metric="first", value=1.0, unit="x")
        raise RuntimeError("the machine is too busy")

    reported = list(measured("b", ["first", "second", "third"], produce))

    assert [r.as_dict() for r in reported[1:]] == [
        {"bench": "b", "metric": "second", "error": "RuntimeError: the machine is too busy"},
        {"bench": "b", "metric": "third", "error": "RuntimeError: the machine is too busy"},
    ]
    assert isinstance(reported[0], Figure)
    assert not any(isinstance(r, Unmeasured) and r.metric == "first" for r in reported)


def test_the_bare_intake_checks_the_signature_and_stores_one_row(tmp_path: Path) -> None:
    database = tmp_path / "d.db"
    body = b'{"order_id": "o-1"}'
    with bare.served("intake", str(database)) as base:
        good = httpx2.post(
            f"{base}/hooks/1/orders/create",
            content=body,
            headers={"X-Signature": sign(body), "X-Delivery": "d-1"},
        )
        forged = httpx2.post(
            f"{base}/hooks/1/orders/create",
            content=body,
            headers={"X-Signature": sign(b"other"), "X-Delivery": "d-2"},
        )
    assert (good.status_code, forged.status_code) == (200, 401)
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT id, body FROM deliveries").fetchall() == [("d-1", body)]


def test_the_bare_json_endpoint_answers_an_order_sized_body() -> None:
    with bare.served("json") as base:
        answer = httpx2.get(f"{base}/admin/api/2026-04/orders/1.json")
    assert answer.status_code == 200
    assert answer.json()["order"]["line_items"][0]["sku"] == "SKU-0"


def test_bare_huey_executes_every_task_it_was_given() -> None:
    before = bare.EXECUTED[0]
    bare.huey_items_per_second(50)
    assert bare.EXECUTED[0] - before == 50


def test_the_counted_command_writes_how_many_statements_its_process_sent(tmp_path: Path) -> None:
    out = tmp_path / "counts.json"
    env = {
        **os.environ,
        "TRADEWIND_DATA_DIR": str(tmp_path / "data"),
        "TRADEWIND_DATABASE_URL": f"sqlite:///{tmp_path / 'tw.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.counted", str(out), "db", "upgrade"],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert counted.read(str(out)) > 20  # every migration's DDL went through the counter
    assert counted.read(str(tmp_path / "nothing.json")) == 0
