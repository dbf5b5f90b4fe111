"""What a person asks of a plugin — from the CLI, the REST API or the UI, the same calls:
test connection, activate, sync now, sync products, sync historical orders, stock mode,
resync stock, and "the credentials work again"."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.connectors.base import Authorizes, Capability, SeedsCustomers, TestsConnection
from tradewind.connectors.errors import AuthFailed, ConnectorError
from tradewind.connectors.records import ConnectionReport
from tradewind.core.inventory.models import StockLevel
from tradewind.core.links import service as links
from tradewind.core.links.models import LocationMapping
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin, PluginState
from tradewind.core.shipping import routes
from tradewind.db import utcnow
from tradewind.errors import Conflict, Invalid, NotFound
from tradewind.hub import Hub
from tradewind.monitoring import notifications
from tradewind.monitoring.executions import record_calls
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync import customer_exports, exports, ledger, shadow, stock
from tradewind.sync.models import (
    CUSTOMERS_FULL,
    LISTINGS_KEY,
    ORDERS_STREAM,
    Backfill,
    BackfillState,
    CustomerExport,
    OAuthState,
    ProductSync,
    WorkKind,
)
from tradewind.sync.runtime import CallBuffer, open_connector, uses
from tradewind.vocabulary import StockMode, Toggle


def oauth_redirect_uri(base_url: str) -> str:
    """Where the platform sends the merchant back after an authorization."""
    return f"{base_url}/oauth/callback"


def _capabilities(hub: Hub, plugin: Plugin) -> frozenset[Capability]:
    return hub.info_for(plugin).capabilities


def test_connection(hub: Hub, plugin_id: int) -> ConnectionReport:
    """Check the credentials now, read the account, name missing permissions. A plugin
    waiting for reauthorization resumes at once when this succeeds."""
    with hub.db.read() as session:
        plugin = plugins.get_plugin(session, plugin_id)
    calls = CallBuffer()
    connector = open_connector(hub, plugin, calls)
    close = connector.close
    try:
        if not isinstance(connector, TestsConnection):
            raise Invalid(f"the {plugin.connector} connector has no connection test")
        try:
            report = connector.test_connection(plugin.toggles, uses(plugin))
        except AuthFailed as exc:
            report = ConnectionReport(ok=False, detail=f"the credentials do not work: {exc}")
        except ConnectorError as exc:
            report = ConnectionReport(ok=False, detail=str(exc))
    finally:
        close()
    with hub.db.unit_of_work() as session:
        record_calls(session, plugin_id, calls.take())
        if report.ok:
            found = plugins.get_plugin(session, plugin_id)
            if found.state is PluginState.NEEDS_REAUTHORIZATION:
                _resume(session, found)
    return report


def credentials_restored(hub: Hub, plugin_id: int) -> None:
    """After Reauthorize: the plugin is active again and its paused work resumes."""
    with hub.db.unit_of_work() as session:
        _resume(session, plugins.get_plugin(session, plugin_id))


def _resume(session: Session, plugin: Plugin) -> None:
    plugins.set_state(session, plugin, PluginState.ACTIVE)
    notifications.resolve(session, NotificationKind.AUTHORIZATION_LOST, plugin_id=plugin.id)
    if Toggle.IMPORT_ORDERS in plugin.toggles:
        ledger.enqueue(session, plugin.id, WorkKind.POLL_ORDERS, ORDERS_STREAM)


def activate(hub: Hub, plugin_id: int) -> Plugin:
    """Start the plugin: read its locations, register its webhooks, send its stock."""
    with hub.db.unit_of_work() as session:
        return _activate(hub, session, plugin_id)


def _activate(hub: Hub, session: Session, plugin_id: int) -> Plugin:
    plugin = plugins.activate(session, plugin_id)
    capabilities = _capabilities(hub, plugin)
    if Capability.LOCATIONS in capabilities:
        ledger.enqueue(session, plugin.id, WorkKind.REFRESH_LOCATIONS)
    if Capability.MANAGE_WEBHOOKS in capabilities:
        ledger.enqueue(session, plugin.id, WorkKind.ENSURE_WEBHOOKS)
    _queue_all_stock(session, plugin)
    return plugin


def go_live(hub: Hub, plugin_id: int) -> Plugin:
    """Leave shadow (the enable time is now) and start as Activate does: locations,
    webhooks, and the stock that was only compared until now, sent."""
    with hub.db.unit_of_work() as session:
        plugins.go_live(session, plugin_id)
        return _activate(hub, session, plugin_id)


def enter_shadow(hub: Hub, plugin_id: int) -> Plugin:
    """Run a plugin not yet live in shadow (``plugins.enter_shadow``)."""
    with hub.db.unit_of_work() as session:
        return plugins.enter_shadow(session, plugin_id)


def go_live_report(hub: Hub, plugin_id: int) -> shadow.GoLiveReport:
    with hub.db.read() as session:
        return shadow.report(session, plugin_id)


def check_webhooks(hub: Hub) -> int:
    """Queue a webhook check for every running plugin whose platform takes subscriptions.
    The web process calls this as it starts: if Tradewind's address changed, the
    subscriptions move with it instead of failing at the old one."""
    queued = 0
    with hub.db.unit_of_work() as session:
        for plugin in plugins.list_plugins(session):
            if plugin.state not in (PluginState.ACTIVE, PluginState.FAILING):
                continue
            if Capability.MANAGE_WEBHOOKS in _capabilities(hub, plugin):
                ledger.enqueue(session, plugin.id, WorkKind.ENSURE_WEBHOOKS)
                queued += 1
    return queued


def sync_now(hub: Hub, plugin_id: int) -> list[WorkKind]:
    """Sync now: a reconciliation poll of orders and a full stock push, at once."""
    queued: list[WorkKind] = []
    with hub.db.unit_of_work() as session:
        plugin = plugins.get_plugin(session, plugin_id)
        if plugin.state is PluginState.INACTIVE:
            raise Invalid(f"plugin {plugin.name!r} is not active; activate it first")
        capabilities = _capabilities(hub, plugin)
        if Toggle.IMPORT_ORDERS in plugin.toggles and Capability.IMPORT_ORDERS in capabilities:
            ledger.enqueue(session, plugin.id, WorkKind.POLL_ORDERS, ORDERS_STREAM)
            queued.append(WorkKind.POLL_ORDERS)
        if _queue_all_stock(session, plugin):
            queued.append(WorkKind.PUSH_STOCK)
    return queued


def map_location(
    hub: Hub,
    plugin_id: int,
    external_id: str,
    *,
    warehouse_id: int | None,
    shipping_process: str = "",
    is_default: bool | None = None,
) -> LocationMapping:
    """Map a platform location to a warehouse (None: unmapped, its stock never syncs) and
    a shipping process (by name, one that exists; empty: none).
    The plugin's stock goes out at once to what is now mapped, and a "choose a channel
    location" notice resolves once one is mapped (or is raised when the last one goes)."""
    with hub.db.unit_of_work() as session:
        plugin = plugins.get_plugin(session, plugin_id)
        row = links.map_location(
            session,
            plugin_id,
            external_id,
            warehouse_id=warehouse_id,
            shipping_process=routes.check_name(session, shipping_process),
            is_default=is_default,
        )
        if stock.check_locations(session, plugin) and plugin.state is not PluginState.INACTIVE:
            _queue_all_stock(session, plugin)
        return row


