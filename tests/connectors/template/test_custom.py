"""Templates of the merchant's own, uploaded (Create Custom, the API, the CLI): stored
per version, taken in by every process, refused whole with one clear reason when they
cannot be used; a plugin stays on the version it was made with until it is upgraded,
and a major version needs the merchant's confirmation."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.connectors.template.test_loader import GOOD
from tradewind.app import templates
from tradewind.core.plugins import service as plugins
from tradewind.core.templates.models import StoredTemplate
from tradewind.errors import Conflict, Invalid
from tradewind.hub import Hub
from tradewind.sync import schedule
from tradewind.sync.runtime import CallBuffer, open_connector

NEWER = GOOD.replace("version: 1.2.0", "version: 1.3.0").replace(
    "  label_format:", "  insurance: {type: boolean, default: false}\n  label_format:"
)
MAJOR = GOOD.replace("version: 1.2.0", "version: 2.0.0").replace(
    "  label_format:", "  account: {type: string}\n  label_format:"
)


def _stored(hub: Hub) -> int:
    with hub.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(StoredTemplate)) or 0)


def _plugin(hub: Hub) -> int:
    with hub.db.unit_of_work() as session:
        info = hub.registry.info("parcels")
        return plugins.add_plugin(
            session, hub.vault, info, name="parcels-eu", config={"api_key": "pk_test_1"}
        ).id


def test_an_upload_becomes_a_connector_type_here_and_in_every_process(hub: Hub) -> None:
    saved = templates.save_custom(hub, GOOD, by="ops")
    assert (saved.id, saved.version, saved.hooks) == ("parcels", "1.2.0", ["get_rates"])
    assert hub.registry.info("parcels").name == "Parcels"
    assert [t.id for t in templates.catalogue(hub)] == ["parcels"]
    templates.save_custom(hub, GOOD)  # the same version again: nothing changes
    assert _stored(hub) == 1
    with Hub(hub.settings, registry=hub.python_registry) as worker:  # another process
        worker.refresh_templates()  # reads what was uploaded
        assert "parcels" in worker.registry.connectors


def test_a_worker_takes_an_upload_in_at_its_sweep(hub: Hub) -> None:
    with Hub(hub.settings, registry=hub.python_registry) as worker:
        assert "parcels" not in worker.registry.connectors
        templates.save_custom(hub, GOOD)
        schedule.sweep(worker, lambda plugin_id, due: None)
        assert "parcels" in worker.registry.connectors


@pytest.mark.parametrize(
    ("text", "error", "words"),
    [
        (GOOD.replace("id: parcels", "id: fake"), Conflict, "is a connector's already installed"),
        (GOOD.replace("steps.shipment.body", "steps.shipmnt.body"), Invalid, "line 24, column 19"),
        (GOOD.replace("settings.label_format", "secrets.api_key"), Invalid, "only `auth`"),
        ("a: &x [1]\nb: *x\n", Invalid, "anchors and aliases are not allowed"),
        (GOOD + "#" + "x" * 300_000, Invalid, "at most 256 KiB"),
    ],
)
def test_what_cannot_be_used_is_refused_with_one_reason_and_nothing_stored(
    hub: Hub, text: str, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        templates.save_custom(hub, text)
    assert _stored(hub) == 0


def test_a_published_version_never_changes_and_versions_only_go_up(hub: Hub) -> None:
    templates.save_custom(hub, NEWER)
    with pytest.raises(Conflict, match="already stored with other content"):
        templates.save_custom(hub, NEWER.replace("Parcels", "Parcels!"))
    with pytest.raises(Conflict, match=r"needs a higher version than 1\.2\.0"):
        templates.save_custom(hub, GOOD)
    assert _stored(hub) == 1


def test_a_plugin_keeps_its_version_until_upgraded_and_a_major_needs_confirmation(
    hub: Hub,
) -> None:
    templates.save_custom(hub, GOOD)
    plugin_id = _plugin(hub)
    templates.save_custom(hub, NEWER)
    assert hub.registry.info("parcels").version == "1.3.0"  # the catalogue's newest
    with hub.db.read() as session:
        plugin = plugins.get_plugin(session, plugin_id)
    assert hub.connector_for(plugin).info.version == "1.2.0"  # the plugin's own
    connector = open_connector(hub, plugin, CallBuffer())
    assert connector.info.version == "1.2.0"
    connector.close()

    offer = templates.upgrade_offer(hub, plugin_id)
    assert offer is not None
    assert (offer.current, offer.latest, offer.major, offer.added) == (
        "1.2.0",
        "1.3.0",
        False,
        ["insurance"],
    )
    templates.upgrade(hub, plugin_id)
    assert templates.upgrade_offer(hub, plugin_id) is None

    templates.save_custom(hub, MAJOR)
    offer = templates.upgrade_offer(hub, plugin_id)
    assert offer is not None and offer.major and offer.needs == ["account"]
    with pytest.raises(Conflict, match=r"is a major version .* confirm the upgrade"):
        templates.upgrade(hub, plugin_id)
    with pytest.raises(Invalid, match="needs settings this plugin has not got: account"):
        templates.upgrade(hub, plugin_id, confirm_major=True)


def test_a_template_in_use_cannot_be_deleted(hub: Hub) -> None:
    templates.save_custom(hub, GOOD)
    _plugin(hub)
    with pytest.raises(Conflict, match="used by parcels-eu"):
        templates.delete_custom(hub, "parcels")
    assert "parcels" in hub.registry.connectors
