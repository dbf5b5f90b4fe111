"""The rules of shipping, with no network: a package is prepared only when it can be rated
(an address to ship from and to, a weight for every parcel); a quote is bought only while
it is valid and only once per package; a bought label makes the shipment (which moves the
stock and sends its tracking to the storefront as a typed-in one does); tracking events
are kept once each and move the shipment's status. A voided label undoes its shipment.
Tax is ``tax.py``; the routes of shipping processes are ``routes.py``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from typing import cast

from sqlalchemy import Select, Table, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from tradewind.core.inventory.models import Warehouse
from tradewind.core.links.models import LocationMapping
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.core.plugins.models import PluginChannel
from tradewind.core.shipments import service as shipments
from tradewind.core.shipments.models import Shipment
from tradewind.core.shipments.schemas import ShipmentIn
from tradewind.core.shipping import routes
from tradewind.core.shipping.models import (
    ChannelService,
    Label,
    LabelState,
    Package,
    PackageState,
    Parcel,
    RateQuote,
    ShippingProcess,
    TrackingEvent,
)
from tradewind.core.shipping.schemas import LabelIn, ParcelIn, QuoteIn, TrackingIn
from tradewind.db import utcnow
from tradewind.errors import Conflict, Invalid, NotFound
from tradewind.events import PackagePrepared, record
from tradewind.vocabulary import OrderStatus, ServiceCapability, TrackingStatus

CENT = Decimal("0.01")
# How long a quote may be bought when the service says nothing of it.
RATE_VALIDITY = dt.timedelta(hours=24)
BEING_BOUGHT = (
    "a label is being bought for package {package_id}; if that purchase failed with an "
    "unknown outcome, check it with the carrier before buying again"
)
NO_SERVICE = "no plugin of this channel does {capability}: choose one on the channel page"
# The address fields a carrier needs on both ends.
ADDRESS_NEEDS = ("address1", "city", "postal_code", "country_code")


# ---------------------------------------------------------------- which plugin does what


def set_service(
    session: Session, channel_id: int, capability: ServiceCapability, plugin_id: int | None
) -> None:
    """Name the plugin of the channel that does ``capability`` (``None``: nobody)."""
    found = session.get(ChannelService, (channel_id, capability))
    if plugin_id is None:
        if found is not None:
            session.delete(found)
        return
    attached = session.scalar(
        select(PluginChannel).where(
            PluginChannel.channel_id == channel_id, PluginChannel.plugin_id == plugin_id
        )
    )
    if attached is None:
        raise Invalid(f"plugin {plugin_id} is not on channel {channel_id}: attach it first")
    if found is None:
        session.add(
            ChannelService(channel_id=channel_id, capability=capability, plugin_id=plugin_id)
        )
    else:
        found.plugin_id = plugin_id
    session.flush()


def services(session: Session, channel_id: int) -> dict[ServiceCapability, int]:
    """Capability → plugin id, for the channel."""
    rows = session.scalars(select(ChannelService).where(ChannelService.channel_id == channel_id))
    return {row.capability: row.plugin_id for row in rows}


def service_for(session: Session, channel_id: int, capability: ServiceCapability) -> int:
    found = session.get(ChannelService, (channel_id, capability))
    if found is None:
        raise Invalid(NO_SERVICE.format(capability=capability.value))
    return found.plugin_id


# ------------------------------------------------------------------------------ packages


def prepare_package(
    session: Session, order_id: int, parcels: Sequence[ParcelIn], warehouse_id: int | None = None
) -> Package:
    """A package for ``order_id`` ready to be rated; refused, with what is missing, when a
    carrier could not rate it. No parcels given: the packaging of the order's shipping
    process (``routes.route_of``)."""
    order = orders.get_order(session, order_id)
    if order.status is OrderStatus.CANCELLED:
        raise Invalid(f"order {order.number} is cancelled; nothing ships")
    if not parcels:
        route = routes.route_of(session, order)
        parcels = routes.parcels_of(route) if route is not None else []
    if not parcels:
        raise Invalid(
            "a package needs at least one parcel (the order's shipping process has no "
            "packaging to start from)",
            fields={"parcels": "required"},
        )
    for index, parcel in enumerate(parcels, start=1):
        if parcel.weight is None or parcel.weight <= 0:
            raise Invalid(
                f"parcel {index} has no weight: carriers rate by weight",
                fields={f"parcels.{index}.weight": "required"},
            )
    source = warehouse_id or order.warehouse_id
    warehouse = session.get(Warehouse, source) if source is not None else None
    if warehouse is None:
        raise Invalid(f"order {order.number} has no warehouse to ship from")
    _needs_address(warehouse.address, f"warehouse {warehouse.code} (its address, to ship from)")
    _needs_address(order.shipping_address, f"order {order.number} (its shipping address)")
    package = Package(
        order_id=order.id,
        warehouse_id=warehouse.id,
        ship_from=dict(warehouse.address or {}),
        ship_to=dict(order.shipping_address or {}),
    )
    package.parcels = [
        Parcel(
            length=p.length,
            width=p.width,
            height=p.height,
            distance_unit=p.distance_unit,
            weight=p.weight,
            mass_unit=p.mass_unit,
        )
        for p in parcels
    ]
    session.add(package)
    session.flush()
    record(session, PackagePrepared(package_id=package.id, order_id=order.id))
    return package


def _needs_address(address: dict[str, object] | None, whose: str) -> None:
    missing = [name for name in ADDRESS_NEEDS if not (address or {}).get(name)]
    if missing:
        raise Invalid(f"{whose} lacks {', '.join(missing)}: carriers need a full address")


def package_for(
    session: Session, package_id: int, capability: ServiceCapability
) -> tuple[Package, int]:
    """The package, its parcels loaded, and the plugin to ask for ``capability``: the
    carrier of its order's shipping process (``routes.route_of``) when it names one, else
    the one its channel has chosen. One query, where reading the package, its parcels,
    its order's channel, the route and the channel's choice took five (a rating is on a
    person's clock)."""
    row = (
        session.execute(_package_and_plugin(capability), {"package_id": package_id})
        .unique()
        .one_or_none()
    )
    if row is None:
        raise NotFound(f"no package {package_id}")
    package, plugin_id = row
    if plugin_id is None:
        raise Invalid(NO_SERVICE.format(capability=capability.value))
    return package, plugin_id


@cache
def _package_and_plugin(capability: ServiceCapability) -> Select[Package, int | None]:
    """``package_for``'s query, built once per capability with the package as a bound
    parameter: building it (its joins, its correlated subquery, its loader option) cost
    twice as much as running it."""
    route_plugin = (
        select(ShippingProcess.plugin_id)
        .join(LocationMapping, LocationMapping.shipping_process == ShippingProcess.name)
        .where(
            LocationMapping.plugin_id == Order.plugin_id,
            LocationMapping.active.is_(True),
            or_(
                LocationMapping.external_id == Order.location_ref,
                and_(Order.location_ref == "", LocationMapping.is_default.is_(True)),
            ),
        )
        .limit(1)
        .correlate(Order)
        .scalar_subquery()
    )
    return (
        select(Package, func.coalesce(route_plugin, ChannelService.plugin_id))
        .join(Order, Order.id == Package.order_id)
        .outerjoin(
            ChannelService,
            (ChannelService.channel_id == Order.channel_id)
            & (ChannelService.capability == capability),
        )
        .where(Package.id == bindparam("package_id"))
        .options(joinedload(Package.parcels))
    )


def get_package(session: Session, package_id: int) -> Package:
    found = session.get(Package, package_id)
    if found is None:
        raise NotFound(f"no package {package_id}")
    return found


def record_quotes(
    session: Session,
    package_id: int,
    plugin_id: int,
    quotes: Sequence[QuoteIn],
    *,
    valid_for: dt.timedelta = RATE_VALIDITY,
) -> list[RateQuote]:
    """The plugin's new quotes for the package, replacing its earlier ones."""
    # The package's state alone is read, not the package: a rating is on a person's clock.
    state = session.scalar(_package_state(), {"package_id": package_id})
    if state is None:
        raise NotFound(f"no package {package_id}")
    if state is PackageState.LABELLED:
        raise Conflict(f"package {package_id} has its label already")
    now = utcnow()
    # Written as two statements (the earlier ones deleted, the new ones inserted in one
    # go) rather than through the package's collection.
    session.execute(
        delete(RateQuote).where(
            RateQuote.package_id == package_id, RateQuote.plugin_id == plugin_id
        )
    )
    loaded = session.identity_map.get(session.identity_key(Package, package_id))
    if loaded is not None:
        session.expire(loaded, ["quotes"])
    if not quotes:
        return []
    rows = [
        {
            "package_id": package_id,
            "plugin_id": plugin_id,
            "external_id": quote.external_id,
            "carrier": quote.carrier,
            "service": quote.service,
            "amount": quote.amount,
            "currency": quote.currency,
            "estimated_days": quote.estimated_days,
            "quoted_at": now,
            "expires_at": now + valid_for,
        }
        for quote in quotes
    ]
    # One executemany and one read back, in the order given (ids rise with it): an
    # INSERT .. RETURNING that keeps the order is sent by SQLite one row at a time.
    session.connection().execute(insert(cast(Table, RateQuote.__table__)), rows)
    return list(session.scalars(_kept_quotes(), {"package_id": package_id, "plugin_id": plugin_id}))


@cache
def _package_state() -> Select[PackageState]:
    """``record_quotes``' read of the package's state, built once (the package bound)."""
    return select(Package.state).where(Package.id == bindparam("package_id"))


@cache
def _kept_quotes() -> Select[RateQuote]:
    """``record_quotes``' read back of the quotes, built once (package and plugin bound)."""
    return (
        select(RateQuote)
        .where(
            RateQuote.package_id == bindparam("package_id"),
            RateQuote.plugin_id == bindparam("plugin_id"),
        )
        .order_by(RateQuote.id)
    )


def cheapest(quotes: Sequence[RateQuote]) -> RateQuote | None:
    return min(quotes, key=lambda q: (q.amount, q.estimated_days or 999), default=None)


def fastest(quotes: Sequence[RateQuote]) -> RateQuote | None:
    dated = [q for q in quotes if q.estimated_days is not None]
    return min(dated, key=lambda q: (q.estimated_days or 0, q.amount), default=None)


def get_quote(session: Session, quote_id: int) -> RateQuote:
    quote = session.get(RateQuote, quote_id)
    if quote is None:
        raise NotFound(f"no rate quote {quote_id}")
    return quote


def quote_to_buy(session: Session, quote_id: int) -> RateQuote:
    """The quote a label is about to be bought with: refused when it expired, the
    package has its label, or the shipment the label makes would be refused."""
    quote = get_quote(session, quote_id)
    package = _draft(session, quote.package_id)
    if quote.expires_at <= utcnow():
        raise Invalid(
            f"the {quote.carrier} {quote.service} rate expired at "
            f"{quote.expires_at:%Y-%m-%d %H:%M} UTC: get rates again"
        )
    shipments.check_shippable(session, package.order_id, package.warehouse_id)
    return quote


def claim_purchase(session: Session, package_id: int) -> None:
    """Take the package's one purchase: of two clicks (or two processes) only one gets
    it; the other is told a label is being bought."""
    taken = session.execute(
        update(Package)
        .where(
            Package.id == package_id,
            Package.state.in_([PackageState.DRAFT, PackageState.VOIDED]),
        )
        .values(state=PackageState.BUYING, updated_at=utcnow())
    )
    if int(getattr(taken, "rowcount", 0) or 0) == 1:
        return
    package = get_package(session, package_id)
    if package.state is PackageState.LABELLED:
        raise Conflict(f"package {package.id} has its label already")
    raise Conflict(BEING_BOUGHT.format(package_id=package.id))


def release_purchase(session: Session, package_id: int) -> None:
    """The carrier refused the purchase: the package can be bought again."""
    session.execute(
        update(Package)
        .where(Package.id == package_id, Package.state == PackageState.BUYING)
        .values(state=PackageState.DRAFT, updated_at=utcnow())
    )


def _draft(session: Session, package_id: int) -> Package:
    package = get_package(session, package_id)
    if package.state is PackageState.LABELLED:
        raise Conflict(f"package {package.id} has its label already")
    return package


def record_label(session: Session, quote: RateQuote, data: LabelIn) -> Label:
    """The label bought for ``quote``'s package: the package becomes a shipment with
    the label's tracking. A second label for the package is refused (the database's
    unique index decides when two purchases race)."""
    package = _draft(session, quote.package_id)
    label = Label(
        package_id=package.id,
        plugin_id=quote.plugin_id,
        rate_quote_id=quote.id,
        external_id=data.external_id,
        carrier=data.carrier,
        service=data.service,
        tracking_number=data.tracking_number,
        cost=data.cost,
        currency=data.currency,
        label_url=data.label_url,
        label_data=data.label_data,
        label_format=data.label_format,
    )
    try:
        with session.begin_nested():
            session.add(label)
            session.flush()
    except IntegrityError:
        raise Conflict(f"package {package.id} has its label already") from None
    shipment = shipments.create_shipment(
        session,
        package.order_id,
        ShipmentIn(
            carrier=data.carrier,
            tracking_number=data.tracking_number,
            tracking_url=data.tracking_url,
            warehouse_id=package.warehouse_id,
        ),
    )
    shipment.tracking_status = TrackingStatus.PRE_TRANSIT
    package.state = PackageState.LABELLED
    package.shipment_id = shipment.id
    session.flush()
    return label


def label_of(session: Session, package_id: int) -> Label | None:
    return session.scalar(
        select(Label).where(Label.package_id == package_id, Label.state == LabelState.PURCHASED)
    )


def label_to_void(session: Session, package_id: int) -> Label:
    """The package's label in force, about to be voided: refused, saying why, when it
    has none (never bought, or voided already) or its parcel came back (it shipped)."""
    package = get_package(session, package_id)
    label = label_of(session, package.id)
    if label is not None:
        if package.shipment_id is not None:
            shipments.can_unship(session, package.shipment_id)
        return label
    if package.state is PackageState.VOIDED:
        raise Conflict(f"the label of package {package.id} is voided already")
    raise Invalid(f"package {package.id} has no label to void")


def record_void(session: Session, label_id: int) -> Label:
    """The carrier voided the label: the label is kept as voided, its shipment is undone
    (the units are back on hand) and the package can be rated and bought again. Its old
    quotes go: they were for the carrier's shipment just refunded. Of two voids only one
    is recorded; the other is told it is voided already."""
    voided = session.execute(
        update(Label)
        .where(Label.id == label_id, Label.state == LabelState.PURCHASED)
        .values(state=LabelState.VOIDED, voided_at=utcnow(), updated_at=utcnow())
    )
    label = session.get(Label, label_id)
    if label is None:
        raise NotFound(f"no label {label_id}")
    session.refresh(label)
    if int(getattr(voided, "rowcount", 0) or 0) != 1:
        raise Conflict(f"the label of package {label.package_id} is voided already")
    package = get_package(session, label.package_id)
    if package.shipment_id is not None:
        shipments.unship(session, package.shipment_id, f"label {label.tracking_number} voided")
    package.state, package.shipment_id = PackageState.VOIDED, None
    label.rate_quote_id = None  # the label keeps what it cost; its quote goes with the rest
    session.flush()
    package.quotes = []
    record(session, PackagePrepared(package_id=package.id, order_id=package.order_id))
    order = orders.get_order(session, package.order_id)
    # A shipment sent to the store is cancelled there too (shipment.cancelled → the engine).
    orders.add_activity(
        session,
        order,
        "label_voided",
        f"Label {label.carrier} {label.tracking_number} of package #{package.id} voided "
        f"({label.cost} {label.currency} to be refunded); the package can be bought again.",
    )
    session.flush()
    return label


# ------------------------------------------------------------------------------ tracking


def record_tracking(
    session: Session, shipment_id: int, events: Sequence[TrackingIn], plugin_id: int | None
) -> bool:
    """Keep the carrier's events (each once, however often it is reported) and move the
    shipment to the newest one's status; returns whether the status changed."""
    shipment = session.get(Shipment, shipment_id)
    if shipment is None:
        raise NotFound(f"no shipment {shipment_id}")
    known = {
        (row.occurred_at, row.raw_status)
        for row in session.scalars(
            select(TrackingEvent).where(TrackingEvent.shipment_id == shipment_id)
        )
    }
    for event in events:
        if (event.occurred_at, event.raw_status) in known:
            continue
        known.add((event.occurred_at, event.raw_status))
        session.add(
            TrackingEvent(
                shipment_id=shipment_id,
                plugin_id=plugin_id,
                status=event.status,
                raw_status=event.raw_status,
                message=event.message,
                location=event.location,
                occurred_at=event.occurred_at,
            )
        )
    session.flush()
    newest = session.scalar(
        select(TrackingEvent)
        .where(TrackingEvent.shipment_id == shipment_id)
        .order_by(TrackingEvent.occurred_at.desc(), TrackingEvent.id.desc())
        .limit(1)
    )
    if newest is None or newest.status is shipment.tracking_status:
        return False
    shipment.tracking_status = newest.status
    order = orders.get_order(session, shipment.order_id)
    orders.add_activity(
        session,
        order,
        "tracking",
        f"Shipment #{shipment.id}: {newest.status.value.replace('_', ' ')}"
        f"{f' ({newest.message})' if newest.message else ''}.",
    )
    session.flush()
    return True


def tracking_events(session: Session, shipment_id: int) -> list[TrackingEvent]:
    return list(
        session.scalars(
            select(TrackingEvent)
            .where(TrackingEvent.shipment_id == shipment_id)
            .order_by(TrackingEvent.occurred_at, TrackingEvent.id)
        )
    )