def _queue_all_stock(session: Session, plugin: Plugin) -> int:
    """Queue a push of every product stocked in a mapped warehouse (no coalescing wait)."""
    if plugin.stock_mode is StockMode.OFF:
        return 0
    warehouses = set(stock.mapped_locations(session, plugin.id).values())
    if not warehouses:
        return 0
    product_ids = sorted(
        set(
            session.scalars(
                select(StockLevel.product_id).where(StockLevel.warehouse_id.in_(warehouses))
            )
        )
    )
    ledger.enqueue_many(session, plugin.id, WorkKind.PUSH_STOCK, [str(p) for p in product_ids])
    return len(product_ids)


def sync_products(hub: Hub, plugin_id: int) -> ProductSync:
    """Sync products: map the platform's catalog (a run with a report)."""
    with hub.db.unit_of_work() as session:
        plugin = plugins.get_plugin(session, plugin_id)
        if Capability.IMPORT_PRODUCTS not in _capabilities(hub, plugin):
            raise Invalid(f"the {plugin.connector} connector cannot read products")
        running = session.scalar(
            select(ProductSync).where(
                ProductSync.plugin_id == plugin.id, ProductSync.state == BackfillState.RUNNING
            )
        )
        if running is not None:
            return running
        run = ProductSync(plugin_id=plugin.id)
        session.add(run)
        session.flush()
        ledger.enqueue(session, plugin.id, WorkKind.SYNC_PRODUCTS, str(run.id))
        if Toggle.IMPORT_LISTINGS in plugin.toggles:
            # Runs once every product page is done (its pages rank before it), so the
            # variants mapped by this run have their listings read too.
            ledger.enqueue(session, plugin.id, WorkKind.SYNC_LISTINGS, LISTINGS_KEY)
        return run


