"""The CLI: Rich tables for people, exit status 2 and one line for bad input."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from typer.testing import CliRunner

from tests.fakeplatform import TOKEN, FakeMarketServer
from tests.fakes import FakeConnector
from tests.sync.conftest import Harness
from tradewind.cli import app
from tradewind.cli.common import CliState
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.core.inventory import service as inventory
from tradewind.core.links import service as links
from tradewind.core.plugins import service as plugins
from tradewind.hub import Hub
from tradewind.settings import Settings
from tradewind.sync.models import Backfill, SyncWork, WorkKind, WorkState

runner = CliRunner()


def run(hub: Hub, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), obj=CliState(hub_factory=lambda: hub))
    return result.exit_code, result.stdout, result.stderr


def ok(hub: Hub, *args: str) -> str:
    code, out, err = run(hub, *args)
    assert code == 0, f"{args}: exit {code}\n{out}\n{err}"
    return out


def bad(hub: Hub, *args: str) -> str:
    code, out, err = run(hub, *args)
    assert code == 2, f"{args}: exit {code}\n{out}\n{err}"
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_a_merchant_session(hub: Hub, tmp_path: Path) -> None:
    ok(hub, "warehouses", "add", "MAIN", "--name", "Main warehouse")
    ok(hub, "warehouses", "add", "EAST")
    csv = tmp_path / "products.csv"
    csv.write_text("sku,title,price\nMUG,Blue mug,12.50\nPLATE,Plate,oops\n")
    code, out, err = run(hub, "products", "import", str(csv))
    assert code == 2  # bad input: the good row is in, the bad row is listed
    assert "1 created" in out and "1 rejected" in out
    assert f"{csv}:3 (PLATE): price: 'oops' is not a number" in err
    ok(hub, "stock", "move", "receipt", "MUG", "10", "-w", "MAIN", "--reason", "PO 1")
    ok(hub, "stock", "move", "transfer", "MUG", "4", "-w", "MAIN", "--to", "EAST")
    ok(hub, "stock", "move", "adjustment", "MUG", "-1", "-w", "EAST", "--reason", "broken")
    out = ok(hub, "stock", "show")
    assert "MAIN" in out and "EAST" in out
    assert " 6 " in out and " 3 " in out
    assert "PO 1" in ok(hub, "stock", "movements", "--sku", "MUG")
    ok(hub, "channels", "add", "Shopify UK")
    ok(hub, "channels", "add", "Wholesale")
    ok(
        hub,
        "plugins",
        "add",
        "fake",
        "uk-store",
        "--set",
        "shop=uk-store",
        "--set",
        "api_token=shpat_secret_value_1234",
        "--channel",
        "Shopify UK",
    )
    out = ok(hub, "plugins", "toggle", "uk-store", "import_shipments", "on")
    assert "Switched on as well" in out and "Import Orders" in out
    out = ok(hub, "plugins", "show", "uk-store")
    assert "set (…1234)" in out and "shpat_secret" not in out
    code, out, err = run(hub, "plugins", "attach", "uk-store", "Wholesale")
    assert code == 0 and "import conflict" in err and "'Shopify UK', 'Wholesale'" in err
    assert "import conflict" in ok(hub, "plugins", "list")
    assert "Order import conflict" in ok(hub, "notifications", "list")
    ok(hub, "plugins", "detach", "uk-store", "Wholesale")
    assert "Order import conflict" not in ok(hub, "notifications", "list")
    assert "active since" in ok(hub, "plugins", "activate", "uk-store")
    assert "window 10s" in ok(
        hub, "plugins", "stock", "uk-store", "--mode", "delta", "--window", "10"
    )
    assert "1 channel" not in ok(hub, "status")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("stock", "move", "pick", "NOPE", "1", "-w", "MAIN"), "no product with SKU or id 'NOPE'"),
        (("stock", "move", "transfer", "MUG", "1", "-w", "MAIN"), "a transfer needs --to"),
        (("stock", "move", "pick", "MUG", "99", "-w", "MAIN"), "only 0 on hand"),
        (("stock", "move", "adjustment", "MUG", "-1", "-w", "MAIN"), "needs a reason"),
        (("plugins", "add", "nope", "x"), "no connector 'nope'"),
        (("plugins", "add", "fake", "x", "--set", "shop=BAD!"), "invalid Fake Market settings"),
        (("plugins", "add", "fake", "x", "--set", "oops"), "--set takes key=value"),
        (("plugins", "toggle", "ghost", "import_orders", "on"), "no plugin named 'ghost'"),
        (("channels", "add", "  "), "a channel needs a name"),
        (("products", "import", "/nonexistent.csv"), "no such file"),
    ],
)
def test_bad_input_exits_2_with_one_line(hub: Hub, args: tuple[str, ...], message: str) -> None:
    ok(hub, "warehouses", "add", "MAIN")
    ok(hub, "products", "add", "MUG", "Mug")
    assert message in bad(hub, *args)


def test_unsupported_toggle_is_refused_with_the_reason(hub: Hub) -> None:
    ok(hub, "plugins", "add", "fake", "s", "--set", "shop=shop", "--set", "api_token=t")
    assert "Fake Market has no listing API" in bad(
        hub, "plugins", "toggle", "s", "export_listings", "on"
    )


def test_plugin_runs_from_the_command_line(hub: Hub) -> None:
    """Test connection, sync now and a backfill: each queues its work (for the running
    engine) or answers at once, and says what it did; what cannot be done says why."""
    with FakeMarketServer() as market:
        ok(
            hub,
            *("plugins", "add", "fake", "shop", "--set", "shop=fake-shop"),
            *("--set", f"api_token={TOKEN}", "--set", f"base_url={market.url}"),
        )
        assert "the connection works (fake-shop" in ok(hub, "plugins", "test", "shop")
        assert "cannot read products" in bad(hub, "plugins", "sync-products", "shop")
        ok(hub, "channels", "add", "Web")
        ok(hub, "plugins", "attach", "shop", "Web")
        ok(hub, "plugins", "toggle", "shop", "import_orders", "on")
        assert "not active" in bad(hub, "plugins", "sync-now", "shop")
        ok(hub, "plugins", "activate", "shop")
        assert "queued poll_orders" in ok(hub, "plugins", "sync-now", "shop")
        out = ok(hub, "plugins", "backfill", "shop", "--from", "2026-01-01", "--to", "2026-01-31")
        assert "backfill #1 queued" in out
        assert "ends before it starts" in bad(
            hub, "plugins", "backfill", "shop", "--from", "2026-02-01", "--to", "2026-01-01"
        )
        market.market.token = "another"  # the merchant revoked the token
        code, _, err = run(hub, "plugins", "test", "shop")
        assert code == 1 and "the credentials do not work" in err
    with hub.db.read() as session:
        run_ = session.scalar(select(Backfill))
        assert run_ is not None
        assert (run_.start.date(), run_.end.date()) == (dt.date(2026, 1, 1), dt.date(2026, 2, 1))
        kinds = {row.kind for row in session.scalars(select(SyncWork))}
    assert {WorkKind.POLL_ORDERS, WorkKind.BACKFILL} <= kinds


def test_keys_rotate_reencrypts_with_a_new_key_file_key(tmp_path: Path) -> None:
    env = {**os.environ, "TRADEWIND_DATA_DIR": str(tmp_path / "var")}
    env.pop("TRADEWIND_SECRET_KEYS", None)
    env.pop("TRADEWIND_DATABASE_URL", None)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tradewind", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    first = cli("db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert "Generated an encryption key file" in first.stderr
    key_file = tmp_path / "var" / "secret.keys"
    before = key_file.read_text()
    result = cli("keys", "rotate")
    assert result.returncode == 0, result.stderr
    assert "re-encrypted 0 secret(s)" in result.stdout
    after = key_file.read_text().splitlines()
    assert len([line for line in after if not line.startswith("#")]) == 2
    assert before.splitlines()[-1] in after


@pytest.fixture
def loopback_hub(settings: Settings) -> Iterator[Hub]:
    """A hub that may call the Fake Market on loopback (as a sandbox)."""
    opened = settings.model_copy(update={"allow_sandbox_hosts": True})
    with Hub(opened, registry=ConnectorRegistry.of(FakeConnector)) as built:
        yield built


def test_plugin_commands_do_what_the_api_and_ui_do(loopback_hub: Hub) -> None:
    """`plugins activate` and `plugins stock` are the same actions as the API's and the
    UI's: activating reads the locations and sends the stock, switching to absolute sends
    everything (the README's CLI path syncs stock)."""
    with FakeMarketServer() as market:
        ok(
            loopback_hub,
            *("plugins", "add", "fake", "shop", "--set", "shop=fake-shop"),
            *("--set", f"api_token={TOKEN}", "--set", f"base_url={market.url}"),
        )
        ok(loopback_hub, "warehouses", "add", "MAIN")
        ok(loopback_hub, "products", "add", "MUG", "Mug")
        ok(loopback_hub, "stock", "move", "receipt", "MUG", "5", "-w", "MAIN", "--reason", "PO 1")
        ok(loopback_hub, "plugins", "activate", "shop")
        harness = Harness(loopback_hub)
        with loopback_hub.db.read() as session:
            plugin = plugins.plugin_by_ref(session, "shop")
        harness.run(plugin.id)
        assert market.market.calls["GET /locations"] == 1  # activation read the locations
        with loopback_hub.db.unit_of_work() as session:
            warehouse = inventory.warehouse_by_ref(session, "MAIN")
            links.map_location(session, plugin.id, "loc-1", warehouse_id=warehouse.id)
        assert "stock absolute" in ok(
            loopback_hub, "plugins", "stock", "shop", "--mode", "absolute"
        )
        assert _due(loopback_hub, plugin.id) == {WorkKind.PUSH_STOCK}  # everything goes out at once
        harness.run(plugin.id)
        assert market.market.stock[("MUG", "loc-1")] == 5
        ok(loopback_hub, "plugins", "deactivate", "shop")
        ok(loopback_hub, "plugins", "activate", "shop")
        assert WorkKind.PUSH_STOCK in _due(loopback_hub, plugin.id)  # activating sends the stock


def _due(hub: Hub, plugin_id: int) -> set[WorkKind]:
    with hub.db.read() as session:
        rows = session.scalars(
            select(SyncWork).where(
                SyncWork.plugin_id == plugin_id, SyncWork.state == WorkState.PENDING
            )
        )
        return {row.kind for row in rows}


def test_run_on_another_port_gives_the_platforms_that_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tradewind run --port N` registers webhooks (and OAuth callbacks) at N, not at the
    default 8000; TRADEWIND_BASE_URL, when set, still wins."""
    from tradewind.cli import serve

    served: list[tuple[str, int]] = []
    monkeypatch.setattr(serve, "configure_logging", lambda settings: None)
    monkeypatch.setattr(
        serve,
        "_serve",
        lambda hub, host, port, worker: served.append((hub.settings.base_url, port)),
    )
    for name in ("BASE_URL", "HOST", "PORT", "DATABASE_URL", "QUEUE_URL"):
        monkeypatch.delenv(f"TRADEWIND_{name}", raising=False)
    monkeypatch.setenv("TRADEWIND_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRADEWIND_SECRET_KEYS", Fernet.generate_key().decode())
    assert runner.invoke(app, ["run", "--port", "9123", "--no-worker"]).exit_code == 0
    monkeypatch.setenv("TRADEWIND_BASE_URL", "https://hub.example.com")
    assert runner.invoke(app, ["run", "--port", "9124", "--no-worker"]).exit_code == 0
    assert served == [("http://127.0.0.1:9123", 9123), ("https://hub.example.com", 9124)]
