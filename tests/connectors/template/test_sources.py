"""Templates are offered beside the Python connectors: the shipped ones and a directory
of the merchant's own. A template that cannot be read, or whose id is taken, is listed
as broken with the reason, and nothing else is affected."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet

from tests.connectors.template.test_loader import GOOD
from tradewind.app import configure, templates
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.core.plugins import service as plugins
from tradewind.core.templates import service as templates_store
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


def test_a_plugin_keeps_its_file_templates_version_after_the_file_moves_on(
    settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "parcels.yaml").write_text(GOOD)
    on_dir = settings.model_copy(update={"templates_dir": folder})
    with Hub(on_dir) as hub:
        plugin_id = configure.create_plugin(
            hub, hub.registry.info("parcels"), name="parcels-eu", config={"api_key": "pk_1"}
        )
    (folder / "parcels.yaml").write_text(GOOD.replace("version: 1.2.0", "version: 1.3.0"))
    with Hub(on_dir) as hub:  # Tradewind restarted on the newer file
        assert hub.registry.info("parcels").version == "1.3.0"
        assert hub.templates.versions("parcels") == ["1.2.0", "1.3.0"]
        assert hub.templates.origins["parcels"] == str(folder / "parcels.yaml")
        assert not hub.registry.broken
        with hub.db.read() as session:
            plugin = plugins.get_plugin(session, plugin_id)
        assert hub.info_for(plugin).version == "1.2.0"
        offer = templates.upgrade_offer(hub, plugin_id)
        assert offer is not None
        assert (offer.current, offer.latest) == ("1.2.0", "1.3.0")


def test_a_stored_copy_never_outranks_the_file_it_was_taken_from(settings: Settings) -> None:
    with Hub(settings) as hub, hub.db.unit_of_work() as session:
        store = GOOD.replace("id: parcels", "id: rest_storefront")
        templates_store.store(session, "rest_storefront", "9.0.0", store)
    with Hub(settings) as hub:
        assert hub.registry.info("rest_storefront").version != "9.0.0"
        assert hub.registry.broken["rest_storefront 9.0.0 (uploaded)"] == (
            "the template id 'rest_storefront' is taken by shipped"
        )
