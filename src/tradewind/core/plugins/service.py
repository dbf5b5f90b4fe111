"""Plugin rules (seed 000): settings and credentials, state, stock sync, import rules,
toggles and attachments.

* A plugin's settings are validated by its connector's own schema; fields declared as
  secrets are sealed in the vault and never stored, shown or logged in clear.
* A toggle the connector does not support is refused with the connector's reason.
  Switching a toggle on switches on its prerequisites; switching one off switches off
  what needs it. The answer says which.
* A plugin with Import Orders on must be attached to exactly one channel. Otherwise it
  is in *import conflict*: its order import refuses to run and a notification names the
  channels and the fix; fixing the attachment clears both.
* Two plugins that reach the same remote account may not both import orders.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, raiseload

from tradewind.core.channels.models import Channel
from tradewind.core.channels.service import get_channel
from tradewind.core.plugins.models import Plugin, PluginChannel, PluginState, PluginToggle
from tradewind.core.plugins.schemas import (
    AttachResult,
    ConnectorSpec,
    ImportRules,
    ToggleResult,
    secret_fields,
)
from tradewind.db import utcnow
from tradewind.errors import Conflict, Invalid, NotFound
from tradewind.events import PluginChanged, PluginStateChanged, record
from tradewind.monitoring.notifications import (
    NotificationKind,
    open_notifications,
    raise_notification,
    resolve,
)
from tradewind.vault import UNREADABLE, Vault, VaultError, describe_secret, is_secret_mask
from tradewind.vocabulary import StockMode, Toggle, dependents_of, prerequisites_of

_CREDENTIALS = "credentials"


class ImportConflict(Conflict):
    """Order import refused: the plugin is not attached to exactly one channel."""


class CredentialsUnreadable(Conflict):
    """The plugin's stored credentials open with none of the configured keys."""

    title = "Stored credentials cannot be decrypted"


# States a plugin with unreadable credentials leaves (an inactive one stays inactive).
_PAUSED_BY_UNREADABLE = (PluginState.ACTIVE, PluginState.FAILING, PluginState.NEEDS_REAUTHORIZATION)


# -------------------------------------------------------------------------- plugins


def add_plugin(
    session: Session,
    vault: Vault,
    spec: ConnectorSpec,
    *,
    name: str,
    config: Mapping[str, Any],
    shadow: bool = False,
) -> Plugin:
    """Create a plugin of ``spec`` named ``name`` with ``config`` checked by its schema
    (``shadow``: it starts in shadow, see ``enter_shadow``)."""
    name = name.strip()
    if not name:
        raise Invalid("a plugin needs a name", fields={"name": "required"})
    if session.scalar(select(Plugin).where(func.lower(Plugin.name) == name.lower())):
        raise Conflict(f"plugin {name!r} already exists", fields={"name": "already exists"})
    validated = validate_settings(spec, apply_setting_changes(spec, {}, config))
    plugin = Plugin(
        connector=spec.key,
        connector_version=spec.version,
        name=name,
        state=PluginState.INACTIVE,
        shadow_since=utcnow() if shadow else None,
    )
    session.add(plugin)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # a name equal to another's except for non-ASCII case (SQLite)
        raise Conflict(
            f"plugin {name!r} already exists", fields={"name": "already exists"}
        ) from None
    _store_settings(vault, spec, plugin, validated, {})
    session.flush()
    record(session, PluginChanged(plugin_id=plugin.id))
    return plugin


def update_plugin_settings(
    session: Session,
    vault: Vault,
    spec: ConnectorSpec,
    plugin_id: int,
    changes: Mapping[str, Any],
) -> Plugin:
    """Change settings; secrets follow ``apply_setting_changes`` (write-only)."""
    plugin = get_plugin(session, plugin_id)
    secrets = secret_fields(spec.settings)
    try:
        stored = read_credentials(vault, plugin)
        unreadable = False
    except CredentialsUnreadable as exc:
        # Giving every secret again replaces what cannot be opened; less cannot be merged.
        given = {name for name in secrets if name in changes and not is_secret_mask(changes[name])}
        if given != secrets:
            names = ", ".join(sorted(secrets - given))
            raise CredentialsUnreadable(f"{exc.message} (give {names} to replace them)") from None
        stored, unreadable = {}, True
    current: dict[str, Any] = {**plugin.settings}
    current.update({name: stored[name] for name in secrets if name in stored})
    validated = validate_settings(spec, apply_setting_changes(spec, current, changes))
    _store_settings(vault, spec, plugin, validated, stored)
    if unreadable:
        mark_credentials_readable(session, plugin)
    _refresh_import_conflict(session, plugin)
    record(session, PluginChanged(plugin_id=plugin.id))
    return plugin


