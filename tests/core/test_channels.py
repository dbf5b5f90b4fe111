"""Channels and plugins: settings by the connector's schema, toggles with prerequisites,
the import-conflict rule, one importer per remote account, location mappings."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from tests import factories
from tests.fakes import FakeConnector
from tradewind.core.links import service as links
from tradewind.core.links.models import LocationMapping
from tradewind.core.plugins import service as plugins
from tradewind.errors import Conflict, Invalid
from tradewind.hub import Hub
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.vocabulary import Toggle

SPEC = FakeConnector.info


def test_settings_are_validated_by_the_connectors_schema(hub: Hub) -> None:
    with pytest.raises(Invalid) as caught, hub.db.unit_of_work() as session:
        plugins.add_plugin(
            session, hub.vault, SPEC, name="x", config={"shop": "Bad Shop!", "poll_minutes": 0}
        )
    assert set(caught.value.fields) == {"shop", "api_token", "poll_minutes"}
    assert "invalid Fake Market settings" in caught.value.message


def test_secrets_are_write_only_their_mask_keeps_the_stored_value(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        plugin = factories.plugin(hub, session, import_orders=False)
        shown = plugins.describe_settings(hub.vault, SPEC, plugin)
        plugins.update_plugin_settings(
            session, hub.vault, SPEC, plugin.id, {**shown, "poll_minutes": 5}
        )
        settings = plugins.plugin_settings(hub.vault, SPEC, plugin)
        assert settings.api_token.get_secret_value() == "tok-secret-1234"  # type: ignore[attr-defined]
        assert settings.poll_minutes == 5  # type: ignore[attr-defined]
        plugins.update_plugin_settings(
            session, hub.vault, SPEC, plugin.id, {"api_token": "new-token-9999"}
        )
        assert plugins.describe_settings(hub.vault, SPEC, plugin)["api_token"] == "set (…9999)"


def test_unsupported_toggles_are_refused_with_the_connectors_reason(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        plugin = factories.plugin(hub, session, import_orders=False)
    with (
        pytest.raises(
            Invalid,
            match="Fake Market does not support Export Listings: Fake Market has no listing API",
        ),
        hub.db.unit_of_work() as session,
    ):
        plugins.set_toggle(session, SPEC, plugin.id, Toggle.EXPORT_LISTINGS, True)


def test_switching_on_enables_prerequisites_and_switching_off_disables_dependents(
    hub: Hub,
) -> None:
    with hub.db.unit_of_work() as session:
        channel = factories.channel(session)
        plugin = factories.plugin(hub, session, channel_id=channel.id, import_orders=False)
        result = plugins.set_toggle(session, SPEC, plugin.id, Toggle.IMPORT_SHIPMENTS, True)
        assert result.also_enabled == [Toggle.IMPORT_TRACKING, Toggle.IMPORT_ORDERS]
        assert (
            "Switched on as well, because Import Shipments needs it: Import Tracking, "
            "Import Orders." in result.message()
        )
        assert plugin.toggles == {
            Toggle.IMPORT_SHIPMENTS,
            Toggle.IMPORT_TRACKING,
            Toggle.IMPORT_ORDERS,
        }
        again = plugins.set_toggle(session, SPEC, plugin.id, Toggle.IMPORT_SHIPMENTS, True)
        assert again.also_enabled == []
        off = plugins.set_toggle(session, SPEC, plugin.id, Toggle.IMPORT_ORDERS, False)
        assert off.also_disabled == [Toggle.IMPORT_TRACKING, Toggle.IMPORT_SHIPMENTS]
        assert plugin.toggles == frozenset()


def test_import_conflict_is_raised_and_cleared_by_the_attachment(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        uk, eu = factories.channel(session, "UK"), factories.channel(session, "EU")
        plugin = factories.plugin(hub, session, import_orders=False)
        plugins.attach(session, plugin.id, uk.id)
        plugins.attach(session, plugin.id, eu.id)  # fine while it does not import orders
        assert plugins.import_conflict(session, plugin) is None
        plugins.set_toggle(session, SPEC, plugin.id, Toggle.IMPORT_ORDERS, True)
        assert "attached to 2 channels ('UK', 'EU')" in (
            plugins.import_conflict(session, plugin) or ""
        )
    with hub.db.read() as session:
        (note,) = notifications.open_notifications(session, plugin_id=plugin.id)
        assert note.kind is NotificationKind.IMPORT_CONFLICT
    with hub.db.unit_of_work() as session:
        answer = plugins.set_channels(session, plugin.id, [])
        assert "attached to no channel" in (answer.import_conflict or "")
    with hub.db.read() as session:
        (note,) = notifications.open_notifications(session, plugin_id=plugin.id)
        assert note.occurrences == 2 and "no channel" in note.message
    with hub.db.unit_of_work() as session:
        answer = plugins.set_channels(session, plugin.id, [uk.id])
        assert answer.import_conflict is None and answer.channel_ids == [uk.id]
    with hub.db.read() as session:
        assert notifications.open_notifications(session, plugin_id=plugin.id) == []


def test_the_same_store_may_not_feed_two_channels(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        factories.plugin(hub, session, "first", shop="acme")
        second = factories.plugin(hub, session, "second", shop="acme", import_orders=False)
    with (
        pytest.raises(Conflict, match=r"already imports orders from acme\.fake\.example"),
        hub.db.unit_of_work() as session,
    ):
        plugins.set_toggle(session, SPEC, second.id, Toggle.IMPORT_ORDERS, True)


def test_location_mappings_keep_one_default_and_survive_resync(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        plugin = factories.plugin(hub, session, import_orders=False)
        main = factories.warehouse(session, "MAIN")
        links.sync_locations(session, plugin.id, [("loc-1", "Shop floor"), ("loc-2", "Depot")])
        links.map_location(
            session,
            plugin.id,
            "loc-1",
            warehouse_id=main.id,
            shipping_process="standard",
            is_default=True,
        )
        links.map_location(session, plugin.id, "loc-2", warehouse_id=None, is_default=True)
        rows = links.sync_locations(session, plugin.id, [("loc-2", "Depot (renamed)")])
        by_id = {row.external_id: row for row in rows}
        assert by_id["loc-1"].warehouse_id == main.id and not by_id["loc-1"].active
        assert by_id["loc-2"].is_default and by_id["loc-2"].name == "Depot (renamed)"
        assert not by_id["loc-1"].is_default
        assert links.warehouse_for_location(session, plugin.id, "loc-1") == main.id
        assert links.warehouse_for_location(session, plugin.id, "loc-2") is None


def test_the_database_itself_refuses_two_default_locations(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        plugin = factories.plugin(hub, session, import_orders=False)
    with pytest.raises(IntegrityError), hub.db.unit_of_work() as session:
        session.add_all(
            [
                LocationMapping(plugin_id=plugin.id, external_id="a", is_default=True),
                LocationMapping(plugin_id=plugin.id, external_id="b", is_default=True),
            ]
        )


def test_activation_sets_enabled_at_once(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        plugin = factories.plugin(hub, session, import_orders=False)
        first = plugins.activate(session, plugin.id).enabled_at
        plugins.deactivate(session, plugin.id)
        assert plugins.activate(session, plugin.id).enabled_at == first


def test_listings_are_per_channel(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        uk, eu = factories.channel(session, "UK"), factories.channel(session, "EU")
        mug = factories.product(session, "MUG")
        links.upsert_listing(session, uk.id, mug.id, title="Mug", price=None)
        links.upsert_listing(session, eu.id, mug.id, title="Tasse")
        links.upsert_listing(session, uk.id, mug.id, images=["https://img/1.png"])
        listings = links.list_listings(session)
        assert [(item.channel_id, item.title, item.images) for item in listings] == [
            (uk.id, "Mug", ["https://img/1.png"]),
            (eu.id, "Tasse", []),
        ]
