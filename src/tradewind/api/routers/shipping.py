"""Shipping and tax: packages with their parcels, rates from the channel's carrier, a
label bought once and voided once, tracking, an order's tax, and which plugin of a
channel does each service capability. Calls to a service answer 502 when the service
fails, 429 when it still limits the plugin's calls after a short wait."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tradewind.api.problems import responses
from tradewind.api.routers import resource_router
from tradewind.api.security import hub_of
from tradewind.app import shipping as actions
from tradewind.core.channels import service as channels
from tradewind.core.fulfilment import service as fulfilment
from tradewind.core.orders import service as orders
from tradewind.core.shipments import service as shipments
from tradewind.core.shipping import routes
from tradewind.core.shipping import service as shipping
from tradewind.core.shipping import tax as taxes
from tradewind.core.shipping.models import Package, ShippingProcess
from tradewind.core.shipping.schemas import ParcelIn, ShippingProcessIn
from tradewind.errors import NotFound
from tradewind.vocabulary import ServiceCapability, TrackingStatus

router = resource_router("shipping")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ParcelOut(Out):
    length: Decimal | None
    width: Decimal | None
    height: Decimal | None
    distance_unit: str
    weight: Decimal
    mass_unit: str


class QuoteOut(Out):
    id: int
    plugin_id: int
    carrier: str
    service: str
    amount: Decimal
    currency: str
    estimated_days: int | None
    expires_at: dt.datetime
    cheapest: bool = False
    fastest: bool = False
    route_choice: bool = False  # the one the order's shipping process would buy


class LabelOut(Out):
    id: int
    package_id: int
    plugin_id: int
    carrier: str
    service: str
    tracking_number: str
    cost: Decimal
    currency: str
    label_url: str
    label_format: str
    bought_at: dt.datetime


class PackageOut(Out):
    id: int
    order_id: int
    warehouse_id: int | None
    state: str
    shipment_id: int | None
    parcels: list[ParcelOut]
    quotes: list[QuoteOut]
    label: LabelOut | None = None
    shipping_process: str | None = None  # the order's route, by name


class ShippingProcessOut(Out):
    id: int
    name: str
    plugin_id: int | None
    service: str
    packaging: ParcelOut | None


class PackageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parcels: list[ParcelIn] = Field(
        default_factory=list,
        max_length=50,
        description="None: the packaging of the order's shipping process.",
    )
    warehouse_id: int | None = None


class LabelWanted(BaseModel):
    quote_id: int | None = Field(
        default=None, description="None: the quote the order's shipping process chooses."
    )


class TrackingEventOut(Out):
    status: TrackingStatus
    raw_status: str
    message: str
    location: str
    occurred_at: dt.datetime


class TrackingOut(BaseModel):
    shipment_id: int
    status: TrackingStatus
    events: list[TrackingEventOut]


class TaxOut(BaseModel):
    order_id: int
    amount: Decimal
    shipping_tax: Decimal
    rate: Decimal
    committed: bool
    refunded: Decimal  # the tax refunded on the sale for returned units
    lines: dict[int, Decimal]


class ReportedShipmentOut(BaseModel):
    external_id: str
    shipment_id: int | None  # none: voided before Tradewind read it
    cost: Decimal | None
    currency: str
    recorded_at: dt.datetime
    voided_at: dt.datetime | None
    note: str


class FulfilmentOut(BaseModel):
    """The order as a fulfilment tool holds it."""

    plugin_id: int
    reference: str  # the key it was sent under
    external_id: str  # the tool's id of it
    status: str  # as last sent
    pushed_at: dt.datetime
    checked_at: dt.datetime | None  # when the poll last asked the tool
    shipments: list[ReportedShipmentOut]


class ServicesIn(BaseModel):
    """Capability → plugin id (null: none)."""

    model_config = ConfigDict(extra="forbid")

    services: dict[ServiceCapability, int | None]


def _package_out(session: Session, package: Package) -> PackageOut:
    cheapest, fastest = shipping.cheapest(package.quotes), shipping.fastest(package.quotes)
    route = routes.route_of(session, orders.get_order(session, package.order_id))
    chosen = routes.choice(package.quotes, route)
    quotes = [
        QuoteOut.model_validate(quote).model_copy(
            update={
                "cheapest": quote is cheapest,
                "fastest": quote is fastest,
                "route_choice": quote is chosen,
            }
        )
        for quote in package.quotes
    ]
    label = shipping.label_of(session, package.id)
    return PackageOut(
        id=package.id,
        order_id=package.order_id,
        warehouse_id=package.warehouse_id,
        state=package.state.value,
        shipment_id=package.shipment_id,
        parcels=[ParcelOut.model_validate(parcel) for parcel in package.parcels],
        quotes=quotes,
        label=LabelOut.model_validate(label) if label else None,
        shipping_process=route.name if route is not None else None,
    )


@router.post(
    "/orders/{order_id}/packages",
    status_code=status.HTTP_201_CREATED,
    response_model=PackageOut,
    responses=responses(404),
)
def prepare_package(request: Request, order_id: int, body: PackageIn) -> PackageOut:
    """A package to rate and ship: refused with what is missing (a parcel's weight, an
    address) when a carrier could not rate it."""
    with hub_of(request).db.unit_of_work() as session:
        package = shipping.prepare_package(session, order_id, body.parcels, body.warehouse_id)
        return _package_out(session, package)


@router.get("/packages/{package_id}", response_model=PackageOut, responses=responses(404))
def get_package(request: Request, package_id: int) -> PackageOut:
    with hub_of(request).db.read() as session:
        return _package_out(session, shipping.get_package(session, package_id))


@router.post(
    "/packages/{package_id}/rates",
    response_model=PackageOut,
    responses=responses(404, 429, 502),
)
async def get_rates(request: Request, package_id: int) -> PackageOut:
    """Ask the channel's rating plugin; the package's quotes, cheapest and fastest marked."""
    hub = hub_of(request)
    await run_in_threadpool(actions.get_rates, hub, package_id)
    with hub.db.read() as session:
        return _package_out(session, shipping.get_package(session, package_id))


@router.post(
    "/packages/{package_id}/label",
    status_code=status.HTTP_201_CREATED,
    response_model=LabelOut,
    responses=responses(404, 409, 429, 502),
)
async def buy_label(request: Request, package_id: int, body: LabelWanted) -> LabelOut:
    """Buy the label of a quote (without one: the quote the order's shipping process
    chooses): once (409 for a second purchase of the package)."""
    hub = hub_of(request)
    if body.quote_id is None:
        label = await run_in_threadpool(actions.buy_route_choice, hub, package_id)
    else:
        label = await run_in_threadpool(actions.buy_label, hub, package_id, body.quote_id)
    return LabelOut.model_validate(label)


@router.post(
    "/packages/{package_id}/void",
    response_model=PackageOut,
    responses=responses(404, 409, 429, 502),
)
async def void_label(request: Request, package_id: int) -> PackageOut:
    """Void the package's label with the carrier that sold it (its postage refunded); the
    package can then be rated and bought again. 409 when it is voided already."""
    hub = hub_of(request)
    await run_in_threadpool(actions.void_label, hub, package_id)
    with hub.db.read() as session:
        return _package_out(session, shipping.get_package(session, package_id))


@router.post("/packages/{package_id}/release", response_model=PackageOut, responses=responses(404))
def release(request: Request, package_id: int) -> PackageOut:
    """After a purchase ended without an answer, and the carrier shows no label: the
    package may be bought again."""
    with hub_of(request).db.unit_of_work() as session:
        shipping.release_purchase(session, package_id)
        return _package_out(session, shipping.get_package(session, package_id))


@router.post(
    "/shipments/{shipment_id}/track",
    response_model=TrackingOut,
    responses=responses(404, 429, 502),
)
async def track(request: Request, shipment_id: int) -> TrackingOut:
    hub = hub_of(request)
    await run_in_threadpool(actions.track, hub, shipment_id)
    return _tracking(request, shipment_id)


@router.get(
    "/shipments/{shipment_id}/tracking", response_model=TrackingOut, responses=responses(404)
)
def tracking(request: Request, shipment_id: int) -> TrackingOut:
    return _tracking(request, shipment_id)


def _tracking(request: Request, shipment_id: int) -> TrackingOut:
    with hub_of(request).db.read() as session:
        shipment = shipments.get_shipment(session, shipment_id)
        return TrackingOut(
            shipment_id=shipment.id,
            status=shipment.tracking_status,
            events=[
                TrackingEventOut.model_validate(event)
                for event in shipping.tracking_events(session, shipment_id)
            ],
        )


@router.post("/orders/{order_id}/tax", response_model=TaxOut, responses=responses(404, 429, 502))
async def calculate_tax(request: Request, order_id: int) -> TaxOut:
    """Tax from the channel's tax plugin, written on the order and its lines."""
    hub = hub_of(request)
    await run_in_threadpool(actions.calculate_tax, hub, order_id)
    return _tax(request, order_id)


