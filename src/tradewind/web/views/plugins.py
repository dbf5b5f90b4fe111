"""Plugins: the list, the new-plugin form, the plugin page and everything it posts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from tradewind.app import actions, configure, present, templates
from tradewind.app.calls import connector_calls
from tradewind.auth.service import SessionUser
from tradewind.connectors.base import Capability
from tradewind.connectors.registry import UnknownConnector
from tradewind.core.catalog import service as catalog
from tradewind.core.channels import service as channels
from tradewind.core.inventory import service as inventory
from tradewind.core.links import service as links
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import OrderStatus
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.schemas import PosPolicy
from tradewind.core.shipping import routes
from tradewind.db import utcnow
from tradewind.errors import Invalid, NotFound, TradewindError
from tradewind.hub import Hub
from tradewind.monitoring import notifications
from tradewind.sync import decisions, gaps, runtime, tokens
from tradewind.sync.models import Backfill, ProductSync
from tradewind.vocabulary import FinancialStatus, FulfillmentStatus, StockMode, Toggle
from tradewind.web import forms
from tradewind.web.app import fragment, page, redirect
from tradewind.web.session import (
    hub_of,
    reader,
    writer,
)
from tradewind.web.views import plugin_panels as panels

router = APIRouter(include_in_schema=False)

NEWEST_NOTES = 3  # alerts atop the plugin page; the rest are a link away


@router.get("/plugins")
def plugin_list(request: Request, _user: SessionUser = Depends(reader)) -> HTMLResponse:
    hub = hub_of(request)
    with hub.db.read() as session:
        names = {c.id: c.name for c in channels.list_channels(session)}
        rows = [
            (plugin, plugins.import_conflict(session, plugin))
            for plugin in plugins.list_plugins(session)
        ]
    return page(
        request,
        "plugins.html",
        rows=rows,
        channel_names=names,
        connectors=hub.registry.infos(),
        broken=hub.registry.broken,
    )


@router.get("/plugins/new")
def plugin_new(
    request: Request, connector: str | None = None, _user: SessionUser = Depends(writer)
) -> HTMLResponse:
    hub = hub_of(request)
    spec = None
    if connector:
        try:
            spec = hub.registry.info(connector)
        except UnknownConnector as exc:
            raise Invalid(str(exc)) from None
    with hub.db.read() as session:
        channel_rows = channels.list_channels(session)
    return page(
        request,
        "plugin_new.html",
        connectors=hub.registry.infos(),
        spec=spec,
        fields=forms.form_fields(spec.settings) if spec else [],
        channels=channel_rows,
    )


@router.post("/plugins/new")
async def plugin_create(request: Request, _user: SessionUser = Depends(writer)) -> Response:
    form = await request.form()
    hub = hub_of(request)
    key = str(form.get("connector", ""))
    try:
        spec = hub.registry.info(key)
    except UnknownConnector as exc:
        raise Invalid(str(exc)) from None
    name = str(form.get("name", ""))
    settings = forms.settings_from_form(form, forms.form_fields(spec.settings), for_update=False)
    channel_ids = [int(str(v)) for v in form.getlist("channel_ids") if str(v).isdigit()]
    shadow = form.get("shadow") == "1"

    def create() -> int:
        return configure.create_plugin(
            hub, spec, name=name, config=settings, channel_ids=channel_ids, shadow=shadow
        )

    plugin_id = await run_in_threadpool(create)
    return redirect(request, f"/plugins/{plugin_id}", f"Plugin {name!r} created.")


def _plugin_context(request: Request, plugin_id: int) -> dict[str, Any]:
    hub = hub_of(request)
    with hub.db.read() as session:
        plugin = plugins.get_plugin(session, plugin_id)
        spec = present.spec_of(hub, plugin)
        out = present.plugin_out(hub, session, plugin)
        now = utcnow()
        query = dict(request.query_params)
        notes = notifications.open_notifications(session, plugin_id=plugin.id)
        latest_sync = session.scalar(
            select(ProductSync)
            .where(ProductSync.plugin_id == plugin.id)
            .order_by(ProductSync.id.desc())
            .limit(1)
        )
        backfill = session.scalar(
            select(Backfill)
            .where(Backfill.plugin_id == plugin.id)
            .order_by(Backfill.id.desc())
            .limit(1)
        )
        return {
            "plugin": out,
            "spec": spec,
            "oauth": Capability.OAUTH in spec.capabilities,
            "can_sync_products": Capability.IMPORT_PRODUCTS in spec.capabilities,
            "on_demand": [
                job
                for job in ON_DEMAND
                if job.capability in spec.capabilities and job.toggle in plugin.toggles
            ],
            "customer_export": present.customer_export_panel(hub, session, plugin),
            "toggles": present.toggle_states(hub, plugin),
            "fields": forms.form_fields(spec.settings),
            "channels": channels.list_channels(session),
            "locations": links.location_mappings(session, plugin.id),
            "shipping_processes": routes.list_processes(session),
            "warehouses": inventory.list_warehouses(session),
            "links": links.product_links(session, plugin.id),
            "product_sync": latest_sync,
            "backfill": present.backfill_row_out(backfill) if backfill else None,
            "health": present.plugin_health(session, plugin),
            "made_from": templates.plugin_template(hub, session, plugin),
            **panels.executions_panel(session, plugin.id, query, now),
            **panels.charts(session, plugin.id, now),
            **panels.stock_panel(session, plugin, query),
            "gap_reports": gaps.reports(session, plugin.id, limit=7),
            "decisions": [
                (found, decisions.fix_for(found.code) if found.code else "")
                for found in decisions.recent(
                    session,
                    plugin.id,
                    decision=decisions.Decision(request.query_params["decision"])
                    if request.query_params.get("decision") in set(decisions.Decision)
                    else None,
                    limit=20,
                )
            ],
            "decision_filter": request.query_params.get("decision", ""),
            "token": tokens.forecast(hub, plugin),
            "now": now,
            "today": now.date(),
            "notes": notes[:NEWEST_NOTES],
            "more_notes": len(notes) - NEWEST_NOTES if len(notes) > NEWEST_NOTES else 0,
            "stock_modes": list(StockMode),
            "rules": plugins.import_rules(plugin),
            "can_cancel": Capability.CANCEL_ORDERS in spec.capabilities,
            "can_export_returns": Capability.EXPORT_RETURNS in spec.capabilities,
            "rule_choices": RULE_CHOICES,
            "products": {p.id: p for p in catalog.list_products(session, limit=1000)},
        }


@router.get("/plugins/{plugin_id}")
def plugin_page(
    request: Request, plugin_id: int, _user: SessionUser = Depends(reader)
) -> HTMLResponse:
    runtime.check_credentials(hub_of(request), plugin_id)  # unreadable ones: paused, said
    return page(request, "plugin.html", **_plugin_context(request, plugin_id))


@router.get("/plugins/{plugin_id}/guide")
def plugin_guide(
    request: Request, plugin_id: int, _user: SessionUser = Depends(reader)
) -> HTMLResponse:
    hub = hub_of(request)
    with hub.db.read() as session:
        plugin = plugins.get_plugin(session, plugin_id)
        spec = present.spec_of(hub, plugin)
    return page(request, "guide.html", plugin=plugin, spec=spec)


@router.post("/plugins/{plugin_id}/gaps")
def plugin_gap_report(
    request: Request,
    plugin_id: int,
    day: dt.date = Form(...),
    _user: SessionUser = Depends(writer),
) -> Response:
    """A day's orders on the platform against Tradewind's, made now by the engine."""
    with hub_of(request).db.unit_of_work() as session:
        gaps.request_report(session, plugin_id, day)
    return redirect(
        request, f"/plugins/{plugin_id}#gaps", f"The gap report of {day} is being made."
    )


@router.post("/plugins/{plugin_id}/gaps/{day}/import")
def plugin_gap_import(
    request: Request, plugin_id: int, day: dt.date, _user: SessionUser = Depends(writer)
) -> Response:
    """Read exactly the day's missing orders again."""
    with hub_of(request).db.unit_of_work() as session:
        queued = gaps.import_missing(session, plugin_id, day)
    return redirect(
        request, f"/plugins/{plugin_id}#gaps", f"{queued} missing order(s) of {day} queued."
    )