def apply_setting_changes(
    spec: ConnectorSpec, current: Mapping[str, Any], changes: Mapping[str, Any]
) -> dict[str, Any]:
    """``current`` settings (secrets in clear) with ``changes`` applied: the one rule for
    secrets, whichever face sends the changes. Secrets are write-only, so a settings
    document that was read and sent back carries their masks ("set (…abcd)", "not set"):
    a mask keeps the stored secret, ``None`` or ``""`` clears it, anything else replaces it.
    (A form's blank password field means "keep": the UI leaves it out of ``changes``.)"""
    secrets = secret_fields(spec.settings)
    merged = dict(current)
    for key, value in changes.items():
        if key in secrets and is_secret_mask(value):
            continue
        if key in secrets and (value is None or value == ""):
            merged.pop(key, None)
            continue
        merged[key] = value
    return merged


def validate_settings(spec: ConnectorSpec, config: Mapping[str, Any]) -> BaseModel:
    try:
        return spec.settings.model_validate(dict(config))
    except ValidationError as exc:
        fields = {
            ".".join(str(part) for part in error["loc"]) or "settings": error["msg"]
            for error in exc.errors()
        }
        summary = "; ".join(f"{name}: {message}" for name, message in fields.items())
        raise Invalid(f"invalid {spec.name} settings: {summary}", fields=fields) from None


def plugin_settings(vault: Vault, spec: ConnectorSpec, plugin: Plugin) -> BaseModel:
    """The plugin's full settings, secrets included (for the connector, never for display)."""
    secrets = read_credentials(vault, plugin)
    names = secret_fields(spec.settings)
    return spec.settings.model_validate(
        {**plugin.settings, **{name: secrets[name] for name in names if name in secrets}}
    )


def describe_settings(vault: Vault, spec: ConnectorSpec, plugin: Plugin) -> dict[str, Any]:
    """Settings as they may be shown: secrets only as "set (…abcd)" or "not set" (or as
    "set (cannot be decrypted)" when no configured key opens the credentials)."""
    shown: dict[str, Any] = dict(plugin.settings)
    names = sorted(secret_fields(spec.settings))
    try:
        secrets = read_credentials(vault, plugin)
    except CredentialsUnreadable:
        return {**shown, **dict.fromkeys(names, UNREADABLE)}
    for name in names:
        shown[name] = str(describe_secret(secrets.get(name)))
    return shown


def read_credentials(vault: Vault, plugin: Plugin) -> dict[str, str]:
    if not plugin.credentials:
        return {}
    try:
        return vault.open(_CREDENTIALS, f"plugin:{plugin.id}", plugin.credentials)
    except VaultError as exc:
        raise CredentialsUnreadable(
            f"the stored credentials of plugin {plugin.name!r} cannot be decrypted ({exc}): "
            "restore the key that sealed them (the key file or TRADEWIND_SECRET_KEYS), or "
            "enter the plugin's secrets again"
        ) from None


def mark_credentials_unreadable(session: Session, plugin: Plugin, error: str) -> None:
    """Say that the plugin's credentials cannot be opened: its work pauses (kept) and a
    notification says what to do. Writes nothing when that is already said."""
    paused = plugin.state in _PAUSED_BY_UNREADABLE
    if paused:
        set_state(session, plugin, PluginState.CREDENTIALS_UNREADABLE, error)
    elif open_notifications(
        session, plugin_id=plugin.id, kind=NotificationKind.CREDENTIALS_UNREADABLE
    ):
        return
    raise_notification(
        session,
        NotificationKind.CREDENTIALS_UNREADABLE,
        plugin_id=plugin.id,
        subject=plugin.name,
        message=(
            f"{error}. Its work is paused and kept; it resumes by itself once the "
            "credentials open again."
        ),
    )


def mark_credentials_readable(session: Session, plugin: Plugin) -> None:
    """The credentials open again: a plugin paused for them resumes."""
    if plugin.state is PluginState.CREDENTIALS_UNREADABLE:
        set_state(session, plugin, PluginState.ACTIVE)
    resolve(session, NotificationKind.CREDENTIALS_UNREADABLE, plugin_id=plugin.id)


def write_credentials(
    session: Session, vault: Vault, plugin: Plugin, updates: Mapping[str, str | None]
) -> None:
    """Merge ``updates`` into the sealed credentials (``None`` removes a key)."""
    current = read_credentials(vault, plugin)
    for key, value in updates.items():
        if value is None:
            current.pop(key, None)
        else:
            current[key] = value
    plugin.credentials = vault.seal(_CREDENTIALS, f"plugin:{plugin.id}", current)
    session.flush()