@router.get("/orders/{order_id}/tax", response_model=TaxOut, responses=responses(404))
def get_tax(request: Request, order_id: int) -> TaxOut:
    return _tax(request, order_id)


def _tax(request: Request, order_id: int) -> TaxOut:
    with hub_of(request).db.read() as session:
        order = orders.get_order(session, order_id)
        tax = taxes.tax_of(session, order.id)
        if tax is None:
            raise NotFound(f"order {order.number} has no computed tax")
        return TaxOut(
            order_id=order.id,
            amount=tax.amount,
            shipping_tax=tax.shipping_tax,
            rate=tax.rate,
            committed=tax.committed_at is not None,
            refunded=tax.refunded,
            lines={line.id: line.tax_amount for line in order.lines},
        )


@router.get(
    "/orders/{order_id}/fulfilment", response_model=list[FulfilmentOut], responses=responses(404)
)
def get_fulfilment(request: Request, order_id: int) -> list[FulfilmentOut]:
    """Where the order was handed for fulfilment (ShipStation-style tools) and what each
    tool reported shipping for it."""
    with hub_of(request).db.read() as session:
        orders.get_order(session, order_id)
        return [
            FulfilmentOut(
                plugin_id=handed.plugin_id,
                reference=handed.reference,
                external_id=handed.external_id,
                status=handed.status,
                pushed_at=handed.pushed_at,
                checked_at=handed.checked_at,
                shipments=[
                    ReportedShipmentOut(
                        external_id=r.external_id,
                        shipment_id=r.shipment_id,
                        cost=r.cost,
                        currency=r.currency,
                        recorded_at=r.recorded_at,
                        voided_at=r.voided_at,
                        note=r.note,
                    )
                    for r in reported
                ],
            )
            for handed, reported in fulfilment.of_order(session, order_id)
        ]


