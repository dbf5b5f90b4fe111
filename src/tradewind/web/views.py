"""The UI's pages. Each handler parses a form, calls the same service or action the API
calls, and renders a page or an htmx fragment; rules stay in the services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from tradewind.app import actions, configure, present, schemas
from tradewind.app.calls import connector_calls
from tradewind.auth import service as auth
from tradewind.auth.service import SessionUser
from tradewind.connectors.base import Capability
from tradewind.connectors.registry import UnknownConnector
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.channels import service as channels
from tradewind.core.customers import service as customers
from tradewind.core.customers.schemas import Address, CustomerIn
from tradewind.core.inventory import service as inventory
from tradewind.core.inventory.schemas import Move, MovementIn
from tradewind.core.links import service as links
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import OrderStatus
from tradewind.core.orders.schemas import OrderIn, OrderLineIn
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.schemas import PosPolicy, secret_fields
from tradewind.core.returns import service as returns
from tradewind.core.returns.models import ReturnStatus
from tradewind.core.shipments import service as shipments
from tradewind.core.shipments.schemas import ShipmentIn
from tradewind.db import utcnow
from tradewind.errors import Invalid, NotFound, TradewindError
from tradewind.hub import Hub
from tradewind.monitoring import executions, notifications
from tradewind.monitoring.notifications import KINDS, NotificationKind
from tradewind.sync import runtime
from tradewind.sync.models import Backfill, ProductSync
from tradewind.vocabulary import FinancialStatus, FulfillmentStatus, StockMode, Toggle
from tradewind.web.app import fragment, page, redirect
from tradewind.web.render import Point, bar_chart, line_chart
from tradewind.web.session import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    client_address,
    current_user,
    delete_cookie,
    hub_of,
    new_login_csrf,
    reader,
    session_secret,
    set_cookie,
    signer,
    writer,
)

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


# ------------------------------------------------------------------------------- login


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    if current_user(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    token = new_login_csrf()
    response = page(request, "login.html", next=_safe_next(next), login_csrf=token)
    set_cookie(
        response, request, LOGIN_CSRF_COOKIE, token, max_age=3600, path="/login", samesite="strict"
    )
    return response


@router.post("/login")
def login(
    request: Request,
    username: str = Form(..., max_length=64),
    password: str = Form(..., max_length=1024),
    csrf_token: str = Form(""),
    next: str = Form("/"),
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not auth.csrf_matches(expected, csrf_token):
        return _login_again(request, "The sign-in form expired; please try again.", next, 403)
    hub = hub_of(request)
    with hub.db.unit_of_work() as session:
        result = auth.check_login(session, username, password, client=client_address(request))
        opened = (
            auth.open_session(session, result.user, hours=hub.settings.session_hours)
            if result.user is not None
            else None
        )
    try:
        result.user_or_raise()
    except auth.LoginThrottled as exc:
        response = _login_again(request, str(exc).capitalize() + ".", next, 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except auth.LoginFailed:
        return _login_again(request, "Wrong user name or password.", next, 401)
    assert opened is not None
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_cookie(
        response,
        request,
        SESSION_COOKIE,
        signer(request).sign(opened.secret),
        max_age=hub.settings.session_hours * 3600,
    )
    delete_cookie(response, request, LOGIN_CSRF_COOKIE, path="/login")
    return response


def _login_again(request: Request, error: str, next: str, status: int) -> Response:
    token = new_login_csrf()
    response = page(
        request, "login.html", status=status, next=_safe_next(next), login_csrf=token, error=error
    )
    set_cookie(
        response, request, LOGIN_CSRF_COOKIE, token, max_age=3600, path="/login", samesite="strict"
    )
    return response


@router.post("/logout")
def logout(request: Request, _user: SessionUser = Depends(reader)) -> Response:
    secret = session_secret(request)
    if secret:
        with hub_of(request).db.unit_of_work() as session:
            auth.close_session(session, secret)
    response = RedirectResponse("/login", status_code=303)
    delete_cookie(response, request, SESSION_COOKIE)
    return response


# --------------------------------------------------------------------------- dashboard


def _health_rows(request: Request) -> list[schemas.PluginHealth]:
    with hub_of(request).db.read() as session:
        return [present.plugin_health(session, p) for p in plugins.list_plugins(session)]


@router.get("/")
def dashboard(request: Request, _user: SessionUser = Depends(reader)) -> HTMLResponse:
    hub = hub_of(request)
    with hub.db.read() as session:
        recent = present.latest_orders(session)
        open_count = len(notifications.open_notifications(session))
        channel_names = {c.id: c.name for c in channels.list_channels(session)}
        counts = present.dashboard_counts(session)
    return page(
        request,
        "dashboard.html",
        health=_health_rows(request),
        recent=recent,
        open_count=open_count,
        channel_names=channel_names,
        counts=counts,
    )


@router.get("/fragments/health")
def health_fragment(request: Request, _user: SessionUser = Depends(reader)) -> HTMLResponse:
    return fragment(request, "fragments/health.html", health=_health_rows(request))


@router.get("/fragments/bell")
def bell(request: Request, _user: SessionUser = Depends(reader)) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        count = len(notifications.open_notifications(session))
        unread = notifications.unread_count(session)
    return fragment(request, "fragments/bell.html", bell_count=count, bell_unread=unread)


# ----------------------------------------------------------------------------- channels


@router.get("/channels")
def channel_list(request: Request, _user: SessionUser = Depends(reader)) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        rows = [
            (channel, plugins.plugins_of_channel(session, channel.id))
            for channel in channels.list_channels(session)
        ]
    return page(request, "channels.html", rows=rows)


@router.post("/channels")
def channel_create(
    request: Request,
    name: str = Form(..., max_length=128),
    description: str = Form("", max_length=2000),
    _user: SessionUser = Depends(writer),
) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        channel = channels.create_channel(session, name, description)
    return redirect(request, "/channels", f"Channel {channel.name!r} created.")


@router.post("/channels/{channel_id}/delete")
def channel_delete(
    request: Request, channel_id: int, _user: SessionUser = Depends(writer)
) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        channels.delete_channel(session, channel_id)
    return redirect(request, "/channels", "Channel deleted.")


# ------------------------------------------------------------------------------ plugins


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


def _fields(spec_settings: Any) -> list[dict[str, Any]]:
    """Form fields from a connector's settings schema."""
    schema = spec_settings.model_json_schema()
    required = set(schema.get("required", []))
    secrets = secret_fields(spec_settings)
    fields = []
    for name, prop in schema.get("properties", {}).items():
        options = prop.get("anyOf") or [prop]
        kinds = [o.get("type") for o in options if o.get("type") and o.get("type") != "null"]
        enum = next((o.get("enum") for o in options if o.get("enum")), None)
        if enum is None and "$ref" in prop:
            ref = schema.get("$defs", {}).get(prop["$ref"].split("/")[-1], {})
            enum = ref.get("enum")
        fields.append(
            {
                "name": name,
                "label": prop.get("title", name.replace("_", " ").title()),
                "kind": "secret" if name in secrets else (kinds[0] if kinds else "string"),
                "enum": enum,
                "required": name in required,
                "default": prop.get("default"),
                "description": prop.get("description", ""),
                "pattern": prop.get("pattern"),
            }
        )
    return fields