def _store_settings(
    vault: Vault,
    spec: ConnectorSpec,
    plugin: Plugin,
    validated: BaseModel,
    stored_credentials: Mapping[str, str],
) -> None:
    secrets = secret_fields(spec.settings)
    plugin.settings = validated.model_dump(mode="json", exclude=set(secrets))
    sealed = dict(stored_credentials)
    for name in secrets:
        value = getattr(validated, name)
        if isinstance(value, SecretStr):
            sealed[name] = value.get_secret_value()
        else:  # cleared
            sealed.pop(name, None)
    plugin.credentials = vault.seal(_CREDENTIALS, f"plugin:{plugin.id}", sealed)
    account_of = getattr(spec, "account_of", None)
    plugin.remote_account = account_of(validated) if callable(account_of) else None


def get_plugin(session: Session, plugin_id: int) -> Plugin:
    plugin = session.get(Plugin, plugin_id)
    if plugin is None:
        raise NotFound(f"no plugin with id {plugin_id}")
    return plugin


def plugin_to_call(session: Session, plugin_id: int) -> Plugin:
    """The plugin, to open its connector with: without its toggles and channels, two
    queries a call to the platform does not need (reading them raises)."""
    plugin = session.scalars(_plugin_to_call(), {"plugin_id": plugin_id}).one_or_none()
    if plugin is None:
        raise NotFound(f"no plugin with id {plugin_id}")
    return plugin


@cache
def _plugin_to_call() -> Select[Plugin]:
    """``plugin_to_call``'s query, built once: a ``get`` with loader options built them
    and its cache key anew on every call, three times what reading the row costs."""
    return (
        select(Plugin)
        .where(Plugin.id == bindparam("plugin_id"))
        .options(raiseload(Plugin.toggle_rows), raiseload(Plugin.channel_rows))
    )


def plugin_by_ref(session: Session, ref: str) -> Plugin:
    """A plugin by name (any case) or by id."""
    plugin = session.scalar(select(Plugin).where(func.lower(Plugin.name) == ref.strip().lower()))
    if plugin is None and ref.strip().isdigit():
        plugin = session.get(Plugin, int(ref))
    if plugin is None:
        raise NotFound(f"no plugin named {ref!r}")
    return plugin


def list_plugins(session: Session, *, connector: str | None = None) -> list[Plugin]:
    query = select(Plugin).order_by(Plugin.id)
    if connector is not None:
        query = query.where(Plugin.connector == connector)
    return list(session.scalars(query))


def plugins_with_toggle(session: Session, toggle: Toggle) -> list[Plugin]:
    return list(
        session.scalars(
            select(Plugin)
            .join(PluginToggle)
            .where(PluginToggle.toggle == toggle)
            .order_by(Plugin.id)
        )
    )


def activate(session: Session, plugin_id: int) -> Plugin:
    """Start the plugin. ``enabled_at`` is set once: orders placed before it import only
    through backfill."""
    plugin = get_plugin(session, plugin_id)
    plugin.state = PluginState.ACTIVE
    if plugin.enabled_at is None:
        plugin.enabled_at = utcnow()
    session.flush()
    record(session, PluginChanged(plugin_id=plugin.id))
    return plugin


def enter_shadow(session: Session, plugin_id: int) -> Plugin:
    """Run the plugin in shadow (sync/shadow.py), only while it has never been live."""
    plugin = get_plugin(session, plugin_id)
    if plugin.in_shadow:
        return plugin
    if plugin.enabled_at is not None:
        raise Conflict(
            f"plugin {plugin.name!r} is live since {plugin.enabled_at:%Y-%m-%d %H:%M} UTC; "
            "only a plugin not yet live can run in shadow"
        )
    plugin.shadow_since = utcnow()
    session.flush()
    record(session, PluginChanged(plugin_id=plugin.id))
    return plugin


def go_live(session: Session, plugin_id: int) -> Plugin:
    """Leave shadow: it writes and imports from now on, its enable time this moment."""
    plugin = get_plugin(session, plugin_id)
    if not plugin.in_shadow:
        raise Conflict(f"plugin {plugin.name!r} is not in shadow; it is live already")
    plugin.shadow_since = None
    plugin.enabled_at = utcnow()
    session.flush()
    record(session, PluginChanged(plugin_id=plugin.id))
    return plugin


def deactivate(session: Session, plugin_id: int) -> Plugin:
    plugin = get_plugin(session, plugin_id)
    plugin.state = PluginState.INACTIVE
    session.flush()
    record(session, PluginChanged(plugin_id=plugin.id))
    return plugin


