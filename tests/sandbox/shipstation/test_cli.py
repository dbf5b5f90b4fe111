"""``tradewind sandbox shipstation``: serves the API on the port asked for and prints the
base URL, then the API key, then the secret."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx2


def run_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tradewind.sandbox", "shipstation", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )


def test_the_command_line_prints_the_base_url_key_and_secret() -> None:
    process = run_cli("--key", "k" * 32, "--per-minute", "2")
    try:
        assert process.stdout is not None
        base = process.stdout.readline().strip()
        key = process.stdout.readline().strip()
        secret = process.stdout.readline().strip()
        assert base.startswith("http://127.0.0.1:")
        assert key == "k" * 32
        assert len(secret) == 32
        with httpx2.Client(base_url=base, auth=(key, secret)) as http:
            first = http.get("/orders")
            assert first.status_code == 200
            assert first.headers["X-Rate-Limit-Limit"] == "2"
            http.get("/orders")
            assert http.get("/orders").status_code == 429
        with httpx2.Client(base_url=base, auth=(key, "wrong")) as wrong:
            assert wrong.get("/orders").status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0


def test_the_command_line_can_run_without_limits_or_a_manual_store() -> None:
    process = run_cli("--no-limits", "--no-manual-store")
    try:
        assert process.stdout is not None
        base, key, secret = (process.stdout.readline().strip() for _ in range(3))
        with httpx2.Client(base_url=base, auth=(key, secret)) as http:
            assert all(http.get("/stores").status_code == 200 for _ in range(45))
            assert http.get("/stores").json() == []
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
