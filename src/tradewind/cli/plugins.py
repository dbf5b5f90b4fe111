"""``tradewind plugins``: connections to platforms, their channels and toggles."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import typer

from tradewind.app import actions
from tradewind.app import configure as setup
from tradewind.cli.common import console, err_console, fail, parse_assignments, running, table
from tradewind.connectors.base import ConnectorInfo
from tradewind.core.channels import service as channels
from tradewind.core.inventory import service as inventory
from tradewind.core.links import service as links
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin
from tradewind.core.plugins.schemas import AttachResult
from tradewind.hub import Hub
from tradewind.vocabulary import StockMode, Toggle

app = typer.Typer(help="Plugins: one configured connection each.", no_args_is_help=True)


class OnOff(StrEnum):
    ON = "on"
    OFF = "off"


def _find(hub: Hub, ref: str) -> Plugin:
    """The plugin named ``ref`` (or with that id), read on its own."""
    with hub.db.read() as session:
        return plugins.plugin_by_ref(session, ref)


@app.command()
def connectors(
    ctx: typer.Context,
    settings: str | None = typer.Option(
        None,
        "--settings",
        metavar="CONNECTOR",
        help="List the settings keys this connector takes (--set key=value) instead.",
    ),
) -> None:
    """The installed connector types (and any that failed to load)."""
    with running(ctx) as hub:
        registry = hub.registry
        if settings is not None:
            _settings_keys(registry.info(settings))
            return
        table(
            "Connectors",
            ["key", "name", "supported toggles"],
            [
                (info.key, info.name, ", ".join(t.value for t in Toggle if t in info.toggles))
                for info in registry.infos()
            ],
        )
        for key, reason in registry.broken.items():
            err_console.print(f"connector {key!r} failed to load: {reason}", highlight=False)


def _settings_keys(info: ConnectorInfo) -> None:
    rows = []
    for key in setup.setting_keys(info.settings):
        kind = key.kind
        if key.choices:
            kind = f"{kind}: {' | '.join(str(choice) for choice in key.choices)}"
        rows.append(
            (
                key.name,
                "string" if key.kind == "secret" else kind,
                "yes" if key.required else "",
                "secret" if key.kind == "secret" else "",
                "" if key.default is None else key.default,
                key.description,
            )
        )
    table(
        f"Settings of {info.key} ({info.name}): tradewind plugins add {info.key} NAME "
        "--set key=value",
        ["key", "type", "required", "secret", "default", "description"],
        rows,
    )


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List plugins."""
    with running(ctx) as hub, hub.db.read() as session:
        names = {c.id: c.name for c in channels.list_channels(session)}
        rows = []
        for plugin in plugins.list_plugins(session):
            conflict = plugins.import_conflict(session, plugin)
            rows.append(
                (
                    plugin.id,
                    plugin.name,
                    plugin.connector,
                    plugin.state.value + (" (import conflict)" if conflict else ""),
                    ", ".join(names[i] for i in plugin.channel_ids),
                    ", ".join(t.value for t in Toggle if t in plugin.toggles),
                )
            )
        table("Plugins", ["id", "name", "connector", "state", "channels", "toggles"], rows)


@app.command()
def add(
    ctx: typer.Context,
    connector: str = typer.Argument(..., help="Connector key (see `plugins connectors`)."),
    name: str = typer.Argument(..., help="A name for this connection, e.g. the store."),
    setting: list[str] = typer.Option([], "--set", help="key=value, repeatable."),
    channel: str = typer.Option(None, help="Attach to this channel right away."),
    shadow: bool = typer.Option(
        False, "--shadow", help="Start in shadow: read and report, write nothing."
    ),
) -> None:
    """Create a plugin; settings are checked by the connector's own schema, and URLs by
    the outbound address policy."""
    values = parse_assignments(setting)
    with running(ctx) as hub:
        spec = hub.registry.info(connector)
        channel_ids = []
        if channel:
            with hub.db.read() as session:
                channel_ids = [channels.channel_by_ref(session, channel).id]
        plugin_id = setup.create_plugin(
            hub, spec, name=name, config=values, channel_ids=channel_ids, shadow=shadow
        )
        mode = " in shadow: nothing is written" if shadow else ""
        console.print(f"created plugin {plugin_id} {name.strip()} ({spec.name}){mode}")