def _settings_from_form(
    form: FormData, fields: list[dict[str, Any]], *, for_update: bool
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in fields:
        name = field["name"]
        raw = form.get(f"setting_{name}")
        text = raw.strip() if isinstance(raw, str) else ""
        if field["kind"] == "boolean":
            values[name] = text == "on"
            continue
        if field["kind"] == "secret" and for_update and form.get(f"clear_{name}") == "on":
            values[name] = None  # the secret's Clear box
            continue
        if not text:
            if field["kind"] == "secret" and for_update:
                continue  # write-only: blank keeps the stored secret
            if not field["required"]:
                continue
        if field["kind"] == "integer" and text:
            try:
                values[name] = int(text)
            except ValueError:
                raise Invalid(f"{field['label']}: a whole number is needed") from None
        elif field["kind"] == "number" and text:
            try:
                values[name] = float(text)
            except ValueError:
                raise Invalid(f"{field['label']}: a number is needed") from None
        else:
            values[name] = text
    return values


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
        fields=_fields(spec.settings) if spec else [],
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
    settings = _settings_from_form(form, _fields(spec.settings), for_update=False)
    channel_ids = [int(str(v)) for v in form.getlist("channel_ids") if str(v).isdigit()]

    def create() -> int:
        return configure.create_plugin(
            hub, spec, name=name, config=settings, channel_ids=channel_ids
        )

    plugin_id = await run_in_threadpool(create)
    return redirect(request, f"/plugins/{plugin_id}", f"Plugin {name!r} created.")


def _plugin_context(request: Request, plugin_id: int) -> dict[str, Any]:
    hub = hub_of(request)
    with hub.db.read() as session:
        plugin = plugins.get_plugin(session, plugin_id)
        spec = present.spec_of(hub, plugin)
        out = present.plugin_out(hub, session, plugin)
        since = utcnow() - dt.timedelta(hours=24)
        stats = executions.hourly_stats(session, plugin.id, since=since)
        by_hour = {hour.hour: hour for hour in stats}
        this_hour = utcnow().replace(minute=0, second=0, microsecond=0)
        hours = [this_hour - dt.timedelta(hours=back) for back in range(23, -1, -1)]
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
            "toggles": present.toggle_states(hub, plugin),
            "fields": _fields(spec.settings),
            "channels": channels.list_channels(session),
            "locations": links.location_mappings(session, plugin.id),
            "warehouses": inventory.list_warehouses(session),
            "links": links.product_links(session, plugin.id),
            "product_sync": latest_sync,
            "backfill": present.backfill_row_out(backfill) if backfill else None,
            "health": present.plugin_health(session, plugin),
            "recent": executions.list_executions(session, plugin_id=plugin.id, limit=50),
            "notes": notifications.open_notifications(session, plugin_id=plugin.id),
            "success_chart": bar_chart(
                [
                    Point(hour.strftime("%H:00"), by_hour[hour].success_rate * 100)
                    if hour in by_hour
                    else Point(hour.strftime("%H:00"), None)
                    for hour in hours
                ],
                title="Success rate per hour",
            ),
            "latency_chart": line_chart(
                [
                    (
                        "p50",
                        "var(--accent)",
                        [Point(h.hour.strftime("%H:00"), h.p50_ms) for h in stats],
                    ),
                    (
                        "p95",
                        "var(--warn)",
                        [Point(h.hour.strftime("%H:00"), h.p95_ms) for h in stats],
                    ),
                ],
                title="Response time per hour",
            ),
            "stock_modes": list(StockMode),
            "rules": plugins.import_rules(plugin),
            "can_cancel": Capability.CANCEL_ORDERS in spec.capabilities,
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


@router.post("/plugins/{plugin_id}/settings")
async def plugin_settings(
    request: Request, plugin_id: int, _user: SessionUser = Depends(writer)
) -> Response:
    form = await request.form()
    hub = hub_of(request)

    def save() -> None:
        with hub.db.read() as session:
            spec = present.spec_of(hub, plugins.get_plugin(session, plugin_id))
        changes = _settings_from_form(form, _fields(spec.settings), for_update=True)
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
    context = _plugin_context(request, plugin_id)
    return fragment(
        request,
        "fragments/toggles.html",
        toggle_message=message,
        toggle_error=error,
        changed=changed,
        **context,
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
    hub = hub_of(request)
    with connector_calls():
        url = actions.begin_authorization(
            hub, plugin_id, actions.oauth_redirect_uri(hub.settings.base_url)
        )
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


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
    begin = _aware_date(start, "start")
    finish = _aware_date(end, "end")
    if len(end) <= 10:  # a date: the whole day counts
        finish += dt.timedelta(days=1)
    hub = hub_of(request)
    run = actions.start_backfill(hub, plugin_id, begin, min(finish, utcnow()))
    with hub.db.read() as session:
        found = session.get(Backfill, run.id)
        assert found is not None
        out = present.backfill_row_out(found)
    return fragment(request, "fragments/backfill.html", backfill=out, plugin_id=plugin_id)


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
    with hub_of(request).db.unit_of_work() as session:
        links.map_location(
            session,
            plugin_id,
            external_id,
            warehouse_id=int(warehouse_id) if warehouse_id.isdigit() else None,
            shipping_process=shipping_process,
            is_default=is_default == "on",
        )
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
        "cancel_on_platform": cancel_on_platform,
        "notify_customer": notify_customer,
        "poll_minutes": poll_minutes,
        "poll_overlap_minutes": poll_overlap_minutes,
    }
    with hub_of(request).db.unit_of_work() as session:
        plugins.update_import_rules(session, plugin_id, changes)
    return redirect(request, f"/plugins/{plugin_id}#rules", "Order rules saved.")


# ------------------------------------------------------------------------------- orders


@router.get("/orders")
def order_list(
    request: Request,
    channel_id: str = "",
    plugin_id: str = "",
    status: str = "",
    missing: str = "",
    q: str = Query("", max_length=128),
    after: int = Query(0, ge=0),
    after_at: dt.datetime | None = None,
    _user: SessionUser = Depends(reader),
) -> HTMLResponse:
    """Newest first; a page goes on from the last order of the one before."""
    hub = hub_of(request)
    position = None
    if after_at is not None:
        zoned = after_at if after_at.tzinfo else after_at.replace(tzinfo=dt.UTC)
        position = orders.Position(zoned, after)
    with hub.db.read() as session:
        rows = orders.list_orders(
            session,
            channel_id=int(channel_id) if channel_id.isdigit() else None,
            plugin_id=int(plugin_id) if plugin_id.isdigit() else None,
            status=OrderStatus(status) if status in OrderStatus.__members__.values() else None,
            missing_product=True if missing == "1" else None,
            search=q or None,
            after=position,
            limit=PAGE_SIZE + 1,
        )
        channel_rows = channels.list_channels(session)
        plugin_rows = plugins.list_plugins(session)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    query = {
        "channel_id": channel_id,
        "plugin_id": plugin_id,
        "status": status,
        "missing": missing,
        "q": q,
    }
    next_url = None
    if more and rows:
        last = rows[-1]
        following = {"after": last.id, "after_at": last.placed_at.isoformat()}
        next_url = f"/orders?{urlencode({**query, **following})}"
    return page(
        request,
        "orders.html",
        rows=rows,
        channels=channel_rows,
        plugins=plugin_rows,
        channel_names={c.id: c.name for c in channel_rows},
        filters=query,
        statuses=list(OrderStatus),
        next_url=next_url,
    )


WIZARD_LINES = 5


@router.get("/orders/new")
def order_new(request: Request, _user: SessionUser = Depends(writer)) -> HTMLResponse:
    return _order_form(request, {}, _wizard_rows(FormData()), {})


def _order_form(
    request: Request,
    values: dict[str, str],
    lines: list[dict[str, str]],
    errors: dict[str, str],
) -> HTMLResponse:
    """The order wizard, empty or as the user filled it in with what to fix (422)."""
    with hub_of(request).db.read() as session:
        context: dict[str, Any] = {
            "channels": channels.list_channels(session),
            "customers": customers.list_customers(session, limit=500),
            "products": catalog.list_products(session, limit=1000),
            "warehouses": inventory.list_warehouses(session),
        }
    return page(
        request,
        "order_new.html",
        status=422 if errors else 200,
        values=values,
        lines=lines,
        errors=errors,
        **context,
    )


def _address_from(form: FormData, prefix: str) -> Address | None:
    values = {name: str(form.get(f"{prefix}_{name}", "")).strip() for name in Address.model_fields}
    if not any(values.values()):
        return None
    return Address.model_validate(values)


@dataclass(frozen=True, slots=True)
class _WizardLine:
    position: int  # the row of the form, from 0
    sku: str
    quantity: int
    unit_price: Decimal | None  # blank: the product's price


def _wizard_rows(form: FormData) -> list[dict[str, str]]:
    """The lines step as filled in (at least ``WIZARD_LINES`` rows, blank ones too)."""
    rows = [
        {"sku": str(sku), "quantity": str(quantity), "price": str(price)}
        for sku, quantity, price in zip(
            form.getlist("line_sku"),
            form.getlist("line_quantity"),
            form.getlist("line_price"),
            strict=False,
        )
    ]
    blank = {"sku": "", "quantity": "1", "price": ""}
    return rows + [blank] * max(0, WIZARD_LINES - len(rows))


def _wizard_lines(rows: list[dict[str, str]], errors: dict[str, str]) -> list[_WizardLine]:
    """The rows with a SKU; each bad cell is noted in ``errors`` by its field name."""
    lines = []
    for position, row in enumerate(rows):
        sku = row["sku"].strip()
        if not sku:
            continue
        try:
            quantity = int(row["quantity"].strip() or "1")
        except ValueError:
            quantity = 0
        if quantity < 1:
            errors[f"line_quantity_{position}"] = "a whole number, at least 1"
        price: Decimal | None = None
        if row["price"].strip():
            try:
                price = Decimal(row["price"].strip())
            except InvalidOperation:
                price = None
            if price is None or not price.is_finite() or price < 0:
                errors[f"line_price_{position}"] = (
                    "a price such as 12.50, or blank for the product's price"
                )
                price = None
        lines.append(_WizardLine(position, sku, max(quantity, 0), price))
    if not lines:
        errors["line_sku_0"] = "an order needs at least one line"
    return lines


def _wizard_address(form: FormData, prefix: str, errors: dict[str, str]) -> Address | None:
    try:
        return _address_from(form, prefix)
    except ValidationError as exc:
        for error in exc.errors():
            errors.setdefault(f"{prefix}_{error['loc'][0]}", str(error["msg"]))
        return None


def _wizard_field(location: tuple[int | str, ...], lines: list[_WizardLine]) -> str:
    """The form field a validation error of the order (or its customer) names."""
    head = str(location[0]) if location else ""
    if head == "lines" and len(location) > 2 and isinstance(location[1], int):
        name = {"unit_price": "price"}.get(str(location[2]), str(location[2]))
        return f"line_{name}_{lines[location[1]].position}"
    return head if head in ("email", "currency") else "order"


@router.post("/orders/new")
async def order_create(request: Request, _user: SessionUser = Depends(writer)) -> Response:
    """The wizard's order. A blank unit price is the product's price; a SKU must be one of
    the catalog's; anything to fix re-shows the form as filled in, with the reason by the
    field (never a lost form)."""
    form = await request.form()
    hub = hub_of(request)
    values = {key: str(value) for key, value in form.items() if key != "csrf_token"}
    rows = _wizard_rows(form)
    errors: dict[str, str] = {}
    channel_raw = values.get("channel_id", "")
    if not channel_raw.isdigit():
        errors["channel_id"] = "choose the channel the order belongs to"
    lines = _wizard_lines(rows, errors)
    with hub.db.read() as session:
        found = catalog.match_products(session, [(line.sku, "") for line in lines])
    products = {
        line.position: product.id for line, product in zip(lines, found, strict=True) if product
    }
    for line in lines:
        if line.position not in products:
            errors[f"line_sku_{line.position}"] = (
                f"no product with SKU {line.sku!r}; pick one from the list"
            )
    customer_raw = values.get("customer_id", "")
    email = values.get("email", "").strip()
    data: OrderIn | None = None
    shipping = _wizard_address(form, "ship", errors)
    billing = (
        shipping if form.get("billing_same") == "on" else _wizard_address(form, "bill", errors)
    )
    try:
        customer = (
            CustomerIn(
                email=email,
                first_name=values.get("first_name", ""),
                last_name=values.get("last_name", ""),
                addresses=[shipping] if shipping else [],
            )
            if email and not customer_raw.isdigit()
            else None
        )
        if lines:
            data = OrderIn(
                lines=[
                    OrderLineIn(
                        product_id=products.get(line.position),
                        sku=line.sku,
                        quantity=line.quantity,
                        unit_price=line.unit_price,
                    )
                    for line in lines
                ],
                currency=values.get("currency", "") or "USD",
                customer_id=int(customer_raw) if customer_raw.isdigit() else None,
                customer=customer,
                email=email,
                shipping_address=shipping,
                billing_address=billing,
                note=values.get("note", ""),
            )
    except ValidationError as exc:
        for error in exc.errors():
            errors.setdefault(_wizard_field(error["loc"], lines), str(error["msg"]))
    if errors or data is None:
        return _order_form(request, values, rows, errors)
    order_in = data

    def create() -> tuple[int, str, list[str]]:
        with hub.db.unit_of_work() as session:
            order = orders.create_manual_order(session, int(channel_raw), order_in)
            exporters = [
                p.name
                for p in plugins.plugins_of_channel(session, order.channel_id)
                if Toggle.EXPORT_ORDERS in p.toggles
            ]
            return order.id, order.number, exporters

    try:
        order_id, number, exporters = await run_in_threadpool(create)
    except (NotFound, Invalid) as exc:  # e.g. the channel went away meanwhile
        return _order_form(request, values, rows, {"order": exc.message})
    message = f"Order {number} created."
    if exporters:
        message += f" Export Orders is on for {', '.join(exporters)}."
    return redirect(request, f"/orders/{order_id}", message)


@router.get("/orders/{order_id}")
def order_page(
    request: Request, order_id: int, _user: SessionUser = Depends(reader)
) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        order = orders.get_order(session, order_id)
        context: dict[str, Any] = {
            "order": order,
            "lines": list(order.lines),
            "timeline": orders.activities(session, order_id),
            "channel": channels.get_channel(session, order.channel_id),
            "plugin": plugins.get_plugin(session, order.plugin_id) if order.plugin_id else None,
            "customer": customers.get_customer(session, order.customer_id)
            if order.customer_id
            else None,
            "shipments": shipments.list_shipments(session, order_id=order_id),
            "returns": returns.list_returns(session, order_id=order_id),
        }
    return page(request, "order.html", **context)


@router.post("/orders/{order_id}/cancel")
def order_cancel(
    request: Request,
    order_id: int,
    reason: str = Form("", max_length=255),
    _user: SessionUser = Depends(writer),
) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        orders.cancel_order(session, order_id, reason)
    return redirect(request, f"/orders/{order_id}", "Order cancelled.")


@router.post("/orders/{order_id}/ship")
def order_ship(
    request: Request,
    order_id: int,
    carrier: str = Form("", max_length=128),
    tracking_number: str = Form("", max_length=128),
    _user: SessionUser = Depends(writer),
) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        shipment = shipments.create_shipment(
            session, order_id, ShipmentIn(carrier=carrier, tracking_number=tracking_number)
        )
    return redirect(request, f"/orders/{order_id}", f"Shipment #{shipment.id} created.")


@router.post("/orders/{order_id}/return")
def order_return(
    request: Request,
    order_id: int,
    line_id: int = Form(...),
    quantity: int = Form(..., gt=0),
    reason: str = Form("", max_length=255),
    _user: SessionUser = Depends(writer),
) -> Response:
    from tradewind.core.returns.schemas import ReturnIn, ReturnLineIn

    with hub_of(request).db.unit_of_work() as session:
        created = returns.request_return(
            session,
            order_id,
            ReturnIn(lines=[ReturnLineIn(order_line_id=line_id, quantity=quantity)], reason=reason),
        )
    return redirect(request, f"/orders/{order_id}", f"Return #{created.id} requested.")


# ---------------------------------------------------------------- customers, listings


@router.get("/customers")
def customer_list(
    request: Request,
    q: str = Query("", max_length=128),
    after: int = Query(0, ge=0),
    _user: SessionUser = Depends(reader),
) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        rows = customers.list_customers(
            session, search=q or None, after_id=after, limit=PAGE_SIZE + 1
        )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_url = f"/customers?{urlencode({'q': q, 'after': rows[-1].id})}" if more and rows else None
    return page(request, "customers.html", rows=rows, q=q, next_url=next_url)


@router.post("/customers")
def customer_create(
    request: Request,
    email: str = Form("", max_length=320),
    first_name: str = Form("", max_length=128),
    last_name: str = Form("", max_length=128),
    company: str = Form("", max_length=255),
    _user: SessionUser = Depends(writer),
) -> Response:
    try:
        data = CustomerIn(email=email, first_name=first_name, last_name=last_name, company=company)
    except ValidationError as exc:
        raise Invalid("; ".join(str(e["msg"]) for e in exc.errors())) from None
    with hub_of(request).db.unit_of_work() as session:
        customer = customers.create_customer(session, data)
    return redirect(request, f"/customers/{customer.id}", "Customer created.")


@router.get("/customers/{customer_id}")
def customer_page(
    request: Request, customer_id: int, _user: SessionUser = Depends(reader)
) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        customer = customers.get_customer(session, customer_id)
        addresses = list(customer.addresses)
        from tradewind.core.orders.models import Order

        customer_orders = list(
            session.scalars(
                select(Order)
                .where(Order.customer_id == customer_id)
                .order_by(Order.id.desc())
                .limit(50)
            )
        )
    return page(
        request, "customer.html", customer=customer, addresses=addresses, orders=customer_orders
    )


@router.get("/listings")
def listing_list(
    request: Request, channel_id: str = "", _user: SessionUser = Depends(reader)
) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        channel_rows = channels.list_channels(session)
        selected = (
            int(channel_id)
            if channel_id.isdigit()
            else (channel_rows[0].id if channel_rows else None)
        )
        rows = links.list_listings(session, channel_id=selected, limit=500) if selected else []
        products = {p.id: p for p in catalog.list_products(session, limit=1000)}
    return page(
        request,
        "listings.html",
        rows=rows,
        channels=channel_rows,
        selected=selected,
        products=products,
    )


@router.post("/listings")
def listing_save(
    request: Request,
    channel_id: int = Form(...),
    product: str = Form(..., max_length=128),
    title: str = Form("", max_length=255),
    price: str = Form("", max_length=32),
    published: str = Form(""),
    _user: SessionUser = Depends(writer),
) -> Response:
    try:
        amount = Decimal(price) if price.strip() else None
    except InvalidOperation:
        raise Invalid("price must be a number", fields={"price": "invalid"}) from None
    with hub_of(request).db.unit_of_work() as session:
        core = catalog.product_by_ref(session, product)
        links.upsert_listing(
            session,
            channel_id,
            core.id,
            title=title or None,
            price=amount,
            published=published == "on",
        )
    return redirect(request, f"/listings?channel_id={channel_id}", "Listing saved.")


# ---------------------------------------------------------------- products and stock


@router.get("/products")
def product_list(
    request: Request,
    q: str = Query("", max_length=128),
    after: int = Query(0, ge=0),
    _user: SessionUser = Depends(reader),
) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        rows = catalog.list_products(session, search=q or None, after_id=after, limit=PAGE_SIZE + 1)
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        levels = inventory.levels(session, product_ids=[p.id for p in rows])
        warehouses = inventory.list_warehouses(session)
    stock: dict[int, dict[int, Any]] = {}
    for level in levels:
        stock.setdefault(level.product_id, {})[level.warehouse_id] = level
    next_url = f"/products?{urlencode({'q': q, 'after': rows[-1].id})}" if more and rows else None
    return page(
        request,
        "products.html",
        rows=rows,
        stock=stock,
        warehouses=warehouses,
        q=q,
        next_url=next_url,
    )


@router.post("/products")
def product_create(
    request: Request,
    sku: str = Form(..., max_length=128),
    title: str = Form(..., max_length=255),
    barcode: str = Form("", max_length=64),
    price: str = Form("0", max_length=32),
    _user: SessionUser = Depends(writer),
) -> Response:
    try:
        data = ProductIn(sku=sku, title=title, barcode=barcode or None, price=Decimal(price or "0"))
    except (ValidationError, InvalidOperation) as exc:
        raise Invalid(f"the product is not valid: {exc}") from None
    with hub_of(request).db.unit_of_work() as session:
        product = catalog.create_product(session, data)
    return redirect(request, f"/products/{product.id}", f"Product {product.sku} created.")


@router.post("/products/import")
async def product_import(request: Request, _user: SessionUser = Depends(writer)) -> Response:
    import io

    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise Invalid("choose a CSV file")
    raw = await upload.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the CSV file is not UTF-8") from None
    hub = hub_of(request)

    def run() -> Any:
        with hub.db.unit_of_work() as session:
            return catalog.import_csv(session, io.StringIO(text, newline=""))

    report = await run_in_threadpool(run)
    summary = (
        f"Imported: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged"
    )
    if report.errors:
        details = "; ".join(f"line {e.line}: {e.message}" for e in report.errors[:10])
        return redirect(
            request,
            "/products",
            f"{summary}; {len(report.errors)} row(s) refused — {details}",
            error=True,
        )
    return redirect(request, "/products", summary + ".")


@router.get("/products/{product_id}")
def product_page(
    request: Request, product_id: int, _user: SessionUser = Depends(reader)
) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        product = catalog.get_product(session, product_id)
        warehouses = inventory.list_warehouses(session)
        levels = {
            lvl.warehouse_id: lvl for lvl in inventory.levels(session, product_ids=[product_id])
        }
        moves = inventory.movements(session, product_id=product_id, limit=100)
    return page(
        request, "product.html", product=product, warehouses=warehouses, levels=levels, moves=moves
    )


@router.post("/products/{product_id}/movements")
def product_move(
    request: Request,
    product_id: int,
    kind: str = Form(...),
    warehouse_id: int = Form(...),
    quantity: int = Form(..., ge=-1_000_000_000, le=1_000_000_000),
    to_warehouse_id: str = Form(""),
    reason: str = Form("", max_length=255),
    _user: SessionUser = Depends(writer),
) -> Response:
    try:
        body = MovementIn(
            kind=kind,
            product_id=product_id,
            warehouse_id=warehouse_id,
            quantity=quantity,
            to_warehouse_id=int(to_warehouse_id) if to_warehouse_id.isdigit() else None,
            reason=reason,
        )
    except ValidationError:
        raise Invalid(f"choose one of: {', '.join(Move)}") from None
    with hub_of(request).db.unit_of_work() as session:
        moved = inventory.record_movement(session, body)
    return redirect(
        request,
        f"/products/{product_id}",
        f"{kind.capitalize()} recorded ({len(moved)} movement(s)).",
    )


@router.get("/warehouses")
def warehouse_list(request: Request, _user: SessionUser = Depends(reader)) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        rows = inventory.list_warehouses(session)
    return page(request, "warehouses.html", rows=rows)


@router.post("/warehouses")
def warehouse_create(
    request: Request,
    code: str = Form(..., max_length=64),
    name: str = Form("", max_length=255),
    _user: SessionUser = Depends(writer),
) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        warehouse = inventory.create_warehouse(session, code, name or None)
    return redirect(request, "/warehouses", f"Warehouse {warehouse.code} created.")


# ----------------------------------------------------------------- shipments, returns


@router.get("/shipments")
def shipment_list(
    request: Request, after: int = Query(0, ge=0), _user: SessionUser = Depends(reader)
) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        rows = shipments.list_shipments(session, after_id=after, limit=PAGE_SIZE + 1)
        numbers = present.order_numbers(session, {row.order_id for row in rows})
        units = {row.id: sum(line.quantity for line in row.lines) for row in rows}
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_url = f"/shipments?after={rows[-1].id}" if more and rows else None
    return page(
        request, "shipments.html", rows=rows, numbers=numbers, units=units, next_url=next_url
    )


@router.get("/returns")
def return_list(
    request: Request, after: int = Query(0, ge=0), _user: SessionUser = Depends(reader)
) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        rows = returns.list_returns(session, after_id=after, limit=PAGE_SIZE + 1)
        numbers = present.order_numbers(session, {row.order_id for row in rows})
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_url = f"/returns?after={rows[-1].id}" if more and rows else None
    return page(request, "returns.html", rows=rows, numbers=numbers, next_url=next_url)


@router.post("/returns/{return_id}/advance")
def return_advance(
    request: Request,
    return_id: int,
    to: ReturnStatus = Form(...),
    _user: SessionUser = Depends(writer),
) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        returns.advance_return(session, return_id, to)
    return redirect(request, "/returns", f"Return #{return_id} is {to.value}.")


# ------------------------------------------------------------------------ notifications


@router.get("/notifications")
def notification_list(request: Request, _user: SessionUser = Depends(reader)) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        rows = notifications.open_notifications(session)
        plugin_names = {p.id: p.name for p in plugins.list_plugins(session)}
        products = catalog.list_products(session, limit=1000)
    groups: dict[NotificationKind, list[Any]] = {}
    for row in rows:
        groups.setdefault(row.kind, []).append(row)
    return page(
        request,
        "notifications.html",
        groups=[(KINDS[kind].title, kind, items) for kind, items in groups.items()],
        plugin_names=plugin_names,
        products=products,
    )


@router.post("/notifications/read")
def notification_read(request: Request, _user: SessionUser = Depends(reader)) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        notifications.mark_read(session)
    return redirect(request, "/notifications", "Marked as read.")


@router.post("/notifications/map-product")
def notification_map(
    request: Request,
    sku: str = Form(..., max_length=128),
    product: str = Form("", max_length=128),
    title: str = Form("", max_length=255),
    plugin_id: str = Form(""),
    _user: SessionUser = Depends(writer),
) -> Response:
    """The *missing product* fix: map the SKU to an existing product, or create it."""
    with hub_of(request).db.unit_of_work() as session:
        if product.strip():
            core = catalog.product_by_ref(session, product)
            changed = orders.assign_product(
                session, sku, core.id, plugin_id=int(plugin_id) if plugin_id.isdigit() else None
            )
            message = f"SKU {sku} mapped to {core.sku}; {len(changed)} order(s) re-processed."
        else:
            core = catalog.create_product(session, ProductIn(sku=sku, title=title or sku))
            message = f"Product {core.sku} created; waiting orders were re-processed."
    return redirect(request, "/notifications", message)


@router.get("/account")
def account(request: Request, user: SessionUser = Depends(reader)) -> HTMLResponse:
    return page(
        request,
        "message.html",
        title="Account",
        message=f"Signed in as {user.username} ({user.role.value.replace('_', '-')}).",
    )