@router.post("/plugins/{plugin_id}/settings")
async def plugin_settings(
    request: Request, plugin_id: int, _user: SessionUser = Depends(writer)
) -> Response:
    form = await request.form()
    hub = hub_of(request)

    def save() -> None:
        with hub.db.read() as session:
            spec = present.spec_of(hub, plugins.get_plugin(session, plugin_id))
        changes = forms.settings_from_form(form, forms.form_fields(spec.settings), for_update=True)
        configure.configure_plugin(hub, spec, plugin_id, changes)

    await run_in_threadpool(save)
    return redirect(request, f"/plugins/{plugin_id}#settings", "Settings saved.")


@router.post("/plugins/{plugin_id}/channels")
async def plugin_channels(
    request: Request, plugin_id: int, _user: SessionUser = Depends(writer)
) -> Response:
    form = await request.form()
    wanted = [int(str(v)) for v in form.getlist("channel_ids") if str(v).isdigit()]
    hub = hub_of(request)

    def save() -> str | None:
        with hub.db.unit_of_work() as session:
            return plugins.set_channels(session, plugin_id, wanted).import_conflict

    conflict = await run_in_threadpool(save)
    if conflict:
        return redirect(request, f"/plugins/{plugin_id}#channels", conflict, error=True)
    return redirect(request, f"/plugins/{plugin_id}#channels", "Channels saved.")