def set_state(session: Session, plugin: Plugin, state: PluginState, error: str = "") -> bool:
    """Move the plugin to ``state``; returns whether it changed (log transitions only)."""
    previous = plugin.state
    changed = previous is not state
    plugin.state = state
    if error:
        plugin.last_error = error[:2000]
        plugin.last_error_at = utcnow()
    if changed:
        record(session, PluginChanged(plugin_id=plugin.id))
        record(
            session,
            PluginStateChanged(plugin_id=plugin.id, previous=previous.value, state=state.value),
        )
    session.flush()
    return changed


def set_stock_sync(
    session: Session,
    plugin_id: int,
    *,
    mode: StockMode | None = None,
    window_seconds: int | None = None,
    buffer: int | None = None,
) -> Plugin:
    plugin = get_plugin(session, plugin_id)
    if window_seconds is not None:
        if not 0 <= window_seconds <= 3600:
            raise Invalid(
                "the stock window is 0 (immediate) to 3600 seconds",
                fields={"window_seconds": "0–3600"},
            )
        plugin.stock_window_seconds = window_seconds
    if buffer is not None:
        if buffer < 0:
            raise Invalid("the safety buffer cannot be negative", fields={"buffer": "≥ 0"})
        plugin.stock_buffer = buffer
    if mode is not None:
        plugin.stock_mode = mode
    session.flush()
    record(session, PluginChanged(plugin_id=plugin.id))
    return plugin


def import_rules(plugin: Plugin) -> ImportRules:
    return ImportRules.model_validate(plugin.rules or {})


def update_import_rules(
    session: Session, plugin_id: int, changes: Mapping[str, Any]
) -> ImportRules:
    plugin = get_plugin(session, plugin_id)
    try:
        rules = ImportRules.model_validate({**(plugin.rules or {}), **changes})
    except ValidationError as exc:
        fields = {".".join(map(str, e["loc"])) or "rules": e["msg"] for e in exc.errors()}
        summary = "; ".join(f"{name}: {message}" for name, message in fields.items())
        raise Invalid(f"invalid import rules: {summary}", fields=fields) from None
    plugin.rules = rules.model_dump(mode="json")
    session.flush()
    record(session, PluginChanged(plugin_id=plugin.id))
    return rules


# -------------------------------------------------------------------------- toggles


def set_toggle(
    session: Session, spec: ConnectorSpec, plugin_id: int, toggle: Toggle, on: bool
) -> ToggleResult:
    plugin = get_plugin(session, plugin_id)
    if plugin.connector != spec.key:
        raise Invalid(f"plugin {plugin.name!r} is a {plugin.connector} plugin, not {spec.key}")
    current = set(plugin.toggles)
    if on:
        needed = [toggle, *prerequisites_of(toggle)]
        for item in needed:
            if item not in spec.toggles:
                reason = spec.unsupported.get(item, "its platform offers no API for it")
                prefix = "" if item is toggle else f"{toggle.label} needs {item.label}, but "
                raise Invalid(
                    f"{prefix}{spec.name} does not support {item.label}: {reason}",
                    fields={"toggle": "unsupported"},
                )
        if Toggle.IMPORT_ORDERS in needed:
            _refuse_second_importer(session, plugin)
        added = [item for item in needed if item not in current]
        for item in added:
            plugin.toggle_rows.append(PluginToggle(toggle=item))
        result = ToggleResult(
            toggle=toggle, on=True, also_enabled=[item for item in added if item is not toggle]
        )
    else:
        removed = [item for item in [toggle, *dependents_of(toggle)] if item in current]
        plugin.toggle_rows[:] = [row for row in plugin.toggle_rows if row.toggle not in removed]
        result = ToggleResult(
            toggle=toggle, on=False, also_disabled=[item for item in removed if item is not toggle]
        )
    session.flush()
    _refresh_import_conflict(session, plugin)
    switched = (toggle, *result.also_enabled, *result.also_disabled)
    record(session, PluginChanged(plugin_id=plugin.id, switched=switched))
    return result


def _refuse_second_importer(session: Session, plugin: Plugin) -> None:
    if not plugin.remote_account:
        return
    other = session.scalar(
        select(Plugin)
        .join(PluginToggle)
        .where(
            Plugin.id != plugin.id,
            Plugin.connector == plugin.connector,
            Plugin.remote_account == plugin.remote_account,
            PluginToggle.toggle == Toggle.IMPORT_ORDERS,
        )
    )
    if other is not None:
        raise Conflict(
            f"plugin {other.name!r} already imports orders from {plugin.remote_account}; "
            "the same store must not feed two channels. Switch Import Orders off there first."
        )