@app.command()
def configure(
    ctx: typer.Context,
    plugin: str,
    setting: list[str] = typer.Option([], "--set", help="key=value, repeatable."),
) -> None:
    """Change settings (``--set key=`` clears a secret)."""
    values = parse_assignments(setting)
    if not values:
        fail("nothing to change: give --set key=value")
    with running(ctx) as hub:
        found = _find(hub, plugin)
        setup.configure_plugin(hub, hub.info_for(found), found.id, values)
        console.print(f"updated plugin {found.name}")


@app.command()
def show(ctx: typer.Context, plugin: str) -> None:
    """A plugin's settings (secrets masked), channels, toggles and mappings."""
    with running(ctx) as hub, hub.db.read() as session:
        found = plugins.plugin_by_ref(session, plugin)
        names = {c.id: c.name for c in channels.list_channels(session)}
        mode = ", shadow (nothing is written)" if found.in_shadow else ""
        console.print(f"[bold]{found.name}[/bold] — {found.connector}, {found.state.value}{mode}")
        if found.connector in hub.registry.connectors:
            spec = hub.info_for(found)
            shown = plugins.describe_settings(hub.vault, spec, found)
            for key, value in shown.items():
                console.print(f"  {key}: {value}", highlight=False)
        else:
            err_console.print(f"connector {found.connector!r} is not installed")
        console.print(f"  channels: {', '.join(names[i] for i in found.channel_ids) or 'none'}")
        console.print(
            f"  toggles: {', '.join(t.label for t in Toggle if t in found.toggles) or 'none'}"
        )
        console.print(
            f"  stock: {found.stock_mode.value}, window {found.stock_window_seconds}s, "
            f"buffer {found.stock_buffer}"
        )
        conflict = plugins.import_conflict(session, found)
        if conflict:
            err_console.print(f"  import conflict: {conflict}", highlight=False)
        if found.last_error:
            console.print(f"  last error: {found.last_error}", highlight=False)
        mappings = links.location_mappings(session, found.id)
        if mappings:
            table(
                "Locations",
                ["location", "name", "warehouse", "process", "default"],
                [
                    (
                        m.external_id,
                        m.name,
                        m.warehouse_id or "unmapped — stock does not sync",
                        m.shipping_process,
                        "yes" if m.is_default else "",
                    )
                    for m in mappings
                ],
            )


@app.command("map-location")
def map_location(
    ctx: typer.Context,
    plugin: str,
    location: str = typer.Argument(..., help="The platform location's id (plugins show)."),
    warehouse: str = typer.Option("", help="Warehouse code or id (none: unmapped)."),
    process: str = typer.Option("", help="Shipping process name (tradewind shipments processes)."),
    default: bool = typer.Option(False, "--default", help="The location that takes new orders."),
) -> None:
    """Map a platform location to a warehouse and a shipping process."""
    with running(ctx) as hub:
        with hub.db.read() as session:
            found = plugins.plugin_by_ref(session, plugin)
            target = inventory.warehouse_by_ref(session, warehouse).id if warehouse else None
        row = actions.map_location(
            hub,
            found.id,
            location,
            warehouse_id=target,
            shipping_process=process,
            is_default=default or None,
        )
        console.print(
            f"location {row.external_id}: warehouse {row.warehouse_id or 'none'}, "
            f"shipping process {row.shipping_process or 'none'}",
            highlight=False,
        )


def _answer(result: AttachResult, names: dict[int, str]) -> None:
    console.print(f"channels: {', '.join(names[i] for i in result.channel_ids) or 'none'}")
    if result.import_conflict:
        err_console.print(f"import conflict: {result.import_conflict}", highlight=False)


