"""Channel and plugin rules (seed 000).

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

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tradewind.core.catalog.models import Product
from tradewind.core.channels.models import (
    Channel,
    CustomerLink,
    Listing,
    LocationMapping,
    Plugin,
    PluginChannel,
    PluginState,
    PluginToggle,
    ProductLink,
)
from tradewind.core.channels.schemas import (
    AttachResult,
    ConnectorSpec,
    ImportRules,
    ToggleResult,
    secret_fields,
)
from tradewind.core.inventory.models import Warehouse
from tradewind.core.orders.models import Order
from tradewind.db import utcnow
from tradewind.errors import Conflict, Invalid, NotFound
from tradewind.events import ListingUpdated, PluginChanged, ProductLinked, record
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


# --------------------------------------------------------------------------- channels


def create_channel(session: Session, name: str, description: str = "") -> Channel:
    name = name.strip()
    if not name:
        raise Invalid("a channel needs a name", fields={"name": "required"})
    if session.scalar(select(Channel).where(func.lower(Channel.name) == name.lower())):
        raise Conflict(f"channel {name!r} already exists", fields={"name": "already exists"})
    channel = Channel(name=name, description=description.strip())
    session.add(channel)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # a name equal to another's except for non-ASCII case (SQLite)
        raise Conflict(
            f"channel {name!r} already exists", fields={"name": "already exists"}
        ) from None
    return channel


def get_channel(session: Session, channel_id: int) -> Channel:
    channel = session.get(Channel, channel_id)
    if channel is None:
        raise NotFound(f"no channel with id {channel_id}")
    return channel


def channel_by_ref(session: Session, ref: str) -> Channel:
    """A channel by name (any case) or by id."""
    channel = session.scalar(select(Channel).where(func.lower(Channel.name) == ref.strip().lower()))
    if channel is None and ref.strip().isdigit():
        channel = session.get(Channel, int(ref))
    if channel is None:
        raise NotFound(f"no channel named {ref!r}")
    return channel


def list_channels(session: Session) -> list[Channel]:
    return list(session.scalars(select(Channel).order_by(Channel.id)))


def delete_channel(session: Session, channel_id: int) -> None:
    channel = get_channel(session, channel_id)
    orders = session.scalar(select(func.count()).where(Order.channel_id == channel.id)) or 0
    if orders:
        raise Conflict(f"channel {channel.name!r} has {orders} order(s) and cannot be deleted")
    plugin_ids = [
        row.plugin_id
        for row in session.scalars(
            select(PluginChannel).where(PluginChannel.channel_id == channel.id)
        )
    ]
    session.delete(channel)
    session.flush()
    for plugin_id in plugin_ids:
        plugin = get_plugin(session, plugin_id)
        session.refresh(plugin)
        _refresh_import_conflict(session, plugin)


def plugins_of_channel(session: Session, channel_id: int) -> list[Plugin]:
    return list(
        session.scalars(
            select(Plugin)
            .join(PluginChannel)
            .where(PluginChannel.channel_id == channel_id)
            .order_by(Plugin.id)
        )
    )


# ---------------------------------------------------------------------------- plugins


def add_plugin(
    session: Session,
    vault: Vault,
    spec: ConnectorSpec,
    *,
    name: str,
    config: Mapping[str, Any],
) -> Plugin:
    """Create a plugin of ``spec`` named ``name`` with ``config`` checked by its schema."""
    name = name.strip()
    if not name:
        raise Invalid("a plugin needs a name", fields={"name": "required"})
    if session.scalar(select(Plugin).where(func.lower(Plugin.name) == name.lower())):
        raise Conflict(f"plugin {name!r} already exists", fields={"name": "already exists"})
    validated = validate_settings(spec, apply_setting_changes(spec, {}, config))
    plugin = Plugin(connector=spec.key, name=name, state=PluginState.INACTIVE)
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


def deactivate(session: Session, plugin_id: int) -> Plugin:
    plugin = get_plugin(session, plugin_id)
    plugin.state = PluginState.INACTIVE
    session.flush()
    record(session, PluginChanged(plugin_id=plugin.id))
    return plugin


def set_state(session: Session, plugin: Plugin, state: PluginState, error: str = "") -> bool:
    """Move the plugin to ``state``; returns whether it changed (log transitions only)."""
    changed = plugin.state is not state
    plugin.state = state
    if error:
        plugin.last_error = error[:2000]
        plugin.last_error_at = utcnow()
    if changed:
        record(session, PluginChanged(plugin_id=plugin.id))
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


# ---------------------------------------------------------------------------- toggles


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


# ------------------------------------------------------------------------ attachments


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


# ------------------------------------------------------------------ location mappings


def sync_locations(
    session: Session, plugin_id: int, locations: list[tuple[str, str]]
) -> list[LocationMapping]:
    """Record the platform's locations (id, name). New ones start unmapped; existing
    mappings are kept; locations gone from the platform are marked inactive."""
    plugin = get_plugin(session, plugin_id)
    existing = {
        row.external_id: row
        for row in session.scalars(
            select(LocationMapping).where(LocationMapping.plugin_id == plugin.id)
        )
    }
    seen = set()
    for external_id, name in locations:
        seen.add(external_id)
        row = existing.get(external_id)
        if row is None:
            row = LocationMapping(plugin_id=plugin.id, external_id=external_id, name=name)
            session.add(row)
            existing[external_id] = row
        else:
            row.name, row.active = name, True
    for external_id, row in existing.items():
        if external_id not in seen:
            row.active = False
    session.flush()
    return location_mappings(session, plugin.id)


def map_location(
    session: Session,
    plugin_id: int,
    external_id: str,
    *,
    warehouse_id: int | None,
    shipping_process: str = "",
    is_default: bool | None = None,
) -> LocationMapping:
    row = session.scalar(
        select(LocationMapping).where(
            LocationMapping.plugin_id == plugin_id, LocationMapping.external_id == external_id
        )
    )
    if row is None:
        raise NotFound(f"plugin {plugin_id} has no location {external_id!r}")
    if warehouse_id is not None and session.get(Warehouse, warehouse_id) is None:
        raise NotFound(f"no warehouse with id {warehouse_id}")
    row.warehouse_id = warehouse_id
    row.shipping_process = shipping_process.strip()
    if is_default:
        for other in session.scalars(
            select(LocationMapping).where(
                LocationMapping.plugin_id == plugin_id, LocationMapping.is_default.is_(True)
            )
        ):
            other.is_default = False
        session.flush()
        row.is_default = True
    elif is_default is False:
        row.is_default = False
    session.flush()
    record(session, PluginChanged(plugin_id=plugin_id))
    return row


def location_mappings(session: Session, plugin_id: int) -> list[LocationMapping]:
    return list(
        session.scalars(
            select(LocationMapping)
            .where(LocationMapping.plugin_id == plugin_id)
            .order_by(LocationMapping.id)
        )
    )


def warehouse_for_location(session: Session, plugin_id: int, external_id: str | None) -> int | None:
    """The warehouse an order from ``external_id`` ships from: its mapping, else the
    plugin's default location's warehouse."""
    rows = location_mappings(session, plugin_id)
    for row in rows:
        if external_id and row.external_id == external_id and row.warehouse_id:
            return row.warehouse_id
    for row in rows:
        if row.is_default and row.warehouse_id:
            return row.warehouse_id
    return None


# ------------------------------------------------------------------------- listings


def upsert_listing(
    session: Session,
    channel_id: int,
    product_id: int,
    *,
    title: str | None = None,
    description: str | None = None,
    images: list[str] | None = None,
    price: Decimal | None = None,
    published: bool | None = None,
) -> Listing:
    get_channel(session, channel_id)
    if session.get(Product, product_id) is None:
        raise NotFound(f"no product with id {product_id}")
    if price is not None and price < 0:
        raise Invalid("a listing price cannot be negative", fields={"price": "≥ 0"})
    listing = session.scalar(
        select(Listing).where(Listing.channel_id == channel_id, Listing.product_id == product_id)
    )
    created = listing is None
    if listing is None:
        listing = Listing(channel_id=channel_id, product_id=product_id)
        session.add(listing)
    wanted = {
        "title": title.strip() if title is not None else None,
        "description": description,
        "images": list(images) if images is not None else None,
        "price": price,
        "published": published,
    }
    changed = created
    for field_name, value in wanted.items():
        if value is not None and getattr(listing, field_name) != value:
            setattr(listing, field_name, value)
            changed = True
    session.flush()
    if changed:  # plugins exporting listings send it; an unchanged save sends nothing
        record(session, ListingUpdated(channel_id=channel_id, product_id=product_id))
    return listing


def list_listings(
    session: Session, *, channel_id: int | None = None, after_id: int = 0, limit: int = 100
) -> list[Listing]:
    query = select(Listing).where(Listing.id > after_id).order_by(Listing.id).limit(limit)
    if channel_id is not None:
        query = query.where(Listing.channel_id == channel_id)
    return list(session.scalars(query))


# ------------------------------------------------------------------------ product links


def link_product(
    session: Session,
    plugin_id: int,
    product_id: int,
    external_id: str,
    *,
    product_ref: str = "",
    item_ref: str | None = None,
    sku: str = "",
    replace: bool = False,
) -> ProductLink:
    """Map a core product to a platform variant. An existing mapping of either side is
    refused unless ``replace`` (a person's decision, never a sync's)."""
    if session.get(Product, product_id) is None:
        raise NotFound(f"no product with id {product_id}")
    by_variant = session.scalar(
        select(ProductLink).where(
            ProductLink.plugin_id == plugin_id, ProductLink.external_id == external_id
        )
    )
    by_product = session.scalar(
        select(ProductLink).where(
            ProductLink.plugin_id == plugin_id, ProductLink.product_id == product_id
        )
    )
    for existing in {by_variant, by_product} - {None}:
        assert existing is not None
        if existing.product_id == product_id and existing.external_id == external_id:
            existing.item_ref = item_ref or existing.item_ref
            existing.product_ref = product_ref or existing.product_ref
            existing.sku = sku or existing.sku
            session.flush()
            return existing
        if not replace:
            raise Conflict(
                f"product #{existing.product_id} is already mapped to variant "
                f"{existing.external_id} on this plugin; change the mapping explicitly"
            )
        session.delete(existing)
    session.flush()
    link = ProductLink(
        plugin_id=plugin_id,
        product_id=product_id,
        external_id=external_id,
        product_ref=product_ref,
        item_ref=item_ref,
        sku=sku,
    )
    session.add(link)
    session.flush()
    record(session, ProductLinked(plugin_id=plugin_id, product_id=product_id))
    return link


def unlink_product(session: Session, plugin_id: int, product_id: int) -> None:
    link = session.scalar(
        select(ProductLink).where(
            ProductLink.plugin_id == plugin_id, ProductLink.product_id == product_id
        )
    )
    if link is None:
        raise NotFound(f"product #{product_id} is not mapped on plugin #{plugin_id}")
    session.delete(link)
    session.flush()


def product_links(
    session: Session, plugin_id: int, product_ids: list[int] | None = None
) -> dict[int, ProductLink]:
    query = select(ProductLink).where(ProductLink.plugin_id == plugin_id)
    if product_ids is not None:
        query = query.where(ProductLink.product_id.in_(product_ids))
    return {link.product_id: link for link in session.scalars(query)}


def product_for_variant(session: Session, plugin_id: int, external_id: str) -> int | None:
    return session.scalar(
        select(ProductLink.product_id).where(
            ProductLink.plugin_id == plugin_id, ProductLink.external_id == external_id
        )
    )


def listing_for_plugin(session: Session, plugin: Plugin, product_id: int) -> Listing | None:
    """The listing a plugin shows for ``product_id``: the one of its channel, or of its
    first channel (by id) that has one when it serves several."""
    if not plugin.channel_ids:
        return None
    return session.scalar(
        select(Listing)
        .where(Listing.product_id == product_id, Listing.channel_id.in_(plugin.channel_ids))
        .order_by(Listing.channel_id)
        .limit(1)
    )


# ----------------------------------------------------------------------- customer links


def customer_link(
    session: Session, plugin_id: int, *, customer_id: int | None = None, external_id: str = ""
) -> CustomerLink | None:
    query = select(CustomerLink).where(CustomerLink.plugin_id == plugin_id)
    if customer_id is not None:
        query = query.where(CustomerLink.customer_id == customer_id)
    if external_id:
        query = query.where(CustomerLink.external_id == external_id)
    return session.scalar(query)


def link_customer(
    session: Session,
    plugin_id: int,
    customer_id: int,
    external_id: str,
    *,
    synced_hash: str | None = None,
) -> CustomerLink:
    """Record that ``customer_id`` is the platform's customer ``external_id``. Customers
    are matched by email, so the email decides: a link that said otherwise on either side
    (an email changed on one side, a customer deleted and made again) is replaced."""
    stale = session.scalars(
        select(CustomerLink).where(
            CustomerLink.plugin_id == plugin_id,
            (CustomerLink.customer_id == customer_id) | (CustomerLink.external_id == external_id),
        )
    ).all()
    for link in stale:
        if link.customer_id == customer_id and link.external_id == external_id:
            link.synced_hash = synced_hash
            session.flush()
            return link
        session.delete(link)
    session.flush()
    link = CustomerLink(
        plugin_id=plugin_id,
        customer_id=customer_id,
        external_id=external_id,
        synced_hash=synced_hash,
    )
    session.add(link)
    session.flush()
    return link
