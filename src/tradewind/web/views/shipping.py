"""Shipping and tax in the UI: on an order, its packages (prepare one, its rates with the
cheapest and fastest marked, buy a label once, download it, void it, follow its
tracking) and its tax; on the channels page, which plugin does each service capability."""

from __future__ import annotations

import base64
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.concurrency import run_in_threadpool

from tradewind.app import shipping as actions
from tradewind.auth.service import SessionUser
from tradewind.core.fulfilment import service as fulfilment
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin
from tradewind.core.shipments.models import Shipment
from tradewind.core.shipping import routes
from tradewind.core.shipping import service as shipping
from tradewind.core.shipping import tax as taxes
from tradewind.core.shipping.models import Label, Package, ShippingProcess
from tradewind.core.shipping.schemas import ParcelIn, ShippingProcessIn
from tradewind.db import utcnow
from tradewind.errors import Invalid, NotFound, TradewindError
from tradewind.vocabulary import ServiceCapability
from tradewind.web.app import fragment, redirect
from tradewind.web.session import hub_of, reader, writer
from tradewind.web.views.common import said_of

router = APIRouter(include_in_schema=False)

PROCESSES = "/shipments#processes"
LABEL_TYPES = {"PDF": "application/pdf", "PNG": "image/png", "ZPL": "application/zpl"}


def order_shipping(session: Session, order: Order) -> dict[str, Any]:
    """What the order page shows of shipping and tax."""
    packages = session.scalars(
        select(Package)
        .where(Package.order_id == order.id)
        .order_by(Package.id)
        .options(selectinload(Package.parcels), selectinload(Package.quotes))
    ).all()
    route = routes.route_of(session, order)
    shown = [_item(session, package, route) for package in packages]
    names = {p.id: p.name for p in plugins.plugins_of_channel(session, order.channel_id)}
    can = _can(session, order.channel_id)
    if route is not None and route.plugin_id is not None:
        can["can_rate"] = True  # the route's own carrier rates it
    return {
        "route": route,
        "route_plugin": _plugin_name(session, route.plugin_id) if route else None,
        "fulfilment": [
            {
                "tool": names.get(handed.plugin_id, f"plugin {handed.plugin_id}"),
                "handed": handed,
                "reported": reported,
            }
            for handed, reported in fulfilment.of_order(session, order.id)
        ],
        "packages": shown,
        "tax": taxes.tax_of(session, order.id),
        **can,
    }


def _plugin_name(session: Session, plugin_id: int | None) -> str | None:
    if plugin_id is None:
        return None
    found = session.get(Plugin, plugin_id)
    return found.name if found is not None else f"plugin {plugin_id}"


def _item(session: Session, package: Package, route: ShippingProcess | None) -> dict[str, Any]:
    """What a package's card shows (``route``: its order's shipping process)."""
    chosen = routes.choice(package.quotes, route)
    label = shipping.label_of(session, package.id)
    shipment = session.get(Shipment, package.shipment_id) if package.shipment_id else None
    return {
        "package": package,
        "cheapest": shipping.cheapest(package.quotes),
        "fastest": shipping.fastest(package.quotes),
        "choice": chosen,
        "label": label,
        "shipment": shipment,
        "events": shipping.tracking_events(session, shipment.id) if shipment else [],
        "rating": actions.rating(session, package.id),
        "expired": {quote.id for quote in package.quotes if quote.expires_at <= utcnow()},
    }


def _can(session: Session, channel_id: int) -> dict[str, bool]:
    services = shipping.services(session, channel_id)
    return {
        "can_rate": ServiceCapability.GET_RATES in services,
        "can_tax": ServiceCapability.CALCULATE_TAX in services,
        "can_track": ServiceCapability.TRACK in services,
    }


def channel_services(session: Session, channel_id: int) -> dict[str, Any]:
    """The channels page's service choice of one channel."""
    return {
        "chosen": shipping.services(session, channel_id),
        "plugins": plugins.plugins_of_channel(session, channel_id),
    }


def _back(order_id: int) -> str:
    return f"/orders/{order_id}#shipping"


