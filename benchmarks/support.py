"""What the engine benchmarks share: a connector that costs nothing (so the figures are
the engine's, not a platform's), a hub on a throwaway database, and child processes that
discover that connector the way they would a third-party one (entry points)."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import httpx2
from cryptography.fernet import Fernet
from pydantic import BaseModel, SecretStr
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tradewind import migrations
from tradewind.connectors import Capability, ConnectorInfo, Rejected, Toggle
from tradewind.connectors.base import ConnectorContext
from tradewind.connectors.records import (
    OrderRecord,
    StockPush,
    StockPushResult,
    WebhookEvent,
)
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.core.channels import service as channels
from tradewind.core.plugins import service as plugins
from tradewind.db import make_engine, utcnow
from tradewind.hub import Hub
from tradewind.settings import Settings
from tradewind.vocabulary import StockMode

REPO = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SECRET = "bench-webhook-secret"  # noqa: S105 (a benchmark fixture, not a credential)


class NullSettings(BaseModel):
    shop: str
    webhook_secret: SecretStr


class NullConnector:
    """Answers at once: every order is gone (``get_order`` → None), webhooks are HMAC,
    stock is accepted 250 levels a call and each call noted in ``pushed`` (when, levels)."""

    pushed: ClassVar[list[tuple[float, list[StockPush]]]] = []
    stock_batch_size = 250

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        key="null",
        name="Null platform",
        settings=NullSettings,
        toggles=frozenset({Toggle.IMPORT_ORDERS}),
        unsupported={t: "benchmark connector" for t in Toggle if t is not Toggle.IMPORT_ORDERS},
        capabilities=frozenset(
            {Capability.IMPORT_ORDERS, Capability.RECEIVE_WEBHOOKS, Capability.PUSH_STOCK}
        ),
        guide="Benchmarks only.",
    )

    def __init__(self, settings: NullSettings, context: ConnectorContext) -> None:
        self.secret = settings.webhook_secret.get_secret_value().encode()

    def close(self) -> None:
        return None

    def list_orders(self, query: Any, cursor: str | None, priority: Any) -> Any:
        from tradewind.connectors.records import Page

        return Page(records=[], next_cursor=None)

    def get_order(self, external_id: str) -> OrderRecord | None:
        return None

    def push_stock(self, pushes: Sequence[StockPush], mode: StockMode) -> list[StockPushResult]:
        NullConnector.pushed.append((time.monotonic(), list(pushes)))
        return [
            StockPushResult(
                product_id=p.product_id,
                location_ref=p.location_ref,
                ok=True,
                platform_quantity=p.available,
            )
            for p in pushes
        ]

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        given = headers.get("x-signature", "")
        digest = base64.b64encode(hmac.new(self.secret, body, hashlib.sha256).digest()).decode()
        return hmac.compare_digest(digest, given)

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        try:
            payload = json.loads(body)
        except json.JSONDecodeError as exc:
            raise Rejected(f"not JSON: {exc.msg}") from None
        return WebhookEvent(
            delivery_id=headers.get("x-delivery", ""),
            topic=topic,
            subject="order",
            subject_id=str(payload["order_id"]),
        )


def sign(body: bytes) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


def entry_point_dir(root: Path) -> Path:
    dist = root / "tradewind_bench_connector-1.0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: tradewind-bench-connector\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text(
        "[tradewind.connectors]\nnull = benchmarks.support:NullConnector\n"
    )
    return root


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    name = f"tradewind_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def bench_hub(
    database_url: str | None = None, queue_url: str | None = None, **settings: Any
) -> Iterator[Hub]:
    with tempfile.TemporaryDirectory() as data:
        config = Settings(
            data_dir=Path(data),
            database_url=database_url,
            queue_url=queue_url,
            secret_keys=(Fernet.generate_key().decode(),),
            **settings,
        )
        engine = make_engine(config.resolved_database_url)
        migrations.upgrade(engine)
        engine.dispose()
        with Hub(config, registry=ConnectorRegistry.of(NullConnector)) as hub:
            yield hub


def null_plugins(hub: Hub, count: int) -> list[int]:
    ids = []
    with hub.db.unit_of_work() as session:
        for number in range(count):
            channel = channels.create_channel(session, f"bench {number}")
            plugin = plugins.add_plugin(
                session,
                hub.vault,
                NullConnector.info,
                name=f"null-{number}",
                config={"shop": f"s{number}", "webhook_secret": SECRET},
            )
            plugins.attach(session, plugin.id, channel.id)
            plugins.set_toggle(session, NullConnector.info, plugin.id, Toggle.IMPORT_ORDERS, True)
            activated = plugins.activate(session, plugin.id)
            activated.enabled_at = utcnow() - dt.timedelta(days=1)
            ids.append(plugin.id)
    return ids


def child_env(hub: Hub, extra_path: Path) -> dict[str, str]:
    settings = hub.settings
    return {
        **os.environ,
        "PYTHONPATH": f"{extra_path}{os.pathsep}{REPO}",
        "TRADEWIND_DATABASE_URL": settings.resolved_database_url,
        "TRADEWIND_QUEUE_URL": settings.resolved_queue_url,
        "TRADEWIND_SECRET_KEYS": ",".join(k.get_secret_value() for k in settings.secret_keys),
        "TRADEWIND_DATA_DIR": str(settings.data_dir),
        "TRADEWIND_LOG_LEVEL": "WARNING",
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def tradewind_server(hub: Hub, extra: Path) -> Iterator[str]:
    """``tradewind run --no-worker`` on ``hub``'s database in a child process that finds
    the null connector through entry points in ``extra``; yields its base URL once healthy.
    Stopped gracefully (SIGTERM) on exit."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tradewind", "run", "--no-worker", "--port", str(port)],
        env=child_env(hub, entry_point_dir(extra)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, server)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"tradewind run exited with {server.returncode}")
        try:
            if httpx2.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("tradewind run did not start")