@router.post("/plugins/{plugin_id}/toggles/{toggle}")
def plugin_toggle(
    request: Request,
    plugin_id: int,
    toggle: Toggle,
    on: str = Form("off"),
    _user: SessionUser = Depends(writer),
) -> Response:
    hub = hub_of(request)
    message = ""
    changed: list[Toggle] = []
    error = ""
    try:
        with hub.db.unit_of_work() as session:
            spec = present.spec_of(hub, plugins.get_plugin(session, plugin_id))
            result = plugins.set_toggle(session, spec, plugin_id, toggle, on == "on")
            message = result.message()
            changed = [*result.also_enabled, *result.also_disabled]
    except TradewindError as exc:
        error = exc.message
    with hub.db.read() as session:  # only what the fragment shows, not the whole page
        plugin = plugins.get_plugin(session, plugin_id)
        present.spec_of(hub, plugin)  # a connector gone missing: the same clear problem
        toggles = present.toggle_states(hub, plugin)
    return fragment(
        request,
        "fragments/toggles.html",
        toggle_message=message,
        toggle_error=error,
        changed=changed,
        plugin=plugin,
        toggles=toggles,
    )


@router.post("/plugins/{plugin_id}/test")
def plugin_test(request: Request, plugin_id: int, _user: SessionUser = Depends(writer)) -> Response:
    with connector_calls():
        report = actions.test_connection(hub_of(request), plugin_id)
    return fragment(request, "fragments/test_result.html", report=report)


@router.post("/plugins/{plugin_id}/authorize")
def plugin_authorize(
    request: Request, plugin_id: int, _user: SessionUser = Depends(writer)
) -> Response:
    with connector_calls():
        url = actions.begin_authorization(hub_of(request), plugin_id)
    return redirect(request, url)


@router.post("/plugins/{plugin_id}/activate")
def plugin_activate(
    request: Request, plugin_id: int, _user: SessionUser = Depends(writer)
) -> Response:
    with connector_calls():
        actions.activate(hub_of(request), plugin_id)
    return redirect(request, f"/plugins/{plugin_id}", "Plugin activated.")


@router.post("/plugins/{plugin_id}/deactivate")
def plugin_deactivate(
    request: Request, plugin_id: int, _user: SessionUser = Depends(writer)
) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        plugins.deactivate(session, plugin_id)
    return redirect(request, f"/plugins/{plugin_id}", "Plugin deactivated.")


@router.post("/plugins/{plugin_id}/sync")
def plugin_sync(request: Request, plugin_id: int, _user: SessionUser = Depends(writer)) -> Response:
    queued = actions.sync_now(hub_of(request), plugin_id)
    what = ", ".join(kind.value.replace("_", " ") for kind in queued) or "nothing to do"
    return redirect(request, f"/plugins/{plugin_id}", f"Sync now queued: {what}.")


