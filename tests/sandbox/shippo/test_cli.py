"""``tradewind sandbox shippo``: serves the API on the port asked for and prints the base
URL, then the test token it created."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx2


def test_the_command_line_prints_the_base_url_and_a_working_test_token() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tradewind.sandbox", "shippo", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    try:
        assert process.stdout is not None
        base = process.stdout.readline().strip()
        token = process.stdout.readline().strip()
        assert base.startswith("http://127.0.0.1:")
        assert token.startswith("shippo_test_")
        headers = {"Authorization": f"ShippoToken {token}"}
        track = httpx2.get(f"{base}/tracks/shippo/SHIPPO_TRANSIT", headers=headers)
        assert track.status_code == 200
        assert track.json()["test"] is True
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0


def test_the_command_line_refuses_a_live_token() -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "tradewind.sandbox", "shippo", "--token", "shippo_live_x"],
        capture_output=True,
        text=True,
        env=dict(os.environ, COLUMNS="200", NO_COLOR="1", TERM="dumb"),
        check=False,
    )
    assert answer.returncode == 2
    assert "shippo_test_" in answer.stderr