# ---------------------------------------------------------------------- attachments


def attach(session: Session, plugin_id: int, channel_id: int) -> AttachResult:
    plugin = get_plugin(session, plugin_id)
    get_channel(session, channel_id)
    if channel_id not in plugin.channel_ids:
        plugin.channel_rows.append(PluginChannel(channel_id=channel_id))
        session.flush()
    return _attachment_answer(session, plugin)


def detach(session: Session, plugin_id: int, channel_id: int) -> AttachResult:
    plugin = get_plugin(session, plugin_id)
    if channel_id not in plugin.channel_ids:
        channel = get_channel(session, channel_id)
        raise Invalid(f"plugin {plugin.name!r} is not attached to channel {channel.name!r}")
    plugin.channel_rows[:] = [row for row in plugin.channel_rows if row.channel_id != channel_id]
    session.flush()
    return _attachment_answer(session, plugin)


def set_channels(session: Session, plugin_id: int, channel_ids: list[int]) -> AttachResult:
    """Make the plugin's channels exactly ``channel_ids`` (the plugin page's Channels field)."""
    plugin = get_plugin(session, plugin_id)
    for channel_id in channel_ids:
        get_channel(session, channel_id)
    wanted = set(channel_ids)
    plugin.channel_rows[:] = [row for row in plugin.channel_rows if row.channel_id in wanted]
    for channel_id in sorted(wanted - set(plugin.channel_ids)):
        plugin.channel_rows.append(PluginChannel(channel_id=channel_id))
    session.flush()
    return _attachment_answer(session, plugin)


def _attachment_answer(session: Session, plugin: Plugin) -> AttachResult:
    conflict = _refresh_import_conflict(session, plugin)
    record(session, PluginChanged(plugin_id=plugin.id))
    return AttachResult(channel_ids=plugin.channel_ids, import_conflict=conflict)


def import_conflict(session: Session, plugin: Plugin) -> str | None:
    """Why the plugin may not import orders now, or ``None`` when it may."""
    if Toggle.IMPORT_ORDERS not in plugin.toggles:
        return None
    channel_ids = plugin.channel_ids
    if len(channel_ids) == 1:
        return None
    if not channel_ids:
        return (
            f"Plugin {plugin.name!r} has Import Orders on but is attached to no channel, so "
            "its orders have nowhere to go and are not imported. Attach it to the one channel "
            "its orders belong to."
        )
    names = ", ".join(
        repr(channel.name)
        for channel in session.scalars(select(Channel).where(Channel.id.in_(channel_ids)))
    )
    return (
        f"Plugin {plugin.name!r} has Import Orders on and is attached to {len(channel_ids)} "
        f"channels ({names}). A plugin that imports orders must be on exactly one channel, so "
        "order import is stopped to avoid duplicates. Open the plugin, remove all but one "
        "channel from its Channels field, and save."
    )


def import_channel(session: Session, plugin_id: int) -> Channel:
    """The channel the plugin imports orders into; refuses while in import conflict."""
    plugin = get_plugin(session, plugin_id)
    conflict = import_conflict(session, plugin)
    if conflict is None and Toggle.IMPORT_ORDERS not in plugin.toggles:
        raise Invalid(f"plugin {plugin.name!r} does not have Import Orders on")
    if conflict is not None:
        raise ImportConflict(conflict)
    return get_channel(session, plugin.channel_ids[0])


def _refresh_import_conflict(session: Session, plugin: Plugin) -> str | None:
    conflict = import_conflict(session, plugin)
    if conflict is None:
        resolve(session, NotificationKind.IMPORT_CONFLICT, plugin_id=plugin.id)
    else:
        raise_notification(
            session,
            NotificationKind.IMPORT_CONFLICT,
            plugin_id=plugin.id,
            subject=plugin.name,
            message=conflict,
        )
    return conflict


def plugins_of_channel(session: Session, channel_id: int) -> list[Plugin]:
    return list(
        session.scalars(
            select(Plugin)
            .join(PluginChannel)
            .where(PluginChannel.channel_id == channel_id)
            .order_by(Plugin.id)
        )
    )


def refresh_import_conflicts(session: Session, plugin_ids: Iterable[int]) -> None:
    """Re-check the import conflict of plugins whose attachments changed behind their
    back (a channel they served was deleted)."""
    for plugin_id in plugin_ids:
        plugin = get_plugin(session, plugin_id)
        session.refresh(plugin)
        _refresh_import_conflict(session, plugin)
