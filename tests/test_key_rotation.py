"""Rotating the encryption keys while Tradewind runs: a server started before
``tradewind keys rotate`` (another process) keeps reading its plugins and accepting their
webhooks, ``keys retire`` is a later step that refuses while anything needs the old key,
and credentials no key opens pause their plugin with a notification, never a 500."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
import uvicorn
from sqlalchemy import select
from typer.testing import CliRunner

from tests import factories
from tests.fakes import FakeConnector
from tests.sync.conftest import Harness
from tradewind.auth import service as auth
from tradewind.auth.models import TokenScope
from tradewind.cli import app as cli
from tradewind.cli.common import CliState
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import PluginState
from tradewind.hub import Hub
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.server import create_app
from tradewind.settings import Settings
from tradewind.sync import ledger
from tradewind.sync.inbox import Inbox
from tradewind.sync.models import SyncWork, WorkKind, WorkState
from tradewind.vault import (
    UNREADABLE,
    Vault,
    fingerprint,
    generate_key,
    read_key_file,
    write_key_file,
)

HOOK_SECRET = "hook-secret-for-rotation"


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str) -> Settings:
    """Keys from the key file in the data directory (not TRADEWIND_SECRET_KEYS)."""
    return Settings(data_dir=tmp_path / "data", database_url=sqlite_url, secret_keys=())


@pytest.fixture
def hub(settings: Settings) -> Iterator[Hub]:
    with Hub(settings, registry=ConnectorRegistry.of(FakeConnector)) as built:
        yield built


def active_plugin(hub: Hub) -> int:
    with hub.db.unit_of_work() as session:
        plugin = factories.plugin(hub, session, import_orders=False)
        plugins.update_plugin_settings(
            session, hub.vault, FakeConnector.info, plugin.id, {"webhook_secret": HOOK_SECRET}
        )
        plugins.activate(session, plugin.id)
        return plugin.id


def webhook(delivery: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"order_id": "A1"}).encode()
    digest = hmac.new(HOOK_SECRET.encode(), body, hashlib.sha256).digest()
    return body, {
        "x-fake-signature": base64.b64encode(digest).decode(),
        "x-fake-delivery": delivery,
        "content-type": "application/json",
    }


@dataclass
class Running:
    """Tradewind's API served by uvicorn on a port the OS picked."""

    url: str
    token: str

    def get(self, path: str) -> httpx2.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx2.get(f"{self.url}/api/v1{path}", headers=headers, timeout=30)

    def hook(self, plugin_id: int, delivery: str) -> httpx2.Response:
        body, headers = webhook(delivery)
        url = f"{self.url}/hooks/{plugin_id}/orders/create"
        return httpx2.post(url, content=body, headers=headers, timeout=30)


