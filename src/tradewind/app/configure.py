"""Creating a plugin and changing its settings, the one way every face (API, UI, CLI) does
it: the URLs in the settings must pass the outbound address policy, and secrets follow the
core's write-only rule (``plugins.apply_setting_changes``).

The URL check may resolve names, so it runs before the write transaction opens (no
network inside a transaction). It is early, clear feedback for a person; the guarantee is
the connection itself, which is checked again each time it is made.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from tradewind.app import templates
from tradewind.connectors.base import ConnectorInfo
from tradewind.connectors.outbound import OutboundRefused, Unresolvable
from tradewind.core.plugins import service as plugins
from tradewind.errors import Invalid
from tradewind.hub import Hub


def setting_urls(spec: ConnectorInfo, values: Mapping[str, Any]) -> dict[str, str]:
    """The settings among ``values`` that are URLs (named ``…url`` or of URI format)."""
    properties = spec.settings.model_json_schema().get("properties", {})
    found = {}
    for name, value in values.items():
        field = properties.get(name, {})
        is_url = name.endswith("url") or field.get("format") in ("uri", "url")
        if is_url and isinstance(value, str) and value:
            found[name] = value
    return found


def check_setting_urls(hub: Hub, spec: ConnectorInfo, values: Mapping[str, Any]) -> None:
    """Refuse a URL the outbound policy would never connect to (a field error)."""
    for name, url in setting_urls(spec, values).items():
        try:
            hub.outbound.check_url(url)
        except Unresolvable:
            continue  # cannot be judged now; the connection is checked when it is made
        except OutboundRefused as exc:
            raise Invalid(f"{name}: {exc}", fields={name: exc.reason}) from None


def create_plugin(
    hub: Hub,
    spec: ConnectorInfo,
    *,
    name: str,
    config: Mapping[str, Any],
    channel_ids: Collection[int] = (),
    shadow: bool = False,
) -> int:
    """A new plugin of ``spec`` (``shadow``: made in shadow); returns its id."""
    check_setting_urls(hub, spec, config)
    with hub.db.unit_of_work() as session:
        plugin = plugins.add_plugin(
            session, hub.vault, spec, name=name, config=config, shadow=shadow
        )
        templates.keep_version(hub, session, spec.key, spec.version)
        if channel_ids:
            plugins.set_channels(session, plugin.id, list(channel_ids))
        return plugin.id


def configure_plugin(
    hub: Hub, spec: ConnectorInfo, plugin_id: int, changes: Mapping[str, Any]
) -> None:
    """Apply ``changes`` to the plugin's settings."""
    check_setting_urls(hub, spec, changes)
    with hub.db.unit_of_work() as session:
        plugins.update_plugin_settings(session, hub.vault, spec, plugin_id, changes)