@router.post("/orders/{order_id}/packages")
def prepare(
    request: Request,
    order_id: int,
    weight: str = Form("", max_length=20),
    mass_unit: str = Form("g", max_length=2),
    length: str = Form("", max_length=20),
    width: str = Form("", max_length=20),
    height: str = Form("", max_length=20),
    _user: SessionUser = Depends(writer),
) -> Response:
    try:
        parcel = ParcelIn.model_validate(
            {
                "weight": _number(weight),
                "mass_unit": mass_unit,
                "length": _number(length),
                "width": _number(width),
                "height": _number(height),
            }
        )
        with hub_of(request).db.unit_of_work() as session:
            # No weight typed: the packaging of the order's shipping process, if it has one.
            route = routes.route_of(session, orders.get_order(session, order_id))
            packaged = not weight.strip() and route is not None and bool(route.packaging)
            parcels = [] if packaged else [parcel]
            package_id = shipping.prepare_package(session, order_id, parcels).id
    except (TradewindError, ValueError) as exc:
        return redirect(request, _back(order_id), said_of(exc), error=True)
    # The engine rates it now (the card shows them as they come): the next thing a
    # person does is choose one.
    with hub_of(request).db.read() as session:
        coming = actions.rating(session, package_id).coming
    said = "rates are coming" if coming else "Get rates to choose one"
    return redirect(request, _back(order_id), f"Package #{package_id} ready: {said}.")


def _number(text: str) -> Decimal | None:
    if not text.strip():
        return None
    try:
        return Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise Invalid(f"{text!r} is not a number") from None


@router.post("/packages/{package_id}/rates")
async def rates(
    request: Request, package_id: int, _user: SessionUser = Depends(writer)
) -> Response:
    hub = hub_of(request)
    order_id = _order_of(request, package_id)
    try:
        quotes = await run_in_threadpool(actions.get_rates, hub, package_id)
    except TradewindError as exc:
        return redirect(request, _back(order_id), f"Rates: {exc.message}", error=True)
    return redirect(request, _back(order_id), f"{len(quotes)} rate(s) received.")


@router.post("/packages/{package_id}/label")
async def buy(
    request: Request,
    package_id: int,
    quote_id: str = Form("", max_length=20),
    _user: SessionUser = Depends(writer),
) -> Response:
    """Buy a quote's label (none given: the one the order's shipping process chooses)."""
    hub = hub_of(request)
    order_id = _order_of(request, package_id)
    try:
        if quote_id.strip().isdigit():
            label = await run_in_threadpool(actions.buy_label, hub, package_id, int(quote_id))
        else:
            label = await run_in_threadpool(actions.buy_route_choice, hub, package_id)
    except TradewindError as exc:
        return redirect(request, _back(order_id), f"Label: {exc.message}", error=True)
    return redirect(
        request,
        _back(order_id),
        f"Label bought: {label.carrier} {label.tracking_number} ({label.cost} {label.currency}).",
    )


@router.post("/packages/{package_id}/release")
def release(request: Request, package_id: int, _user: SessionUser = Depends(writer)) -> Response:
    """After a purchase ended without an answer and the carrier's account shows no label:
    the package may be bought again."""
    order_id = _order_of(request, package_id)
    with hub_of(request).db.unit_of_work() as session:
        shipping.release_purchase(session, package_id)
    return redirect(request, _back(order_id), f"Package #{package_id} can be bought again.")


@router.get("/packages/{package_id}/card")
def card(request: Request, package_id: int, _user: SessionUser = Depends(reader)) -> Response:
    """The package's card alone: what it shows while its rates are coming."""
    with hub_of(request).db.read() as session:
        return _card(request, session, shipping.get_package(session, package_id))


def _card(request: Request, session: Session, package: Package, **said: Any) -> Response:
    order = orders.get_order(session, package.order_id)
    route = routes.route_of(session, order)
    can = _can(session, order.channel_id)
    if route is not None and route.plugin_id is not None:
        can["can_rate"] = True
    return fragment(
        request,
        "fragments/package.html",
        item=_item(session, package, route),
        **can,
        **said,
    )


@router.post("/packages/{package_id}/void")
async def void(request: Request, package_id: int, _user: SessionUser = Depends(writer)) -> Response:
    """Void the package's label; the answer is the package's card again, saying how it
    went (a redirect with the message, without htmx)."""
    hub = hub_of(request)
    order_id = _order_of(request, package_id)
    try:
        label = await run_in_threadpool(actions.void_label, hub, package_id)
    except TradewindError as exc:
        said, failed = f"Void: {exc.message}", True
    else:
        said, failed = (
            f"Label {label.carrier} {label.tracking_number} voided: its postage is refunded "
            "by the carrier and the package can be bought again.",
            False,
        )
    if not request.headers.get("hx-request"):
        return redirect(request, _back(order_id), said, error=failed)
    with hub.db.read() as session:
        package = shipping.get_package(session, package_id)
        return _card(request, session, package, said=said, said_error=failed)