def sync_listings(hub: Hub, plugin_id: int) -> None:
    """Sync listings: read how the platform shows every linked product into the listings
    of the plugin's channels (Import Listings)."""
    with hub.db.unit_of_work() as session:
        plugin = _wanting(
            hub, session, plugin_id, Toggle.IMPORT_LISTINGS, Capability.IMPORT_LISTINGS
        )
        ledger.enqueue(session, plugin.id, WorkKind.SYNC_LISTINGS, LISTINGS_KEY)


def sync_customers(hub: Hub, plugin_id: int) -> None:
    """Sync customers: read every customer of the platform now, matched by email
    (Import Customers also polls for changes by itself, hourly)."""
    with hub.db.unit_of_work() as session:
        plugin = _wanting(
            hub, session, plugin_id, Toggle.IMPORT_CUSTOMERS, Capability.IMPORT_CUSTOMERS
        )
        ledger.enqueue(session, plugin.id, WorkKind.IMPORT_CUSTOMERS, CUSTOMERS_FULL)


def export_products(hub: Hub, plugin_id: int) -> int:
    """Export all products: queue every active product for the plugin (Export Products
    otherwise sends a product when it is created or changed). Returns how many."""
    with hub.db.unit_of_work() as session:
        plugin = _wanting(
            hub, session, plugin_id, Toggle.EXPORT_PRODUCTS, Capability.EXPORT_PRODUCTS
        )
        ids = exports.products_to_export(session)
        ledger.enqueue_many(session, plugin.id, WorkKind.EXPORT_PRODUCT, [str(i) for i in ids])
        return len(ids)


def preview_customer_export(hub: Hub, plugin_id: int) -> customer_exports.Preview:
    """The dry run of Export all customers: how many would be exported, how many have
    no email and are skipped. Sends nothing."""
    with hub.db.read() as session:
        plugin = _seeding(hub, session, plugin_id)
        return customer_exports.preview(session, plugin.id)


def export_all_customers(hub: Hub, plugin_id: int) -> tuple[CustomerExport, bool]:
    """Export all customers: every customer here once, matched by email in the store
    and linked, or created there (Export Customers otherwise sends a customer when it is
    made or changed). A run already going is answered instead of a second (the bool:
    whether this call started it)."""
    with hub.db.unit_of_work() as session:
        plugin = _seeding(hub, session, plugin_id)
        run, new = customer_exports.start(session, plugin.id)
        if new:
            ledger.enqueue(session, plugin.id, WorkKind.EXPORT_ALL_CUSTOMERS, str(run.id))
        return run, new


def customer_export_run(hub: Hub, plugin_id: int, run_id: int) -> CustomerExport:
    with hub.db.read() as session:
        run = session.get(CustomerExport, run_id)
        if run is None or run.plugin_id != plugin_id:
            raise NotFound(f"plugin {plugin_id} has no customer export {run_id}")
        return run


def _seeding(hub: Hub, session: Session, plugin_id: int) -> Plugin:
    plugin = _wanting(hub, session, plugin_id, Toggle.EXPORT_CUSTOMERS, Capability.EXPORT_CUSTOMERS)
    connector = hub.connector_for(plugin)
    if not isinstance(connector, type) or not issubclass(connector, SeedsCustomers):
        raise Invalid(f"the {plugin.connector} connector cannot export all customers")
    return plugin


