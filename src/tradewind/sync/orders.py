"""From a platform's order record to the core: which orders a plugin imports (its rules),
and how a record becomes an order (warehouse from the location mapping, customer by the
POS/customer policy, lines matched by the plugin's order of codes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tradewind.connectors.records import AddressRecord, FulfillmentRecord, OrderRecord
from tradewind.core.catalog.models import Product, sku_key
from tradewind.core.customers import service as customers
from tradewind.core.customers.models import Customer
from tradewind.core.customers.schemas import Address, CustomerIn
from tradewind.core.inventory import service as inventory
from tradewind.core.inventory.models import Reservation
from tradewind.core.links import service as links
from tradewind.core.links.models import ProductLink
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order, OrderActivity, OrderLine
from tradewind.core.orders.schemas import ImportOptions, OrderIn, OrderLineIn
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin
from tradewind.core.plugins.schemas import ImportRules, PosPolicy
from tradewind.core.returns import service as returns
from tradewind.core.returns.models import Return, ReturnStatus
from tradewind.core.returns.schemas import ReturnIn, ReturnLineIn
from tradewind.core.shipments import service as shipments
from tradewind.core.shipments.models import Shipment
from tradewind.core.shipments.schemas import ShipmentIn, ShipmentLineIn
from tradewind.errors import TradewindError
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync import exports, return_exports
from tradewind.vocabulary import OrderSource, Toggle

# ``would_import``: judged by a plugin in shadow (sync/shadow.py), nothing created.
Outcome = Literal["imported", "updated", "unchanged", "skipped", "deferred", "would_import"]
# Platforms stamp orders to the second and clocks drift: an order placed in the moments
# around enabling counts as placed after (an extra order beats a missing one).
ENABLE_GRACE = dt.timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class Skip:
    """Why an order is not imported: a stable ``code`` (``status_not_imported:pending``)
    and the sentence a person reads. ``deferred``: not yet — it imports by itself once
    the platform lets go of it (held for review)."""

    code: str
    reason: str
    deferred: bool = False


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    outcome: Outcome
    order_id: int | None = None
    reason: str = ""
    code: str = ""


def skip_reason(
    plugin: Plugin, rules: ImportRules, record: OrderRecord, *, backfill: bool
) -> Skip | None:
    """Why the plugin does not import ``record`` (``None``: it does). Only for orders not
    yet imported: updates and cancellations of an order we hold always flow in."""
    if (
        not backfill
        and plugin.enabled_at is not None
        and record.placed_at < plugin.enabled_at - ENABLE_GRACE
    ):
        placed = record.placed_at.astimezone(dt.UTC)
        return Skip(
            "placed_before_enabled",
            f"placed {placed:%Y-%m-%d %H:%M} UTC, before the plugin was enabled; "
            "older orders import through Sync historical orders",
        )
    if record.status not in rules.statuses:
        return Skip(
            f"status_not_imported:{record.status.value}", f"status is {record.status.value}"
        )
    if not rules.ignore_financial_status and record.financial_status not in (
        rules.financial_statuses
    ):
        return Skip(
            "unpaid",
            f"financial status is {record.financial_status.value}; only paid orders import "
            "unless Ignore financial status is on",
        )
    if record.fulfillment_status not in rules.fulfillment_statuses:
        return Skip(
            f"fulfillment_not_imported:{record.fulfillment_status.value}",
            f"fulfillment status is {record.fulfillment_status.value}",
        )
    if record.test and not rules.import_test_orders:
        return Skip("test_order", "a test order (Import test orders is off)")
    if record.source is OrderSource.POS and rules.pos_orders is PosPolicy.SKIP:
        return Skip("pos_skipped", "a POS order (POS orders: do not import)")
    if rules.only_location and record.location_ref != rules.only_location:
        return Skip(
            "other_location",
            f"placed at location {record.location_ref or 'unknown'}, not the chosen one",
        )
    if record.review_hold:  # last: an order the rules skip anyway is skipped, not waited for
        return Skip(
            "held_for_review",
            f"held for review on the platform ({record.review_hold}); it imports once "
            "the hold is released",
            deferred=True,
        )
    return None


def missing(session: Session, plugin: Plugin, records: Sequence[OrderRecord]) -> list[OrderRecord]:
    """Of ``records`` (as the platform holds them now), those the plugin would import but
    does not hold at that version: new orders it imports, and changes of orders it holds
    that never reached it."""
    held = {
        str(external_id): at
        for external_id, at in session.execute(
            select(Order.external_id, Order.remote_updated_at).where(
                Order.plugin_id == plugin.id,
                Order.external_id.in_(sorted({record.external_id for record in records})),
            )
        )
    }
    rules = plugins.import_rules(plugin)
    gaps = []
    for record in records:
        if record.external_id in held:
            at = held[record.external_id]
            if at is None or at < record.updated_at:
                gaps.append(record)
        elif (
            Toggle.IMPORT_ORDERS in plugin.toggles
            and not record.origin_ref  # made in Tradewind: it is here already
            and skip_reason(plugin, rules, record, backfill=False) is None
        ):
            gaps.append(record)
    return gaps


def lock_for_import(
    session: Session, plugin: Plugin, records: Sequence[OrderRecord]
) -> frozenset[str]:
    """Before a batch of records is imported in one transaction, lock every row it may
    change that other transactions change too, in the global order — the plugin's orders
    it already holds (by id), then the stock rows of every product the lines may match in
    every warehouse the orders may use (by product, warehouse). Imported one after the
    other, the orders would lock them in the records' order, and two batches (or a batch
    and a cancellation in the UI) deadlock. Returns the external ids of the records'
    orders the plugin holds (locked: no other transaction changes them meanwhile)."""
    if not records:
        return frozenset()
    held = session.execute(
        select(Order.id, Order.warehouse_id, Order.external_id)
        .where(
            Order.plugin_id == plugin.id,
            Order.external_id.in_(sorted({record.external_id for record in records})),
        )
        .order_by(Order.id)
        .with_for_update()
    ).all()
    lines = [line for record in records for line in record.lines]
    keys = {sku_key(line.sku) for line in lines if line.sku} - {""}
    barcodes = {line.barcode for line in lines if line.barcode}
    variants = {line.variant_ref for line in lines if line.variant_ref}
    products: set[int] = set()
    if keys or barcodes:
        products.update(
            session.scalars(
                select(Product.id).where(
                    or_(Product.sku_key.in_(sorted(keys)), Product.barcode.in_(sorted(barcodes)))
                )
            )
        )
    if variants:
        products.update(
            session.scalars(
                select(ProductLink.product_id).where(
                    ProductLink.plugin_id == plugin.id,
                    ProductLink.external_id.in_(sorted(variants)),
                )
            )
        )
    warehouses = {warehouse_id for _, warehouse_id, _ in held if warehouse_id is not None}
    for location in {record.location_ref for record in records}:
        warehouses.add(links.warehouse_for_location(session, plugin.id, location) or 0)
    default = inventory.default_warehouse(session)
    warehouses |= {default.id} if default is not None else set()
    pairs = {(product, warehouse) for product in products for warehouse in warehouses - {0}}
    if held:  # reservations an update may move or release
        holders = [
            line.holder
            for line in session.scalars(
                select(OrderLine).where(OrderLine.order_id.in_([order for order, _, _ in held]))
            )
        ]
        pairs.update(
            (product, warehouse)
            for product, warehouse in session.execute(
                select(Reservation.product_id, Reservation.warehouse_id).where(
                    Reservation.holder.in_(holders)
                )
            )
        )
    inventory.lock_levels(session, pairs)
    return frozenset(str(external_id) for _, _, external_id in held)


@dataclass
class Lookups:
    """What ``to_order_in`` looks up, read once for a page of records: the plugin's
    variant links of every line, its location mappings and its generic customer."""

    variants: dict[str, int]
    warehouses: dict[str, int | None]
    generic: int | None = None
    # Validated once a page: a buyer's email check costs more than the rest of its order.
    buyers: dict[tuple[object, ...], tuple[str, bool, CustomerIn | None]] = field(
        default_factory=dict
    )
    addresses: dict[AddressRecord, Address] = field(default_factory=dict)

    def buyer(self, rules: ImportRules, record: OrderRecord) -> tuple[str, bool, CustomerIn | None]:
        key = (record.email, record.customer, record.source)
        if key not in self.buyers:
            self.buyers[key] = buyer(rules, record)
        return self.buyers[key]

    def address(self, record: AddressRecord) -> Address:
        if record not in self.addresses:
            self.addresses[record] = address(record)
        return self.addresses[record]

    @classmethod
    def of(cls, session: Session, plugin: Plugin, records: Sequence[OrderRecord]) -> Lookups:
        refs = sorted({line.variant_ref for r in records for line in r.lines if line.variant_ref})
        variants: dict[str, int] = {}
        for start in range(0, len(refs), 500):
            for external_id, product_id in session.execute(
                select(ProductLink.external_id, ProductLink.product_id).where(
                    ProductLink.plugin_id == plugin.id,
                    ProductLink.external_id.in_(refs[start : start + 500]),
                )
            ):
                variants[external_id] = product_id
        mappings = links.location_mappings(session, plugin.id)
        warehouses = {
            location: links.warehouse_from(mappings, location)
            for location in {record.location_ref for record in records}
        }
        return cls(variants, warehouses)


def import_new(
    session: Session, plugin: Plugin, records: Sequence[OrderRecord], *, backfill: bool = False
) -> list[ImportOutcome]:
    """``import_record`` for records whose orders the plugin does not hold (locked by
    ``lock_for_import``) and that Tradewind did not make: the ones the rules import are
    created together (``orders.create_imported``), the rest judged as one by one. Raises
    as the first refused record would; the caller falls back to one by one."""
    rules = plugins.import_rules(plugin)
    lookups = Lookups.of(session, plugin, records)
    outcomes: list[ImportOutcome | None] = []
    made: list[tuple[int, OrderRecord, OrderIn]] = []
    for record in records:
        if Toggle.IMPORT_ORDERS not in plugin.toggles:
            outcomes.append(
                ImportOutcome(
                    "skipped", reason="Import Orders is off", code="toggle_off:import_orders"
                )
            )
            continue
        skip = skip_reason(plugin, rules, record, backfill=backfill)
        if skip is not None:
            decided: Outcome = "deferred" if skip.deferred else "skipped"
            outcomes.append(ImportOutcome(decided, reason=skip.reason, code=skip.code))
            continue
        made.append((len(outcomes), record, to_order_in(session, plugin, rules, record, lookups)))
        outcomes.append(None)

    def then(position: int, order: Order) -> None:
        at, record, _ = made[position]
        # What a new order has none of costs no query (no shipments, returns to read).
        tracks = plugin.toggles & {Toggle.IMPORT_TRACKING, Toggle.IMPORT_SHIPMENTS}
        if tracks and record.fulfillments:
            _import_fulfillments(session, plugin, order, record)
        if record.refunds:
            _import_refunds(session, plugin, rules, order, record)
        if Toggle.EXPORT_CUSTOMERS in plugin.toggles:
            _link_buyer(session, plugin, order, record)
        outcomes[at] = ImportOutcome("imported", order.id)

    orders.create_imported(
        session,
        plugin.id,
        [data for _, _, data in made],
        ImportOptions(match_by=rules.match_by),
        then=then,
    )
    return [outcome for outcome in outcomes if outcome is not None]


def import_record(
    session: Session, plugin: Plugin, record: OrderRecord, *, backfill: bool = False
) -> ImportOutcome:
    rules = plugins.import_rules(plugin)
    existing = orders.find_imported(session, plugin.id, record.external_id)
    if existing is None and record.origin_ref:
        made_here = _made_here(session, plugin, record)
        if isinstance(made_here, str):
            return ImportOutcome("skipped", reason=made_here, code="made_here")
        existing = made_here
    if existing is None:
        if Toggle.IMPORT_ORDERS not in plugin.toggles:
            return ImportOutcome(
                "skipped", reason="Import Orders is off", code="toggle_off:import_orders"
            )
        skip = skip_reason(plugin, rules, record, backfill=backfill)
        if skip is not None:
            decided: Outcome = "deferred" if skip.deferred else "skipped"
            return ImportOutcome(decided, reason=skip.reason, code=skip.code)
    data = to_order_in(session, plugin, rules, record)
    if existing is not None and existing.exported_at is not None:
        data = _keep_what_tradewind_decides(existing, data)
    result = orders.import_order(session, plugin.id, data, ImportOptions(match_by=rules.match_by))
    changed = result.changed
    if plugin.toggles & {Toggle.IMPORT_TRACKING, Toggle.IMPORT_SHIPMENTS}:
        changed |= _import_fulfillments(session, plugin, result.order, record)
    changed |= _import_refunds(session, plugin, rules, result.order, record)
    if result.created and Toggle.EXPORT_CUSTOMERS in plugin.toggles:
        _link_buyer(session, plugin, result.order, record)
    if result.created:
        return ImportOutcome("imported", result.order.id)
    return ImportOutcome("updated" if changed else "unchanged", result.order.id)


def _link_buyer(session: Session, plugin: Plugin, order: Order, record: OrderRecord) -> None:
    """The buyer of an imported order is the platform's customer already: linked, as the
    platform holds it, Export Customers does not send the customer straight back."""
    buyer = record.customer
    if buyer is None or not buyer.external_id or order.customer_id is None:
        return
    customer = session.get(Customer, order.customer_id)
    if customer is None or customer.email_key != buyer.email.strip().casefold():
        return  # the generic customer, or another email: not the platform's customer
    links.link_customer(
        session,
        plugin.id,
        customer.id,
        buyer.external_id,
        synced_hash=exports.customer_digest(buyer),
    )


def _made_here(session: Session, plugin: Plugin, record: OrderRecord) -> Order | str | None:
    """An order Tradewind created on the platform (Export Orders) coming back before its
    export was linked (the export's answer was lost): link it now, so it is the same
    order. One linked through another plugin is not imported again. ``None``: not ours."""
    order_id = exports.order_of_origin(record.origin_ref)
    order = session.get(Order, order_id) if order_id is not None else None
    if order is None or order.channel_id not in plugin.channel_ids:
        return None
    if order.plugin_id is None and order.external_id is None:
        return exports.link_order(session, plugin, order.id, record)
    if order.plugin_id != plugin.id:
        return f"order {order.number} made in Tradewind, sent through plugin #{order.plugin_id}"
    return None


def _keep_what_tradewind_decides(order: Order, data: OrderIn) -> OrderIn:
    """An order made in Tradewind keeps its number, buyer, addresses, warehouse and
    amounts when its platform copy comes back: the platform adds what happens there
    (payment, fulfillments, refunds, cancellation), it does not rewrite the order."""
    return data.model_copy(
        update={
            "number": None,
            "source": order.source,
            "currency": order.currency,
            "email": order.email,
            "customer": None,
            "customer_id": None,
            "billing_address": None,
            "shipping_address": None,
            "warehouse_id": None,
            "location_ref": order.location_ref,
            "note": order.note,
            "tags": list(order.tags or ()),
            "test": order.test,
            "subtotal": None,
            "total": None,
            "shipping_total": order.shipping_total,
            "tax_total": order.tax_total,
            "discount_total": order.discount_total,
        }
    )


def _import_fulfillments(
    session: Session, plugin: Plugin, order: Order, record: OrderRecord
) -> bool:
    """Fulfilments made on the platform. Import Tracking: their carrier and number go on
    the shipment they are here (one Tradewind sent, or one imported), following changes
    made there, or else on the order's timeline. Import Shipments: a fulfilment the order
    has no shipment for becomes one, once (its items leave stock)."""
    known = {
        shipment.external_id: shipment
        for shipment in session.scalars(
            select(Shipment).where(Shipment.plugin_id == plugin.id, Shipment.order_id == order.id)
        )
    }
    as_shipments = Toggle.IMPORT_SHIPMENTS in plugin.toggles
    changed = False
    for fulfillment in record.fulfillments:
        shipment = known.get(fulfillment.external_id)
        if shipment is not None:
            changed |= shipments.update_tracking(
                session,
                shipment,
                carrier=fulfillment.carrier,
                number=fulfillment.tracking_number,
                url=fulfillment.tracking_url,
            )
        elif as_shipments:
            changed |= _record_shipment(session, plugin, order, fulfillment)
        else:
            changed |= _note_tracking(session, plugin, order, fulfillment)
    return changed


def _record_shipment(
    session: Session, plugin: Plugin, order: Order, fulfillment: FulfillmentRecord
) -> bool:
    lines = {line.external_id: line for line in order.lines if line.external_id}
    items = [
        ShipmentLineIn(order_line_id=lines[item.line_external_id].id, quantity=item.quantity)
        for item in fulfillment.lines
        if item.line_external_id in lines
    ]
    try:
        with session.begin_nested():
            shipments.create_shipment(
                session,
                order.id,
                ShipmentIn(
                    lines=items,
                    carrier=fulfillment.carrier,
                    tracking_number=fulfillment.tracking_number,
                    tracking_url=fulfillment.tracking_url,
                    shipped_at=fulfillment.shipped_at,
                    notify_customer=False,
                    plugin_id=plugin.id,
                    external_id=fulfillment.external_id,
                ),
            )
    except TradewindError as exc:
        notifications.raise_notification(
            session,
            NotificationKind.RECORD_REJECTED,
            plugin_id=plugin.id,
            subject=f"fulfillment {fulfillment.external_id}",
            message=f"A shipment of order {order.number} made on the platform could not "
            f"be recorded: {exc}",
        )
        return False
    return True


def _note_tracking(
    session: Session, plugin: Plugin, order: Order, fulfillment: FulfillmentRecord
) -> bool:
    """Tracking of a fulfilment Tradewind records no shipment for, on the order's
    timeline, once for each number."""
    if not fulfillment.tracking_number:
        return False
    tracking = " ".join(
        part
        for part in (fulfillment.carrier, fulfillment.tracking_number, fulfillment.tracking_url)
        if part
    )
    message = f"Shipped from {plugin.name} (fulfillment {fulfillment.external_id}): {tracking}"
    noted = session.scalar(
        select(OrderActivity.id).where(
            OrderActivity.order_id == order.id,
            OrderActivity.kind == "tracking",
            OrderActivity.message == message,
        )
    )
    if noted is not None:
        return False
    orders.add_activity(session, order, "tracking", message)
    return True


def _import_refunds(
    session: Session, plugin: Plugin, rules: ImportRules, order: Order, record: OrderRecord
) -> bool:
    """Refunds of shipped items become returns (received, restocked per the rules, closed),
    unless the plugin's rules switch return sync off. A refund Tradewind made for one of
    its returns (its note carries the return's marker) is that return, never a new one."""
    marked = {
        made_for: refund.external_id
        for refund in record.refunds
        if (made_for := return_exports.marked_return(refund.reason)) is not None
    }
    for return_id in set(marked) & set(_returns_of(session, order) if marked else ()):
        return_exports.link_refund(session, plugin, return_id, marked[return_id])
    if not rules.import_returns:
        return False
    known = set(
        session.scalars(
            select(Return.external_id).where(
                Return.plugin_id == plugin.id, Return.order_id == order.id
            )
        )
    )
    lines = {line.external_id: line for line in order.lines if line.external_id}
    added = False
    for refund in record.refunds:
        if refund.external_id in known or return_exports.marked_return(refund.reason):
            continue
        items = []
        restock = False
        for item in refund.lines:
            line = lines.get(item.line_external_id)
            if line is None:
                continue
            quantity = min(item.quantity, line.shipped_quantity - line.returned_quantity)
            if quantity > 0:  # an unshipped item refunded is a cancellation, not a return
                items.append(ReturnLineIn(order_line_id=line.id, quantity=quantity))
                restock = restock or item.restock
        if not items:
            continue
        if rules.restock_returns is not None:
            restock = rules.restock_returns
        with session.begin_nested():
            created = returns.request_return(
                session,
                order.id,
                ReturnIn(
                    lines=items,
                    reason=refund.reason or "refunded on the platform",
                    restock=restock,
                    plugin_id=plugin.id,
                    external_id=refund.external_id,
                ),
            )
            returns.advance_return(session, created.id, ReturnStatus.RECEIVED)
            returns.advance_return(session, created.id, ReturnStatus.CLOSED)
        added = True
    return added


def _returns_of(session: Session, order: Order) -> list[int]:
    return list(session.scalars(select(Return.id).where(Return.order_id == order.id)))


def lines_in(
    session: Session, plugin: Plugin, record: OrderRecord, lookups: Lookups | None = None
) -> list[OrderLineIn]:
    """The order's lines as the core takes them, each tied to its product where the
    platform's variant is linked."""

    def linked(ref: str) -> int | None:
        if lookups is not None:
            return lookups.variants.get(ref)
        return links.product_for_variant(session, plugin.id, ref)

    return [
        OrderLineIn(
            external_id=line.external_id,
            product_id=linked(line.variant_ref) if line.variant_ref else None,
            sku=line.sku,
            barcode=line.barcode,
            title=line.title,
            quantity=line.quantity,
            unit_price=line.unit_price,
        )
        for line in record.lines
    ]


def to_order_in(
    session: Session,
    plugin: Plugin,
    rules: ImportRules,
    record: OrderRecord,
    lookups: Lookups | None = None,
) -> OrderIn:
    """The core's order of ``record``; ``lookups``: read once for its page."""
    customer_id: int | None = None
    email, generic, customer = (
        lookups.buyer(rules, record) if lookups is not None else buyer(rules, record)
    )
    to_address = lookups.address if lookups is not None else address
    if generic:
        customer_id = lookups.generic if lookups is not None else None
        if customer_id is None:
            customer_id = customers.generic_customer(
                session, f"plugin:{plugin.id}:generic", f"Generic customer ({plugin.name})"
            ).id
            if lookups is not None:
                lookups.generic = customer_id
    return OrderIn(
        external_id=record.external_id,
        number=record.number,
        status=record.status,
        financial_status=record.financial_status,
        fulfillment_status=record.fulfillment_status,
        source=record.source,
        placed_at=record.placed_at,
        currency=record.currency,
        customer_id=customer_id,
        customer=customer,
        email=email if customer is not None or generic else "",
        lines=lines_in(session, plugin, record, lookups),
        subtotal=record.subtotal,
        shipping_total=record.shipping_total,
        tax_total=record.tax_total,
        discount_total=record.discount_total,
        total=record.total,
        billing_address=to_address(record.billing_address) if record.billing_address else None,
        shipping_address=to_address(record.shipping_address) if record.shipping_address else None,
        warehouse_id=lookups.warehouses[record.location_ref]
        if lookups is not None
        else links.warehouse_for_location(session, plugin.id, record.location_ref),
        location_ref=record.location_ref,
        test=record.test,
        note=record.note,
        tags=list(record.tags),
        remote_updated_at=record.updated_at,
        cancel_reason=record.cancel_reason,
    )


def buyer(rules: ImportRules, record: OrderRecord) -> tuple[str, bool, CustomerIn | None]:
    """Who the order's buyer is, without writing: its email, whether the plugin's generic
    customer takes it, and the customer to match or create otherwise (``None``: none,
    or an email that cannot be used — the order is flagged, not refused)."""
    email = record.email or (record.customer.email if record.customer else "")
    generic = rules.pos_orders is PosPolicy.GENERIC and (
        record.source is OrderSource.POS or not email
    )
    if generic or not email:
        return email, generic, None
    source = record.customer
    try:
        customer = CustomerIn(
            email=email,
            first_name=source.first_name if source else "",
            last_name=source.last_name if source else "",
            company=source.company if source else "",
            phone=source.phone if source else "",
            addresses=[address(a) for a in (source.addresses if source else ())],
        )
    except ValidationError:
        return email, generic, None
    return email, generic, customer


def address(record: AddressRecord) -> Address:
    return Address.model_validate(record.model_dump())