@pytest.fixture
def running(hub: Hub) -> Iterator[Running]:
    with hub.db.unit_of_work() as session:
        token = auth.create_token(session, "ops", TokenScope.READ_WRITE).secret
    server = uvicorn.Server(
        uvicorn.Config(create_app(hub), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:  # waiting for a start, not standing in for one
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Running(f"http://127.0.0.1:{port}", token)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def tradewind(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a process of its own, on the same data directory and database."""
    env = {
        **os.environ,
        "TRADEWIND_DATA_DIR": str(settings.data_dir),
        "TRADEWIND_DATABASE_URL": settings.resolved_database_url,
    }
    env.pop("TRADEWIND_SECRET_KEYS", None)
    return subprocess.run(
        [sys.executable, "-m", "tradewind", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_running_server_follows_a_rotation_made_by_another_process(
    hub: Hub, settings: Settings, running: Running
) -> None:
    plugin_id = active_plugin(hub)
    assert running.get(f"/plugins/{plugin_id}").status_code == 200
    assert running.hook(plugin_id, "before").status_code == 200
    old = read_key_file(settings.key_file)

    rotated = tradewind(settings, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    assert "re-encrypted 1 secret(s)" in rotated.stdout
    keys = read_key_file(settings.key_file)
    assert len(keys) == 2 and keys[1:] == old

    # The server, started before, reads the re-encrypted plugin and takes its webhooks.
    shown = running.get(f"/plugins/{plugin_id}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["state"] == "active"
    assert shown.json()["settings"]["webhook_secret"] == "set (…tion)"
    assert running.hook(plugin_id, "after").status_code == 200
    fresh = Inbox(hub)  # no cached verifier: opens the rotated credentials itself
    body, headers = webhook("after-uncached")
    assert fresh.accept(plugin_id, "orders/create", headers, body).status == 200
    fresh.close()
    # What it seals now is under the new key.
    sealed = hub.vault.seal("check", "x", {"a": "b"})
    assert Vault([keys[0]]).open("check", "x", sealed) == {"a": "b"}

    retired = tradewind(settings, "keys", "retire")
    assert retired.returncode == 0, retired.stderr
    assert read_key_file(settings.key_file) == keys[:1]
    assert running.get(f"/plugins/{plugin_id}").status_code == 200
    assert running.hook(plugin_id, "retired").status_code == 200
    assert hub.vault.keys == (keys[0],)


def run_cli(hub: Hub, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), obj=CliState(hub_factory=lambda: hub))
    return result.exit_code, result.stdout + result.stderr


def test_retire_refuses_while_a_stored_secret_needs_the_old_key(
    hub: Hub, settings: Settings
) -> None:
    plugin_id = active_plugin(hub)
    old = read_key_file(settings.key_file)
    # A new first key, nothing re-encrypted yet (as if a process sealed under the old one).
    write_key_file(settings.key_file, [generate_key(), *old])
    code, said = run_cli(hub, "keys", "retire")
    assert code == 2 and "1 stored secret(s) still need key" in said
    assert "plugins.credentials" in said
    assert len(read_key_file(settings.key_file)) == 2  # nothing retired

    code, said = run_cli(hub, "keys", "list")
    assert code == 0 and "encrypts" in said and "decrypts" in said

    code, said = run_cli(hub, "keys", "rotate", "--no-new-key")
    assert code == 0, said
    assert len(read_key_file(settings.key_file)) == 2  # no key added
    code, said = run_cli(hub, "keys", "retire")
    assert code == 0, said
    assert len(read_key_file(settings.key_file)) == 1
    with hub.db.read() as session:
        stored = plugins.read_credentials(hub.vault, plugins.get_plugin(session, plugin_id))
    assert stored["webhook_secret"] == HOOK_SECRET


def test_the_first_key_cannot_be_retired(hub: Hub, settings: Settings) -> None:
    code, said = run_cli(hub, "keys", "retire")
    assert code == 0 and "nothing to retire" in said
    first = hub.vault.keys[0]
    code, said = run_cli(hub, "keys", "retire", "--key", fingerprint(first))
    assert code == 2 and "cannot be retired" in said
    assert read_key_file(settings.key_file) == [first]


def test_credentials_no_key_opens_pause_the_plugin_visibly_never_a_500(
    hub: Hub, settings: Settings, running: Running
) -> None:
    plugin_id = active_plugin(hub)
    old = read_key_file(settings.key_file)
    with hub.db.unit_of_work() as session:
        ledger.enqueue(session, plugin_id, WorkKind.POLL_ORDERS)
    write_key_file(settings.key_file, [generate_key()])  # the key that sealed them is gone

    shown = running.get(f"/plugins/{plugin_id}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["state"] == "credentials_unreadable"
    assert shown.json()["settings"]["api_token"] == UNREADABLE
    assert running.get("/plugins").status_code == 200
    assert running.hook(plugin_id, "lost").status_code == 503
    Harness(hub).run(plugin_id)  # the engine neither fails nor drops the work
    with hub.db.read() as session:
        plugin = plugins.get_plugin(session, plugin_id)
        assert plugin.state is PluginState.CREDENTIALS_UNREADABLE
        kinds = [n.kind for n in notifications.open_notifications(session, plugin_id=plugin_id)]
        assert kinds == [NotificationKind.CREDENTIALS_UNREADABLE]
        work = session.scalars(select(SyncWork).where(SyncWork.plugin_id == plugin_id)).all()
        assert [(row.kind, row.state) for row in work] == [
            (WorkKind.POLL_ORDERS, WorkState.PENDING)
        ]

    write_key_file(settings.key_file, old)  # the key is restored: the plugin resumes
    shown = running.get(f"/plugins/{plugin_id}")
    assert shown.json()["state"] == "active"
    assert running.hook(plugin_id, "restored").status_code == 200
    with hub.db.read() as session:
        assert notifications.open_notifications(session, plugin_id=plugin_id) == []


def test_secrets_given_again_replace_credentials_no_key_opens(hub: Hub, settings: Settings) -> None:
    plugin_id = active_plugin(hub)
    write_key_file(settings.key_file, [generate_key()])
    refused = pytest.raises(plugins.CredentialsUnreadable, match="give api_token, webhook_secret")
    with refused, hub.db.unit_of_work() as session:
        plugins.update_plugin_settings(
            session, hub.vault, FakeConnector.info, plugin_id, {"poll_minutes": 5}
        )
    with hub.db.unit_of_work() as session:
        plugins.update_plugin_settings(
            session,
            hub.vault,
            FakeConnector.info,
            plugin_id,
            {"api_token": "tok-new-5678", "webhook_secret": None},
        )
    with hub.db.read() as session:
        plugin = plugins.get_plugin(session, plugin_id)
        assert plugins.read_credentials(hub.vault, plugin) == {"api_token": "tok-new-5678"}