@app.command()
def attach(ctx: typer.Context, plugin: str, channel: str) -> None:
    """Attach a plugin to a channel."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        found = plugins.plugin_by_ref(session, plugin)
        target = channels.channel_by_ref(session, channel)
        result = plugins.attach(session, found.id, target.id)
        _answer(result, {c.id: c.name for c in channels.list_channels(session)})


@app.command()
def detach(ctx: typer.Context, plugin: str, channel: str) -> None:
    """Detach a plugin from a channel."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        found = plugins.plugin_by_ref(session, plugin)
        target = channels.channel_by_ref(session, channel)
        result = plugins.detach(session, found.id, target.id)
        _answer(result, {c.id: c.name for c in channels.list_channels(session)})


@app.command()
def toggle(
    ctx: typer.Context,
    plugin: str,
    name: Toggle = typer.Argument(..., help="e.g. import_orders"),
    state: OnOff = typer.Argument(...),
) -> None:
    """Switch a sync toggle; prerequisites and dependents follow, and are listed."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        found = plugins.plugin_by_ref(session, plugin)
        spec = hub.info_for(found)
        result = plugins.set_toggle(session, spec, found.id, name, state is OnOff.ON)
        console.print(result.message(), highlight=False)
        conflict = plugins.import_conflict(session, found)
        if conflict:
            err_console.print(f"import conflict: {conflict}", highlight=False)


@app.command()
def activate(ctx: typer.Context, plugin: str) -> None:
    """Start syncing: read the platform's locations, register its webhooks, send the
    stock (what Activate does in the UI and the API)."""
    with running(ctx) as hub:
        found = actions.activate(hub, _find(hub, plugin).id)
        console.print(f"{found.name} is active since {found.enabled_at:%Y-%m-%d %H:%M} UTC")


@app.command("shadow")
def enter_shadow(ctx: typer.Context, plugin: str) -> None:
    """Run a plugin that was never live in shadow: it reads orders, products and stock
    and records what it would do, and writes nothing (see go-live-report)."""
    with running(ctx) as hub:
        found = actions.enter_shadow(hub, _find(hub, plugin).id)
        console.print(f"{found.name} is in shadow: nothing is written")


@app.command("go-live-report")
def go_live_report(ctx: typer.Context, plugin: str) -> None:
    """What the plugin would have done in shadow: orders that would import and those
    skipped, lines no product matches, buyers missing fields, stock differences."""
    with running(ctx) as hub:
        found = _find(hub, plugin)
        report = actions.go_live_report(hub, found.id)
        since = f" since {report.shadow_since:%Y-%m-%d %H:%M} UTC" if report.shadow_since else ""
        console.print(
            f"{found.name}: " + (f"in shadow{since}" if report.shadow else "live"),
            highlight=False,
        )
        for line in report.lines():
            console.print(line, highlight=False)


@app.command("go-live")
def go_live(ctx: typer.Context, plugin: str) -> None:
    """Leave shadow: orders placed from now on import, and the stock is sent."""
    with running(ctx) as hub:
        found = actions.go_live(hub, _find(hub, plugin).id)
        console.print(f"{found.name} is live since {found.enabled_at:%Y-%m-%d %H:%M:%S} UTC")


@app.command()
def deactivate(ctx: typer.Context, plugin: str) -> None:
    """Stop syncing (settings and pending work are kept)."""
    with running(ctx) as hub, hub.db.unit_of_work() as session:
        found = plugins.deactivate(session, plugins.plugin_by_ref(session, plugin).id)
        console.print(f"{found.name} is inactive")


@app.command("stock")
def stock_sync(
    ctx: typer.Context,
    plugin: str,
    mode: StockMode = typer.Option(None, help="off, absolute or delta"),
    window: int = typer.Option(None, help="Coalescing window in seconds (0 = immediate)."),
    buffer: int = typer.Option(None, help="Units held back from the channel."),
) -> None:
    """Stock export settings of a plugin (delta starts from today's levels; absolute
    sends everything at once)."""
    with running(ctx) as hub:
        found = actions.set_stock_mode(
            hub, _find(hub, plugin).id, mode=mode, window_seconds=window, buffer=buffer
        )
        console.print(
            f"{found.name}: stock {found.stock_mode.value}, window {found.stock_window_seconds}s,"
            f" buffer {found.stock_buffer}"
        )


@app.command("sync-customers")
def sync_customers(ctx: typer.Context, plugin: str) -> None:
    """Read every customer of the platform now, matched by email (Import Customers)."""
    with running(ctx) as hub:
        found = _find(hub, plugin)
        actions.sync_customers(hub, found.id)
        console.print(f"{found.name}: customers are being read; see `notifications list`")


@app.command("sync-listings")
def sync_listings(ctx: typer.Context, plugin: str) -> None:
    """Read how the platform shows every mapped product into the channel's listings."""
    with running(ctx) as hub:
        found = _find(hub, plugin)
        actions.sync_listings(hub, found.id)
        console.print(f"{found.name}: listings are being read")


