"""The SDK's public surface: every exported name resolves once, the essentials come
first, and the example connector needs nothing beyond the surface."""

from __future__ import annotations

import ast
from pathlib import Path

import tradewind.connectors as sdk

ESSENTIALS = {
    "ConnectorInfo",
    "Capability",
    "Toggle",
    "capabilities_for",
    "ConnectorContext",
    "HttpClient",
    "BucketPolicy",
    "Priority",
    "AuthFailed",
    "RateLimited",
    "Unavailable",
    "Rejected",
    "Page",
    "ConnectionReport",
    "WebhookEvent",
}


def test_every_exported_name_resolves_once() -> None:
    assert len(sdk.__all__) == len(set(sdk.__all__))
    for name in sdk.__all__:
        assert getattr(sdk, name) is not None, name


def test_the_essentials_are_the_first_group() -> None:
    assert set(sdk.__all__[: len(ESSENTIALS)]) == ESSENTIALS
    for name in ESSENTIALS:
        assert f"``{name}``" in (sdk.__doc__ or ""), f"{name} is not in the module docstring"


def test_the_example_connector_imports_the_surface_only() -> None:
    example = Path(sdk.__file__).parent / "example"
    for module in example.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "tradewind.connectors":
                assert {alias.name for alias in node.names} <= set(sdk.__all__), module.name