def _aware_date(value: str, field: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{field}: use a date like 2026-01-31", fields={field: "invalid"}) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@router.post("/plugins/{plugin_id}/backfill")
def plugin_backfill(
    request: Request,
    plugin_id: int,
    start: str = Form(..., max_length=40),
    end: str = Form(..., max_length=40),
    _user: SessionUser = Depends(writer),
) -> Response:
    """Start a backfill; the answer, its progress, replaces the form's own progress box,
    where the person is looking. Why not is said next to the form (the error in its
    answer slot); a running backfill of the range is shown instead, with why."""
    hub = hub_of(request)
    said = ""
    begin = _aware_date(start, "start")
    finish = _aware_date(end, "end")
    if len(end) <= 10:  # a date: the whole day counts
        finish += dt.timedelta(days=1)
    try:
        shown = actions.start_backfill(hub, plugin_id, begin, min(finish, utcnow())).id
    except actions.BackfillRunning as exc:
        shown, said = exc.backfill_id, f"Not started: {exc.message}."
    with hub.db.read() as session:
        found = session.get(Backfill, shown)
        assert found is not None
        out = present.backfill_row_out(found)
    return fragment(
        request, "fragments/backfill.html", backfill=out, plugin_id=plugin_id, said=said
    )


@router.get("/plugins/{plugin_id}/backfills/{backfill_id}")
def plugin_backfill_progress(
    request: Request, plugin_id: int, backfill_id: int, _user: SessionUser = Depends(reader)
) -> Response:
    with hub_of(request).db.read() as session:
        run = session.get(Backfill, backfill_id)
        if run is None or run.plugin_id != plugin_id:
            raise Invalid(f"no backfill {backfill_id} on plugin {plugin_id}")
        out = present.backfill_row_out(run)
    return fragment(request, "fragments/backfill.html", backfill=out, plugin_id=plugin_id)


@router.post("/plugins/{plugin_id}/locations/{external_id}")
def plugin_location(
    request: Request,
    plugin_id: int,
    external_id: str,
    warehouse_id: str = Form(""),
    shipping_process: str = Form("", max_length=128),
    is_default: str = Form(""),
    _user: SessionUser = Depends(writer),
) -> Response:
    try:
        actions.map_location(
            hub_of(request),
            plugin_id,
            external_id,
            warehouse_id=int(warehouse_id) if warehouse_id.isdigit() else None,
            shipping_process=shipping_process,
            is_default=is_default == "on",
        )
    except TradewindError as exc:
        return redirect(request, f"/plugins/{plugin_id}#locations", exc.message, error=True)
    return redirect(request, f"/plugins/{plugin_id}#locations", "Location mapping saved.")


@dataclass(frozen=True)
class OnDemand:
    """A run the merchant can start from the plugin page once its toggle is on."""

    path: str
    label: str
    toggle: Toggle
    capability: Capability
    start: Callable[[Hub, int], object]
    started: str


ON_DEMAND = (
    OnDemand(
        "customer-sync",
        "Sync customers",
        Toggle.IMPORT_CUSTOMERS,
        Capability.IMPORT_CUSTOMERS,
        actions.sync_customers,
        "Sync customers started: every customer of the store is read and matched by email.",
    ),
    OnDemand(
        "listing-sync",
        "Sync listings",
        Toggle.IMPORT_LISTINGS,
        Capability.IMPORT_LISTINGS,
        actions.sync_listings,
        "Sync listings started: the store's titles, descriptions, images and prices are read.",
    ),
    OnDemand(
        "product-export",
        "Export all products",
        Toggle.EXPORT_PRODUCTS,
        Capability.EXPORT_PRODUCTS,
        actions.export_products,
        "Every active product is queued for the store.",
    ),
)


@router.post("/plugins/{plugin_id}/run/{job}")
def plugin_on_demand(
    request: Request, plugin_id: int, job: str, _user: SessionUser = Depends(writer)
) -> Response:
    found = next((each for each in ON_DEMAND if each.path == job), None)
    if found is None:
        raise NotFound(f"no run called {job!r}")
    found.start(hub_of(request), plugin_id)
    return redirect(request, f"/plugins/{plugin_id}", found.started)


@router.post("/plugins/{plugin_id}/product-sync")
def plugin_product_sync(
    request: Request, plugin_id: int, _user: SessionUser = Depends(writer)
) -> Response:
    actions.sync_products(hub_of(request), plugin_id)
    return redirect(request, f"/plugins/{plugin_id}#products", "Sync products started.")


@router.post("/plugins/{plugin_id}/product-links")
def plugin_link(
    request: Request,
    plugin_id: int,
    external_id: str = Form(..., max_length=128),
    product: str = Form(..., max_length=128),
    sku: str = Form("", max_length=128),
    replace: str = Form(""),
    _user: SessionUser = Depends(writer),
) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        core = catalog.product_by_ref(session, product)
        links.link_product(
            session, plugin_id, core.id, external_id, sku=sku, replace=replace == "on"
        )
        if sku:  # orders already waiting for this SKU are matched too
            orders.assign_product(session, sku, core.id, plugin_id=plugin_id)
    return redirect(
        request, f"/plugins/{plugin_id}#products", f"Variant {external_id} mapped to {core.sku}."
    )


@router.post("/plugins/{plugin_id}/stock")
def plugin_stock(
    request: Request,
    plugin_id: int,
    mode: StockMode = Form(...),
    window_seconds: int = Form(30, ge=0, le=3600),
    buffer: int = Form(0, ge=0, le=1_000_000),
    _user: SessionUser = Depends(writer),
) -> Response:
    actions.set_stock_mode(
        hub_of(request), plugin_id, mode=mode, window_seconds=window_seconds, buffer=buffer
    )
    return redirect(request, f"/plugins/{plugin_id}#stock", f"Stock sync: {mode.value}.")


# How the rules form offers what ImportRules holds: codes to match by, in order, and
# what to do with the stock of refunded items.
MATCH_BY = {
    "sku,barcode": "SKU, then barcode",
    "barcode,sku": "Barcode, then SKU",
    "sku": "SKU only",
    "barcode": "Barcode only",
}
RESTOCK = {"platform": "As the platform says", "always": "Always", "never": "Never"}
RESTOCK_RULE: dict[str, bool | None] = {"platform": None, "always": True, "never": False}
RULE_CHOICES = {
    "statuses": list(OrderStatus),
    "financial_statuses": list(FinancialStatus),
    "fulfillment_statuses": list(FulfillmentStatus),
    "pos_orders": {
        PosPolicy.SKIP: "Do not import",
        PosPolicy.GENERIC: "Import to one generic customer",
        PosPolicy.MATCH: "Match or create the customer",
    },
    "match_by": MATCH_BY,
    "restock": RESTOCK,
    "restock_rule": RESTOCK_RULE,
}


@router.post("/plugins/{plugin_id}/rules")
def plugin_rules(
    request: Request,
    plugin_id: int,
    statuses: list[OrderStatus] = Form([]),
    financial_statuses: list[FinancialStatus] = Form([]),
    ignore_financial_status: bool = Form(False),
    fulfillment_statuses: list[FulfillmentStatus] = Form([]),
    import_test_orders: bool = Form(False),
    pos_orders: PosPolicy = Form(...),
    only_location: str = Form("", max_length=255),
    match_by: str = Form(..., max_length=32),
    restock: str = Form("platform", max_length=16),
    close_orders: bool = Form(False),
    import_returns: bool = Form(False),
    export_returns: bool = Form(False),
    cancel_on_platform: bool = Form(False),
    notify_customer: bool = Form(False),
    poll_minutes: int = Form(10),
    poll_overlap_minutes: int = Form(15),
    _user: SessionUser = Depends(writer),
) -> Response:
    if match_by not in MATCH_BY or restock not in RESTOCK:
        raise Invalid("choose how lines are matched and returns restocked from the lists")
    changes = {
        "statuses": statuses,
        "financial_statuses": financial_statuses,
        "ignore_financial_status": ignore_financial_status,
        "fulfillment_statuses": fulfillment_statuses,
        "import_test_orders": import_test_orders,
        "pos_orders": pos_orders,
        "only_location": only_location or None,
        "match_by": match_by.split(","),
        "restock_returns": RESTOCK_RULE[restock],
        "close_orders": close_orders,
        "import_returns": import_returns,
        "export_returns": export_returns,
        "cancel_on_platform": cancel_on_platform,
        "notify_customer": notify_customer,
        "poll_minutes": poll_minutes,
        "poll_overlap_minutes": poll_overlap_minutes,
    }
    with hub_of(request).db.unit_of_work() as session:
        plugins.update_import_rules(session, plugin_id, changes)
    return redirect(request, f"/plugins/{plugin_id}#rules", "Order rules saved.")