@router.post("/shipments/{shipment_id}/track")
async def track(
    request: Request, shipment_id: int, _user: SessionUser = Depends(writer)
) -> Response:
    hub = hub_of(request)
    with hub.db.read() as session:
        shipment = session.get(Shipment, shipment_id)
        if shipment is None:
            raise NotFound(f"no shipment {shipment_id}")
        order_id = shipment.order_id
    try:
        moved = await run_in_threadpool(actions.track, hub, shipment_id)
    except TradewindError as exc:
        return redirect(request, _back(order_id), f"Tracking: {exc.message}", error=True)
    return redirect(
        request, _back(order_id), "Tracking updated." if moved else "No news from the carrier."
    )


@router.post("/orders/{order_id}/tax")
async def tax(request: Request, order_id: int, _user: SessionUser = Depends(writer)) -> Response:
    try:
        computed = await run_in_threadpool(actions.calculate_tax, hub_of(request), order_id)
    except TradewindError as exc:
        return redirect(request, f"/orders/{order_id}", f"Tax: {exc.message}", error=True)
    return redirect(request, f"/orders/{order_id}", f"Tax computed: {computed.amount}.")


@router.get("/labels/{label_id}/file")
def label_file(request: Request, label_id: int, _user: SessionUser = Depends(reader)) -> Response:
    """The label to print: the file the service sent, or its address at the service."""
    with hub_of(request).db.read() as session:
        label = session.get(Label, label_id)
        if label is None:
            raise NotFound(f"no label {label_id}")
        if label.label_data:
            return Response(
                base64.b64decode(label.label_data),
                media_type=LABEL_TYPES.get(label.label_format.upper(), "application/octet-stream"),
                headers={
                    "Content-Disposition": f'attachment; filename="label-{label.id}.'
                    f'{label.label_format.lower()}"'
                },
            )
        if not label.label_url.startswith("https://") and not label.label_url.startswith("http://"):
            raise NotFound(f"label {label_id} has no file")
        return RedirectResponse(label.label_url, status_code=303)


@router.post("/channels/{channel_id}/services")
async def services(
    request: Request, channel_id: int, _user: SessionUser = Depends(writer)
) -> Response:
    form = await request.form()
    try:
        with hub_of(request).db.unit_of_work() as session:
            for capability in ServiceCapability:
                value = str(form.get(capability.value, ""))
                shipping.set_service(
                    session, channel_id, capability, int(value) if value.isdigit() else None
                )
    except TradewindError as exc:
        return redirect(request, "/channels", exc.message, error=True)
    return redirect(request, "/channels", "Services saved.")


def _order_of(request: Request, package_id: int) -> int:
    with hub_of(request).db.read() as session:
        return shipping.get_package(session, package_id).order_id


@router.post("/shipping-processes")
def add_process(
    request: Request,
    name: str = Form(..., max_length=128),
    plugin_id: str = Form("", max_length=20),
    service: str = Form("", max_length=128),
    weight: str = Form("", max_length=20),
    mass_unit: str = Form("g", max_length=2),
    length: str = Form("", max_length=20),
    width: str = Form("", max_length=20),
    height: str = Form("", max_length=20),
    _user: SessionUser = Depends(writer),
) -> Response:
    """A named fulfilment route, for platform locations to be mapped to."""
    try:
        packaging = None
        if weight.strip():
            packaging = ParcelIn.model_validate(
                {
                    "weight": _number(weight),
                    "mass_unit": mass_unit,
                    "length": _number(length),
                    "width": _number(width),
                    "height": _number(height),
                }
            )
        data = ShippingProcessIn(
            name=name,
            plugin_id=int(plugin_id) if plugin_id.strip().isdigit() else None,
            service=service,
            packaging=packaging,
        )
        with hub_of(request).db.unit_of_work() as session:
            routes.add_process(session, data)
    except (TradewindError, ValueError) as exc:
        return redirect(request, PROCESSES, f"Shipping process: {said_of(exc)}", error=True)
    return redirect(
        request, PROCESSES, f"Shipping process {name.strip()!r} added: map locations to it."
    )


@router.post("/shipping-processes/{process_id}/delete")
def delete_process(
    request: Request, process_id: int, _user: SessionUser = Depends(writer)
) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        name = routes.get_process(session, process_id).name
        moved = routes.delete_process(session, process_id)
    return redirect(
        request,
        PROCESSES,
        f"Shipping process {name!r} removed; {moved} location(s) mapped to it now have none.",
    )


def shipping_processes(session: Session) -> dict[str, Any]:
    """The Shipments page's routes card: the routes and the plugins that may carry them."""
    return {
        "processes": routes.list_processes(session),
        "carriers": {p.id: p.name for p in plugins.list_plugins(session)},
    }