def _wanting(
    hub: Hub, session: Session, plugin_id: int, toggle: Toggle, capability: Capability
) -> Plugin:
    plugin = plugins.get_plugin(session, plugin_id)
    if capability not in _capabilities(hub, plugin):
        raise Invalid(f"the {plugin.connector} connector does not support {toggle.label}")
    if toggle not in plugin.toggles:
        raise Invalid(f"plugin {plugin.name!r} does not have {toggle.label} on")
    if plugin.state is PluginState.INACTIVE:
        raise Invalid(f"plugin {plugin.name!r} is not active; activate it first")
    return plugin


@dataclass(frozen=True)
class BackfillProgress:
    id: int
    state: BackfillState
    pages: int
    imported: int
    unchanged: int
    skipped: int
    skips: list[dict[str, str]]
    start: dt.datetime
    end: dt.datetime
    route: str = ""  # "pages" or "bulk", once the first claim decided
    export_offset: int = 0  # bulk: bytes of the export's result imported
    export_size: int | None = None  # bulk: bytes of the result, once it is ready

    @property
    def read_fraction(self) -> float | None:
        if self.route != "bulk" or not self.export_size:
            return None
        return min(1.0, self.export_offset / self.export_size)


class BackfillRunning(Conflict):
    """A backfill covering the asked range is running already: a second would import the
    same orders again, to no end."""

    def __init__(self, backfill_id: int, start: dt.datetime, end: dt.datetime) -> None:
        self.backfill_id = backfill_id
        super().__init__(
            f"backfill #{backfill_id} ({start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC) "
            "already covers this range and is running: follow it, or cancel it first"
        )


def start_backfill(hub: Hub, plugin_id: int, start: dt.datetime, end: dt.datetime) -> Backfill:
    """Sync historical orders placed in [start, end): resumable, low priority, every
    bad record skipped with its reason."""
    if start.tzinfo is None or end.tzinfo is None:
        raise Invalid("backfill dates need a timezone")
    if end <= start:
        raise Invalid("the backfill range ends before it starts")
    if end > utcnow() + dt.timedelta(days=1):
        raise Invalid("the backfill range lies in the future")
    with hub.db.unit_of_work() as session:
        plugin = plugins.get_plugin(session, plugin_id)
        if Capability.IMPORT_ORDERS not in _capabilities(hub, plugin):
            raise Invalid(f"the {plugin.connector} connector cannot import orders")
        conflict = plugins.import_conflict(session, plugin)
        if conflict:
            raise Conflict(conflict)
        if Toggle.IMPORT_ORDERS not in plugin.toggles:
            raise Invalid(f"plugin {plugin.name!r} does not have Import Orders on")
        running = session.scalar(
            select(Backfill)
            .where(
                Backfill.plugin_id == plugin.id,
                Backfill.stream == ORDERS_STREAM,
                Backfill.state == BackfillState.RUNNING,
                Backfill.start <= start,
                Backfill.end >= end,
            )
            .order_by(Backfill.id)
            .limit(1)
        )
        if running is not None:
            raise BackfillRunning(running.id, running.start, running.end)
        run = Backfill(plugin_id=plugin.id, start=start, end=end)
        session.add(run)
        session.flush()
        ledger.enqueue(session, plugin.id, WorkKind.BACKFILL, str(run.id))
        return run


def backfill_progress(hub: Hub, backfill_id: int) -> BackfillProgress:
    with hub.db.read() as session:
        run = session.get(Backfill, backfill_id)
        if run is None:
            raise NotFound(f"no backfill with id {backfill_id}")
        return BackfillProgress(
            run.id,
            run.state,
            run.pages,
            run.imported,
            run.unchanged,
            run.skipped,
            list(run.skips),
            run.start,
            run.end,
            run.route,
            run.export_offset,
            run.export_size,
        )


def cancel_backfill(hub: Hub, backfill_id: int) -> None:
    with hub.db.unit_of_work() as session:
        run = session.get(Backfill, backfill_id)
        if run is not None and run.state is BackfillState.RUNNING:
            run.state = BackfillState.CANCELLED
            run.finished_at = utcnow()


