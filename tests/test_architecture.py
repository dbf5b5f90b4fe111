"""The import contracts of the architecture (``[tool.importlinter]`` in pyproject.toml):
kept by the tree as it is, and broken — naming the import — by each kind of forbidden
import, shown on a copy of the package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(config: Path, source: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(source), "COLUMNS": "300"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_tree_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint(ROOT / "pyproject.toml", ROOT / "src", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "forbidden", "contract"),
    [
        ("web/render.py", "tradewind.api.problems", "The three faces"),
        ("api/health.py", "tradewind.cli.common", "The three faces"),
        ("core/orders/service.py", "tradewind.sync.ledger", "The core knows nothing"),
        ("core/catalog/service.py", "tradewind.connectors.base", "The core knows nothing"),
        ("sync/ledger.py", "tradewind.app.present", "The engine never reaches up"),
        ("app/calls.py", "tradewind.web.session", "The application layer"),
        ("sync/handlers/stock.py", "tradewind.monitoring.executions", "A handler settles"),
        ("integrations/shopify/orders.py", "tradewind.core.orders.models", "An integration"),
        ("integrations/shopify/orders.py", "tradewind.integrations.vendure", "Integrations never"),
        ("sandbox/shopify/faults.py", "tradewind.db", "The sandbox is a platform"),
        ("connectors/records.py", "tradewind.core.orders.models", "The connector SDK stands"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, forbidden: str, contract: str
) -> None:
    source = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "tradewind",
        source / "tradewind",
        ignore=lambda _dir, names: [n for n in names if n in ("static", "templates")],
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = source / "tradewind" / module
    target.write_text(target.read_text() + f"\nimport {forbidden}  # noqa\n")

    result = _lint(tmp_path / "pyproject.toml", source, tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    broken = [line for line in result.stdout.splitlines() if " BROKEN" in line]
    assert any(line.startswith(contract) for line in broken), result.stdout
    importer = "tradewind." + module.removesuffix(".py").replace("/", ".")
    assert f"{importer} -> {forbidden}" in result.stdout
