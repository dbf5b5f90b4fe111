"""``tradewind sandbox taxjar``: serves on the port asked (0: a free one) and prints the
base URL and a token that works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx2


def test_cli_prints_a_working_token() -> None:
    tradewind = Path(sys.executable).with_name("tradewind")
    process = subprocess.Popen(
        [str(tradewind), "sandbox", "taxjar", "--port", "0", "--token", "cli-token"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        token = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        assert token == "cli-token"
        response = httpx2.get(
            f"{base_url}/v2/nexus/regions", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200
        assert response.json()["regions"][0]["region_code"] == "CA"
    finally:
        process.terminate()
        process.wait(timeout=10)
