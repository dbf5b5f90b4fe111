"""Creating a plugin and changing its settings, the one way every face (API, UI, CLI) does
it: the URLs in the settings must pass the outbound address policy, and secrets follow the
core's write-only rule (``plugins.apply_setting_changes``).

The URL check may resolve names, so it runs before the write transaction opens (no
network inside a transaction). It is early, clear feedback for a person; the guarantee is
the connection itself, which is checked again each time it is made.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from tradewind.app import templates
from tradewind.connectors.base import ConnectorInfo
from tradewind.connectors.outbound import OutboundRefused, Unresolvable
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.schemas import secret_fields
from tradewind.errors import Invalid
from tradewind.hub import Hub


@dataclass(frozen=True)
class SettingKey:
    """One key a connector's settings take (``--set key=value``, a field of the form)."""

    name: str
    label: str
    kind: str  # the JSON Schema type (string, integer, number, boolean), or "secret"
    required: bool
    default: Any
    description: str
    choices: tuple[Any, ...] | None  # an enumeration's values
    pattern: str | None


def setting_keys(model: type[BaseModel]) -> list[SettingKey]:
    """The keys of a connector's settings model, in the order it declares them, read from
    its JSON Schema; a ``SecretStr`` field is of kind ``secret`` (write-only)."""
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    secrets = secret_fields(model)
    found = []
    for name, prop in schema.get("properties", {}).items():
        options = prop.get("anyOf") or [prop]
        kinds = [o.get("type") for o in options if o.get("type") and o.get("type") != "null"]
        enum = next((o.get("enum") for o in options if o.get("enum")), None)
        if enum is None and "$ref" in prop:
            ref = schema.get("$defs", {}).get(prop["$ref"].split("/")[-1], {})
            enum = ref.get("enum")
        found.append(
            SettingKey(
                name=name,
                label=prop.get("title", name.replace("_", " ").title()),
                kind="secret" if name in secrets else (kinds[0] if kinds else "string"),
                required=name in required,
                default=prop.get("default"),
                description=prop.get("description", ""),
                choices=tuple(enum) if enum else None,
                pattern=prop.get("pattern"),
            )
        )
    return found


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