def set_stock_mode(
    hub: Hub,
    plugin_id: int,
    *,
    mode: StockMode | None = None,
    window_seconds: int | None = None,
    buffer: int | None = None,
) -> Plugin:
    """Stock export settings. Switching to delta records today's levels as the baseline,
    so only changes from now on are sent; switching to absolute sends everything. A mode
    the connector cannot honour (``ConnectorInfo.stock_modes``) is refused."""
    with hub.db.unit_of_work() as session:
        found = plugins.get_plugin(session, plugin_id)
        supported = hub.info_for(found).stock_modes
        if mode is not None and mode not in supported:
            names = ", ".join(sorted(m.value for m in supported))
            raise Invalid(
                f"the {found.connector} connector cannot push stock in {mode.value} mode; "
                f"it supports: {names}",
                fields={"mode": f"one of {names}"},
            )
        before = found.stock_mode
        plugin = plugins.set_stock_sync(
            session, plugin_id, mode=mode, window_seconds=window_seconds, buffer=buffer
        )
        if mode is StockMode.DELTA and before is not StockMode.DELTA:
            stock.baseline_all(session, plugin)
        elif mode is StockMode.ABSOLUTE and before is not StockMode.ABSOLUTE:
            _queue_all_stock(session, plugin)
        return plugin


# ------------------------------------------------------------------------------- OAuth

STATE_TTL = dt.timedelta(minutes=15)


def begin_authorization(hub: Hub, plugin_id: int) -> str:
    """Authorize or Reauthorize: the platform URL to send the merchant to, returning to
    ``oauth_redirect_uri``. The ``state`` in it is random, stored hashed, single use and
    short-lived."""
    state = secrets.token_urlsafe(32)
    redirect_uri = oauth_redirect_uri(hub.settings.base_url)
    with hub.db.unit_of_work() as session:
        plugin = plugins.get_plugin(session, plugin_id)
        if Capability.OAUTH not in _capabilities(hub, plugin):
            raise Invalid(f"the {plugin.connector} connector does not authorize with OAuth")
        session.add(
            OAuthState(state_hash=_digest(state), plugin_id=plugin.id, redirect_uri=redirect_uri)
        )
    connector = open_connector(hub, plugin, CallBuffer())
    try:
        if not isinstance(connector, Authorizes):
            raise Invalid(f"the {plugin.connector} connector does not authorize with OAuth")
        return connector.authorization_url(state, redirect_uri)
    finally:
        connector.close()


def finish_authorization(hub: Hub, params: Mapping[str, str]) -> Plugin:
    """The platform's redirect back: the state must be one we issued (unused, recent); the
    connector checks the platform's signature and exchanges the code. The grant is then
    the plugin's credential (the settings it replaces are cleared), and the plugin goes
    on: connected for the first time, it is activated as Activate does it; waiting for
    reauthorization, it resumes; deactivated by a person, it stays inactive."""
    state = params.get("state", "")
    with hub.db.unit_of_work() as session:
        pending = session.get(OAuthState, _digest(state)) if state else None
        if pending is None or pending.used_at is not None:
            raise Invalid("this authorization link is not one Tradewind issued, or was used")
        if utcnow() - pending.created_at > STATE_TTL:
            raise Invalid("this authorization link has expired; start again from the plugin")
        pending.used_at = utcnow()
        plugin = plugins.get_plugin(session, pending.plugin_id)
        redirect_uri = pending.redirect_uri
    calls = CallBuffer()
    connector = open_connector(hub, plugin, calls)
    close = connector.close
    try:
        if not isinstance(connector, Authorizes):
            raise Invalid(f"the {plugin.connector} connector does not authorize with OAuth")
        try:
            connector.complete_authorization(params, redirect_uri)
        except AuthFailed as exc:
            raise Invalid(f"authorization failed: {exc}") from None
    finally:
        close()
    with hub.db.unit_of_work() as session:
        record_calls(session, plugin.id, calls.take())
        found = plugins.get_plugin(session, plugin.id)
        spec = hub.info_for(found)
        if spec.oauth_replaces:
            cleared: dict[str, object] = dict.fromkeys(spec.oauth_replaces)
            plugins.update_plugin_settings(session, hub.vault, spec, found.id, cleared)
        if found.state is not PluginState.INACTIVE:
            _resume(session, found)
        elif found.enabled_at is None:
            return _activate(hub, session, found.id)
        else:
            notifications.resolve(session, NotificationKind.AUTHORIZATION_LOST, plugin_id=found.id)
        return found


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()