@router.get("/channels/{channel_id}/services", response_model=ServicesIn)
def get_services(request: Request, channel_id: int) -> ServicesIn:
    with hub_of(request).db.read() as session:
        chosen = shipping.services(session, channel_id)
        return ServicesIn(services={c: chosen.get(c) for c in ServiceCapability})


@router.put("/channels/{channel_id}/services", response_model=ServicesIn, responses=responses(404))
def set_services(request: Request, channel_id: int, body: ServicesIn) -> ServicesIn:
    """Which plugin (on the channel) does each capability; null clears one."""
    with hub_of(request).db.unit_of_work() as session:
        channels.get_channel(session, channel_id)
        for capability, plugin_id in body.services.items():
            shipping.set_service(session, channel_id, capability, plugin_id)
        chosen = shipping.services(session, channel_id)
        return ServicesIn(services={c: chosen.get(c) for c in ServiceCapability})


def _process_out(process: ShippingProcess) -> ShippingProcessOut:
    return ShippingProcessOut(
        id=process.id,
        name=process.name,
        plugin_id=process.plugin_id,
        service=process.service,
        packaging=ParcelOut.model_validate(ParcelIn.model_validate(process.packaging))
        if process.packaging
        else None,
    )


@router.get("/shipping-processes", response_model=list[ShippingProcessOut])
def list_processes(request: Request) -> list[ShippingProcessOut]:
    """The named fulfilment routes platform locations are mapped to."""
    with hub_of(request).db.read() as session:
        return [_process_out(p) for p in routes.list_processes(session)]


@router.post(
    "/shipping-processes",
    status_code=status.HTTP_201_CREATED,
    response_model=ShippingProcessOut,
    responses=responses(409),
)
def add_process(request: Request, body: ShippingProcessIn) -> ShippingProcessOut:
    """A route: its carrier plugin, the service to buy and the packaging to start from."""
    with hub_of(request).db.unit_of_work() as session:
        return _process_out(routes.add_process(session, body))


@router.put(
    "/shipping-processes/{process_id}",
    response_model=ShippingProcessOut,
    responses=responses(404, 409),
)
def update_process(
    request: Request, process_id: int, body: ShippingProcessIn
) -> ShippingProcessOut:
    """Change a route (locations mapped to it follow a new name)."""
    with hub_of(request).db.unit_of_work() as session:
        return _process_out(routes.update_process(session, process_id, body))


@router.delete(
    "/shipping-processes/{process_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=responses(404),
)
def delete_process(request: Request, process_id: int) -> Response:
    """Remove a route; the locations mapped to it ship as their channel's services say."""
    with hub_of(request).db.unit_of_work() as session:
        routes.delete_process(session, process_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/orders/{order_id}/shipping-process",
    response_model=ShippingProcessOut | None,
    responses=responses(404),
)
def order_process(request: Request, order_id: int) -> ShippingProcessOut | None:
    """The route the order takes (from its platform location's mapping), or null."""
    with hub_of(request).db.read() as session:
        route = routes.route_of(session, orders.get_order(session, order_id))
        return _process_out(route) if route is not None else None