@app.command("export-products")
def export_products(ctx: typer.Context, plugin: str) -> None:
    """Send every active product to the platform now (Export Products sends new and
    changed ones by itself); products it already has are updated, never duplicated."""
    with running(ctx) as hub:
        found = _find(hub, plugin)
        queued = actions.export_products(hub, found.id)
        console.print(f"{found.name}: {queued} product(s) queued for export")


@app.command("test")
def test_connection(ctx: typer.Context, plugin: str) -> None:
    """Test connection: check the credentials, read the account, name missing permissions
    (exit status 1 when the connection does not work)."""
    with running(ctx) as hub:
        found = _find(hub, plugin)
        report = actions.test_connection(hub, found.id)
    if report.missing_scopes:
        err_console.print(
            f"{found.name}: missing permissions: {', '.join(report.missing_scopes)}",
            highlight=False,
        )
    if not report.ok:
        err_console.print(f"{found.name}: {report.detail}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=1)
    console.print(f"{found.name}: the connection works ({report.account})", highlight=False)


@app.command("sync-now")
def sync_now(ctx: typer.Context, plugin: str) -> None:
    """Sync now: a reconciliation poll of orders and a full stock push, at once (a running
    `tradewind run` or `tradewind worker` does the work)."""
    with running(ctx) as hub:
        found = _find(hub, plugin)
        queued = actions.sync_now(hub, found.id)
    what = ", ".join(kind.value for kind in queued) or "nothing (no toggle asks for it)"
    console.print(f"{found.name}: queued {what}", highlight=False)


@app.command("sync-products")
def sync_products(ctx: typer.Context, plugin: str) -> None:
    """Sync products: map the platform's variants to products by SKU, then barcode."""
    with running(ctx) as hub:
        found = _find(hub, plugin)
        run = actions.sync_products(hub, found.id)
    console.print(f"{found.name}: product sync #{run.id} queued; see `plugins show`")


@app.command()
def backfill(
    ctx: typer.Context,
    plugin: str,
    start: dt.datetime = typer.Option(..., "--from", formats=["%Y-%m-%d"], help="First day."),
    end: dt.datetime = typer.Option(..., "--to", formats=["%Y-%m-%d"], help="Last day."),
) -> None:
    """Sync historical orders placed from --from to --to (both days included, UTC)."""
    with running(ctx) as hub:
        found = _find(hub, plugin)
        run = actions.start_backfill(
            hub,
            found.id,
            start.replace(tzinfo=dt.UTC),
            end.replace(tzinfo=dt.UTC) + dt.timedelta(days=1),
        )
    console.print(
        f"{found.name}: backfill #{run.id} queued; its progress is on the plugin page and "
        f"at /api/v1/backfills/{run.id}",
        highlight=False,
    )
