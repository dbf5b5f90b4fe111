"""A connector imports only the SDK's public surface (``tradewind.connectors``) and its own
package: never the core, the engine, another connector or an SDK submodule."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tradewind

SRC = Path(tradewind.__file__).parent
PACKAGES = sorted(path.parent for path in (SRC / "integrations").glob("*/__init__.py"))


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize(
    "package", [*PACKAGES, SRC / "connectors" / "example"], ids=lambda path: path.name
)
def test_a_connector_imports_the_sdk_and_itself_only(package: Path) -> None:
    own = ".".join(package.relative_to(SRC.parent).parts)
    for module in sorted(package.rglob("*.py")):
        for name in sorted(imported(module)):
            if name == "tradewind" or name.startswith("tradewind."):
                allowed = name in {"tradewind.connectors", own} or name.startswith(f"{own}.")
                assert allowed, f"{module.relative_to(SRC)} imports {name}"


def test_both_built_ins_are_checked() -> None:
    assert [path.name for path in PACKAGES] == ["shopify", "vendure"]
