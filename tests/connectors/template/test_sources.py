"""Templates are offered beside the Python connectors: the shipped ones and a directory
of the merchant's own. A template that cannot be read, or whose id is taken, is listed
as broken with the reason, and nothing else is affected."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet

from tests.connectors.template.test_loader import GOOD
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.hub import Hub
from tradewind.settings import Settings


def installed(settings: Settings) -> ConnectorRegistry:
    with Hub(settings) as hub:
        return hub.registry


def _settings(tmp_path: Path, templates: Path | None) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        secret_keys=(Fernet.generate_key().decode(),),
        templates_dir=templates,
    )


def test_the_shipped_templates_sit_beside_the_python_connectors(tmp_path: Path) -> None:
    registry = installed(_settings(tmp_path, None))
    assert {"shopify", "vendure", "rest_storefront"} <= set(registry.connectors)
    assert registry.info("rest_storefront").name == "REST storefront"
    assert not registry.broken


def test_the_merchants_directory_adds_its_templates_and_reports_bad_ones(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "parcels.yaml").write_text(GOOD)
    (folder / "broken.yaml").write_text(GOOD.replace("id: parcels", "id: Parcels!"))
    (folder / "shopify.yaml").write_text(GOOD.replace("id: parcels", "id: shopify"))
    (folder / "again.yml").write_text(GOOD.replace("version: 1.2.0", "version: 1.3.0"))
    (folder / "parcels.cases.yaml").write_text("format: tradewind-template-cases/v1\n")
    registry = installed(_settings(tmp_path, folder))
    assert registry.info("parcels").version == "1.3.0"  # the first file (by name) kept
    assert registry.info("shopify").name == "Shopify"  # the Python connector keeps its id
    assert registry.broken["broken.yaml"].startswith("line 2, column 1: id: String should")
    assert registry.broken["shopify"] == (
        "its id 'shopify' is taken by the connector already installed"
    )
    assert registry.broken["parcels (" + str(folder / "parcels.yaml") + ")"] == (
        "the template id 'parcels' is already taken by " + str(folder / "again.yml")
    )
    assert not [key for key in registry.broken if "cases" in key]  # cases are no template
