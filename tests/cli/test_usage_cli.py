"""The CLI's answers to a person at a terminal: a mistyped command is one line and exit 2,
a connector says which ``--set`` keys it takes, and a CSV import with refused rows imports
the rest, names each refused line and exits 2."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from tests.cli.test_cli import bad, ok, run
from tests.fakes import FakeConnector
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.core.catalog.models import Product
from tradewind.hub import Hub
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.settings import Settings


@pytest.fixture
def hub(sqlite_url: str, tmp_path: Path) -> Iterator[Hub]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_url,
        secret_keys=(Fernet.generate_key().decode(),),
    )
    registry = ConnectorRegistry.of(FakeConnector, ShopifyConnector)
    with Hub(settings, registry=registry) as built:
        yield built


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("plugins", "list", "--bogus"), "No such option: --bogus"),
        (("plugns",), "No such command 'plugns'. Did you mean 'plugins'?"),
        (("plugins", "toggle", "shop", "import_orders"), "Missing argument 'state'"),
        (("plugins", "toggle", "shop", "import_orders", "maybe"), "Invalid value for 'state'"),
        (("stock", "move", "receipt", "MUG", "many", "-w", "MAIN"), "Invalid value for"),
        (("plugins", "stock", "shop", "--mode", "sideways"), "Invalid value for '--mode'"),
    ],
)
def test_a_usage_error_is_one_line_and_exit_2(
    hub: Hub, args: tuple[str, ...], message: str
) -> None:
    line = bad(hub, *args)
    assert line.startswith("error: ")
    assert message in line
    assert "╭" not in line and "Usage:" not in line
    assert "--help' " not in line and line.endswith("--help')")  # where to read more


def test_the_installed_command_prints_one_line_too(tmp_path: Path) -> None:
    """The console script (``main``), not only the test runner's way in."""
    script = Path(sys.executable).with_name("tradewind")
    done = subprocess.run(
        [str(script), "plugins", "list", "--bogus"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: No such option: --bogus (see 'tradewind plugins list --help')"
    ]
    assert done.stdout == ""


def test_help_is_still_help(hub: Hub) -> None:
    code, out, _ = run(hub, "plugins", "--help")
    assert code == 0
    assert "connectors" in out
    code, out, err = run(hub, "plugins")  # no arguments: the help, as before
    assert "connectors" in out + err


def test_a_connector_lists_its_settings_keys_with_types_and_secrets(hub: Hub) -> None:
    out = ok(hub, "plugins", "connectors", "--settings", "shopify")
    rows = {
        line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:-1]]
        for line in out.splitlines()
        if line.startswith("│") and line.split("│")[1].strip()
    }
    assert list(rows)[:3] == ["store_url", "access_token", "client_id"]
    assert rows["store_url"][:3] == ["string", "yes", ""]
    assert rows["access_token"][:3] == ["string", "", "secret"]
    assert rows["client_secret"][2] == "secret"
    assert rows["webhook_secret"][2] == "secret"
    assert rows["client_id"][2] == ""
    assert rows["api_version"][3] == "2026-04"  # the default
    assert "--set key=value" in out


def test_settings_of_an_unknown_connector_name_the_installed_ones(hub: Hub) -> None:
    line = bad(hub, "plugins", "connectors", "--settings", "shopfy")
    assert "no connector 'shopfy'" in line
    assert "shopify" in line


def test_a_csv_with_refused_rows_imports_the_rest_names_each_line_and_exits_2(
    hub: Hub, tmp_path: Path
) -> None:
    csv = tmp_path / "products.csv"
    csv.write_text(
        "sku,title,price\n"
        "MUG,Blue mug,12.50\n"
        "PLATE,Plate,oops\n"
        "BOWL,Bowl,8\n"
        ",No SKU,3\n"
        "MUG,Blue mug again,13\n"
    )
    code, out, err = run(hub, "products", "import", str(csv))
    assert code == 2
    assert "2 created" in out and "3 rejected" in out
    refused = err.strip().splitlines()
    assert len(refused) == 3
    assert refused[0].startswith(f"{csv}:3 (PLATE): price:")
    assert refused[1].startswith(f"{csv}:5: ")
    assert refused[2].startswith(f"{csv}:6 (MUG): ") and "line 2" in refused[2]
    with hub.db.read() as session:
        skus = set(session.scalars(select(Product.sku)))
    assert skus == {"MUG", "BOWL"}


def test_a_clean_csv_exits_0(hub: Hub, tmp_path: Path) -> None:
    csv = tmp_path / "products.csv"
    csv.write_text("sku,title,price\nMUG,Blue mug,12.50\n")
    out = ok(hub, "products", "import", str(csv))
    assert "1 created" in out and "0 rejected" in out
