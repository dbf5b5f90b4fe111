"""Shipping processes: the named fulfilment routes a platform location is mapped to (seed
002: "map each Shopify location to a WMS warehouse and shipping process"). An order from
a location takes its route when its package is prepared: the route's packaging when no
parcel is given, its plugin for rates and the label, and its service as the choice to
buy. An order whose location has no route ships as the channel's services say."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tradewind.core.links.models import LocationMapping
from tradewind.core.orders.models import Order
from tradewind.core.plugins.models import Plugin
from tradewind.core.shipping.models import RateQuote, ShippingProcess
from tradewind.core.shipping.schemas import ParcelIn, ShippingProcessIn
from tradewind.errors import Conflict, Invalid, NotFound


def list_processes(session: Session) -> list[ShippingProcess]:
    return list(session.scalars(select(ShippingProcess).order_by(ShippingProcess.name)))


def get_process(session: Session, process_id: int) -> ShippingProcess:
    found = session.get(ShippingProcess, process_id)
    if found is None:
        raise NotFound(f"no shipping process {process_id}")
    return found


def process_named(session: Session, name: str) -> ShippingProcess | None:
    if not name.strip():
        return None
    return session.scalar(select(ShippingProcess).where(ShippingProcess.name == name.strip()))


def add_process(session: Session, data: ShippingProcessIn) -> ShippingProcess:
    name = _checked(session, data, None)
    process = ShippingProcess(
        name=name,
        plugin_id=data.plugin_id,
        service=data.service.strip(),
        packaging=_packaging(data),
    )
    session.add(process)
    session.flush()
    return process


def update_process(session: Session, process_id: int, data: ShippingProcessIn) -> ShippingProcess:
    """Change a route; the locations mapped to it follow a new name."""
    process = get_process(session, process_id)
    name = _checked(session, data, process_id)
    if name != process.name:
        session.execute(
            update(LocationMapping)
            .where(LocationMapping.shipping_process == process.name)
            .values(shipping_process=name)
        )
    process.name = name
    process.plugin_id = data.plugin_id
    process.service = data.service.strip()
    process.packaging = _packaging(data)
    session.flush()
    return process


def delete_process(session: Session, process_id: int) -> int:
    """Remove a route; returns how many locations were mapped to it (now to none)."""
    process = get_process(session, process_id)
    moved = session.execute(
        update(LocationMapping)
        .where(LocationMapping.shipping_process == process.name)
        .values(shipping_process="")
    )
    session.delete(process)
    session.flush()
    return int(getattr(moved, "rowcount", 0) or 0)


def check_name(session: Session, name: str) -> str:
    """The name a location mapping may give: empty (no route) or an existing route's."""
    cleaned = name.strip()
    if cleaned and process_named(session, cleaned) is None:
        known = ", ".join(p.name for p in list_processes(session)) or "none yet"
        raise Invalid(
            f"no shipping process named {cleaned!r} (known: {known}); add it on the "
            "Shipments page first",
            fields={"shipping_process": "unknown"},
        )
    return cleaned


def route_of(session: Session, order: Order) -> ShippingProcess | None:
    """The route of the order's platform location (the plugin's default location when the
    order names none), if that location is mapped to one."""
    if order.plugin_id is None:
        return None
    mappings = session.scalars(
        select(LocationMapping).where(
            LocationMapping.plugin_id == order.plugin_id, LocationMapping.active.is_(True)
        )
    ).all()
    chosen = next(
        (m for m in mappings if order.location_ref and m.external_id == order.location_ref), None
    )
    if chosen is None and not order.location_ref:
        chosen = next((m for m in mappings if m.is_default), None)
    if chosen is None:
        return None
    return process_named(session, chosen.shipping_process)


def parcels_of(process: ShippingProcess) -> list[ParcelIn]:
    """The route's packaging as the parcel a package starts from (none: ask for one)."""
    return [ParcelIn.model_validate(process.packaging)] if process.packaging else []


def choice(quotes: Sequence[RateQuote], process: ShippingProcess | None) -> RateQuote | None:
    """The quote the route would buy: its service from its plugin, or the cheapest of its
    plugin's when it names no service (None: no route, or nothing quoted fits)."""
    if process is None:
        return None
    fitting = [q for q in quotes if process.plugin_id is None or q.plugin_id == process.plugin_id]
    if process.service:
        wanted = process.service.casefold()
        named = [q for q in fitting if wanted in (q.service.casefold(), q.external_id.casefold())]
        return min(named, key=lambda q: q.amount, default=None)
    return min(fitting, key=lambda q: q.amount, default=None)


def _checked(session: Session, data: ShippingProcessIn, process_id: int | None) -> str:
    name = data.name.strip()
    if not name:
        raise Invalid("a shipping process needs a name", fields={"name": "required"})
    same = process_named(session, name)
    if same is not None and same.id != process_id:
        raise Conflict(f"a shipping process named {name!r} exists already")
    if data.plugin_id is not None and session.get(Plugin, data.plugin_id) is None:
        raise Invalid(f"no plugin {data.plugin_id}", fields={"plugin_id": "unknown"})
    if data.packaging is not None and (data.packaging.weight or 0) <= 0:
        raise Invalid(
            "the packaging needs a weight: carriers rate by weight",
            fields={"packaging.weight": "required"},
        )
    return name


def _packaging(data: ShippingProcessIn) -> dict[str, object] | None:
    return data.packaging.model_dump(mode="json") if data.packaging is not None else None
