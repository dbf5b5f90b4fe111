"""``tradewind sandbox easypost``: serves the API on the port asked for and prints the
API base URL, then the test key it created."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx2


def run_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tradewind.sandbox", "easypost", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )


def test_the_command_line_prints_the_base_and_a_working_test_key() -> None:
    process = run_cli("--production-key", "EZAKcli")
    try:
        assert process.stdout is not None
        api_base = process.stdout.readline().strip()
        key = process.stdout.readline().strip()
        assert api_base.startswith("http://127.0.0.1:")
        assert api_base.endswith("/v2")
        assert key.startswith("EZTK")
        with httpx2.Client(base_url=api_base, auth=(key, "")) as http:
            made = http.post("/trackers", json={"tracker": {"tracking_code": "EZ1000000001"}})
            assert made.status_code == 201
            assert made.json()["mode"] == "test"
        with httpx2.Client(base_url=api_base, auth=("EZAKcli", "")) as live:
            assert live.get("/trackers").json()["trackers"] == []
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0


def test_the_command_line_refuses_a_key_of_the_wrong_kind() -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "tradewind.sandbox", "easypost", "--key", "EZAKlive"],
        capture_output=True,
        text=True,
        env=dict(os.environ, COLUMNS="200", NO_COLOR="1", TERM="dumb"),
        check=False,
    )
    assert answer.returncode == 2
    assert "EZTK" in answer.stderr
