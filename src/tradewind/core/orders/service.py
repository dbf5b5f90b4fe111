"""Order rules.

* An order is unique per (plugin, external id): importing it again updates it, never
  duplicates it, and an older copy of it (by the platform's ``updated_at``) changes
  nothing.
* A plugin imports orders only into its one attached channel; with Import Orders on and
  not exactly one channel it is in import conflict and import refuses to run.
* Matched lines reserve stock in the order's warehouse while the order is open; cancelling
  or closing releases what has not shipped. Reservations are *set*, never added, so
  re-processing an order is idempotent.
* A line whose SKU matches nothing keeps the order: the line keeps its SKU as text, the
  order is flagged *missing product*, and the line is matched and reserved by itself once
  a product with that SKU or barcode exists.
* A manual order (the order wizard) goes through the same code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from pydantic import ValidationError
from sqlalchemy import ColumnDefault, Table, and_, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from tradewind.core.catalog.models import Product, sku_key
from tradewind.core.catalog.service import find_by_barcode
from tradewind.core.channels import service as channels
from tradewind.core.customers import service as customers
from tradewind.core.customers.schemas import Address, CustomerIn
from tradewind.core.inventory import service as inventory
from tradewind.core.orders import attention, lines
from tradewind.core.orders.models import (
    FinancialStatus,
    FulfillmentStatus,
    Order,
    OrderActivity,
    OrderLine,
    OrderPayment,
    OrderSource,
    OrderStatus,
)
from tradewind.core.orders.schemas import (
    MAX_IMPORTED_LINES,
    MAX_LINES,
    ImportOptions,
    OrderIn,
)
from tradewind.core.plugins import service as plugins
from tradewind.db import keep, utcnow
from tradewind.errors import Invalid, NotFound
from tradewind.events import (
    InventoryUpdated,
    OrderCancelled,
    OrderCreated,
    OrderUpdated,
    record,
)

_HEADER = (
    "number",
    "financial_status",
    "fulfillment_status",
    "source",
    "currency",
    "email",
    "shipping_total",
    "tax_total",
    "discount_total",
    "location_ref",
    "test",
    "note",
    "tags",
)


@dataclass(frozen=True, slots=True)
class ImportResult:
    order: Order
    created: bool
    changed: bool


# ---------------------------------------------------------------------------- reading


def get_order(session: Session, order_id: int) -> Order:
    # populate_existing: an order already in the session (found by a look-up without its
    # lines) comes back with its lines loaded, usable after the session closes.
    order = session.get(
        Order, order_id, options=[selectinload(Order.lines)], populate_existing=True
    )
    if order is None:
        raise NotFound(f"no order with id {order_id}")
    return order


def channel_of(session: Session, order_id: int) -> int:
    """The channel of an order (without reading the order and its lines)."""
    channel_id = session.scalar(select(Order.channel_id).where(Order.id == order_id))
    if channel_id is None:
        raise NotFound(f"no order with id {order_id}")
    return channel_id


def find_imported(session: Session, plugin_id: int, external_id: str) -> Order | None:
    return session.scalar(
        select(Order).where(Order.plugin_id == plugin_id, Order.external_id == external_id)
    )


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page of the order list ended: its last order's placed_at and id."""

    placed_at: dt.datetime
    id: int

    @classmethod
    def of(cls, order: Order) -> Position:
        return cls(order.placed_at, order.id)


def list_orders(
    session: Session,
    *,
    channel_id: int | None = None,
    plugin_id: int | None = None,
    status: OrderStatus | None = None,
    missing_product: bool | None = None,
    search: str | None = None,
    after: Position | None = None,
    limit: int = 100,
) -> list[Order]:
    """Newest first (by when they were placed, then by id); ``after`` continues a previous
    page from its last order, so orders arriving meanwhile shift nothing."""
    query = select(Order).order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit)
    if after is not None:
        query = query.where(
            or_(
                Order.placed_at < after.placed_at,
                and_(Order.placed_at == after.placed_at, Order.id < after.id),
            )
        )
    if channel_id is not None:
        query = query.where(Order.channel_id == channel_id)
    if plugin_id is not None:
        query = query.where(Order.plugin_id == plugin_id)
    if status is not None:
        query = query.where(Order.status == status)
    if missing_product is not None:
        query = query.where(Order.missing_product.is_(missing_product))
    if search:
        query = query.where(
            or_(Order.number.contains(search.strip()), Order.email.contains(search.strip()))
        )
    return list(session.scalars(query))


def activities(session: Session, order_id: int) -> list[OrderActivity]:
    return list(
        session.scalars(
            select(OrderActivity)
            .where(OrderActivity.order_id == order_id)
            .order_by(OrderActivity.occurred_at, OrderActivity.id)
        )
    )


# ---------------------------------------------------------------------------- writing


def import_order(
    session: Session,
    plugin_id: int,
    data: OrderIn,
    options: ImportOptions | None = None,
) -> ImportResult:
    """Create or update the order ``data.external_id`` of ``plugin_id`` in its channel."""
    options = options or ImportOptions()
    if not data.external_id:
        raise Invalid(
            "an imported order needs the platform's id", fields={"external_id": "required"}
        )
    _check_size(data, MAX_IMPORTED_LINES, "an imported order")
    existing = _locked_order(session, plugin_id, data.external_id)
    if existing is not None and existing.exported_at is not None:
        # Made here and sent to the platform (Export Orders): what happens to it there
        # flows back whatever the plugin imports.
        return _update(session, existing, data, options)
    channel = plugins.import_channel(session, plugin_id)  # refuses on import conflict
    if existing is not None:
        return _update(session, existing, data, options)
    try:
        with session.begin_nested():
            order = _create(session, channel.id, plugin_id, data, options)
    except IntegrityError:
        # Another worker created it between our look-up and insert: update theirs.
        raced = _locked_order(session, plugin_id, data.external_id)
        if raced is None:
            raise
        return _update(session, raced, data, options)
    return ImportResult(order=order, created=True, changed=True)


def create_imported(
    session: Session,
    plugin_id: int,
    page: Sequence[OrderIn],
    options: ImportOptions | None = None,
    *,
    then: Callable[[int, Order], None] | None = None,
) -> list[Order]:
    """Create the orders of a page, every one new to ``plugin_id`` (the caller checked),
    in a few statements for the whole page instead of a round trip per order: the
    products of every line matched at once, the buyers matched or created at once, the
    orders, their lines and their activities inserted as one statement each, and the
    reservations of the page written at once (the stock rows were locked up front). What
    one ``import_order`` after the other would record — activities, notifications,
    events — is recorded order by order in the same sequence; ``then(position, order)``
    runs after each order's own, where a caller adds what it adds to each order one by
    one. Refuses (raises) as the first refused order would: the caller, in a savepoint,
    falls back to one by one."""
    options = options or ImportOptions()
    if not page:
        return []
    for data in page:
        if not data.external_id:
            raise Invalid(
                "an imported order needs the platform's id", fields={"external_id": "required"}
            )
        _check_size(data, MAX_IMPORTED_LINES, "an imported order")
    channel = plugins.import_channel(session, plugin_id)  # refuses on import conflict
    default = _default_warehouse_id(session) if any(not d.warehouse_id for d in page) else None
    products = iter(lines.match_all(session, [line for d in page for line in d.lines], options))
    for customer_id in sorted({d.customer_id for d in page if d.customer_id is not None}):
        customers.get_customer(session, customer_id)
    buyers = [None if d.customer_id is not None else _buyer(d) for d in page]
    matched = iter(customers.match_or_create_many(session, [b for b in buyers if b is not None]))
    now = utcnow()
    drafts: list[tuple[Order, customers.Matched | None]] = []
    for data, buyer in zip(page, buyers, strict=True):
        # A draft, never added to the session: it works out the row as _create would.
        draft = Order(
            channel_id=channel.id,
            plugin_id=plugin_id,
            external_id=data.external_id,
            number=data.number or "",
            status=OrderStatus.OPEN,
            placed_at=data.placed_at or now,
            warehouse_id=data.warehouse_id or default,
            remote_updated_at=data.remote_updated_at,
            customer_id=data.customer_id,
            cancelled_at=None,
            cancel_reason="",
            exported_at=None,
            created_at=now,
            updated_at=now,
            **{field: getattr(data, field) for field in _HEADER if field != "number"},
        )
        draft.billing_address = _address(data.billing_address)
        draft.shipping_address = _address(data.shipping_address)
        draft.lines = [lines.new_line(line_in, next(products)) for line_in in data.lines]
        _set_totals(draft, data)
        found = next(matched) if buyer is not None else None
        if found is not None:
            draft.customer_id = found.customer.id
            if not draft.email:
                draft.email = found.customer.email or ""
        draft.missing_customer_fields = attention.missing_customer_fields(draft)
        _flag(draft)
        if data.status is not OrderStatus.OPEN:
            _status_fields(draft, data.status, data.cancel_reason)
        drafts.append((draft, found))
    session.execute(insert(_ORDERS), [_row(Order, draft) for draft, _ in drafts])
    keys = [draft.external_id for draft, _ in drafts]
    ids: dict[str | None, int] = {
        external_id: order_id
        for external_id, order_id in session.execute(
            select(Order.external_id, Order.id).where(
                Order.plugin_id == plugin_id, Order.external_id.in_(keys)
            )
        )
    }
    rows = [
        {**_row(OrderLine, line), "order_id": ids[draft.external_id]}
        for draft, _ in drafts
        for line in draft.lines
    ]
    if rows:
        session.execute(insert(_LINES), rows)
    loaded = {
        order.external_id: order
        for order in session.scalars(
            select(Order).where(Order.id.in_(list(ids.values()))).options(selectinload(Order.lines))
        )
    }
    made = [loaded[key] for key in keys]
    keep(session, made)  # the triggers before commit read each again by id
    for order in made:
        if not order.number:
            order.number = f"TW{1000 + order.id}"
    holds = [_holds(order) for order in made]
    inventory.write_reservations(session, [hold for order_holds in holds for hold in order_holds])
    notes: list[dict[str, object]] = []

    def note(order: Order, kind: str, message: str) -> None:
        notes.append(
            {"order_id": order.id, "kind": kind, "message": message, "occurred_at": utcnow()}
        )

    for position, (order, (_, found), order_holds) in enumerate(
        zip(made, drafts, holds, strict=True)
    ):
        data = page[position]
        if found is not None and found.event is not None:
            record(session, found.event)
        note(order, "created", f"Order {order.number} imported from plugin #{plugin_id}.")
        _note_missing(order, note)
        if data.status is not OrderStatus.OPEN:
            _status_noted(session, order, OrderStatus.OPEN, data.status, data.cancel_reason, note)
        held: set[tuple[int, int]] = {
            (h.product_id, h.warehouse_id)
            for h in order_holds
            if h.quantity and h.product_id is not None and h.warehouse_id is not None
        }
        for product_id, warehouse_id in sorted(held):
            record(session, InventoryUpdated(product_id=product_id, warehouse_id=warehouse_id))
        attention.refresh_notifications(session, order, new=True)
        record(session, OrderCreated(order_id=order.id))
        if then is not None:
            then(position, order)
    if notes:
        session.execute(insert(_ACTIVITIES), notes)
    session.flush()
    return made


# Tables, not mappers: the ORM's bulk insert checks every row's keys, which costs more
# than the insert of a page.
_ORDERS = cast(Table, Order.__table__)
_LINES = cast(Table, OrderLine.__table__)
_ACTIVITIES = cast(Table, OrderActivity.__table__)


def _row(model: type[Order] | type[OrderLine], draft: Order | OrderLine) -> dict[str, object]:
    """A draft's column values, as the row to insert (its id left to the database, what
    it leaves unset given the column's default, as a flush would)."""
    row: dict[str, object] = {}
    for column in model.__table__.columns:
        if column.key in ("id", "order_id"):
            continue
        value = getattr(draft, column.key)
        default = column.default
        if value is None and isinstance(default, ColumnDefault):
            value = default.arg(None) if default.is_callable else default.arg
        row[column.key] = value
    return row


def create_manual_order(session: Session, channel_id: int, data: OrderIn) -> Order:
    """The order wizard: an order made in Tradewind for ``channel_id``."""
    _check_size(data, MAX_LINES, "an order made in Tradewind")
    channels.get_channel(session, channel_id)
    manual = data.model_copy(update={"source": OrderSource.MANUAL, "external_id": None})
    return _create(session, channel_id, None, manual, ImportOptions())


def cancel_order(session: Session, order_id: int, reason: str = "") -> Order:
    order = _lock(session, order_id)
    if order.status is OrderStatus.CANCELLED:
        return order
    _set_status(session, order, OrderStatus.CANCELLED, reason, here=True)
    _after_change(session, order)
    return order


def close_order(session: Session, order_id: int) -> Order:
    order = _lock(session, order_id)
    if order.status is OrderStatus.CANCELLED:
        raise Invalid(f"order {order.number} is cancelled and cannot be closed")
    if order.status is OrderStatus.OPEN:
        _set_status(session, order, OrderStatus.CLOSED, "")
        _after_change(session, order)
    return order


def rematch_lines(session: Session, product_ids: Iterable[int]) -> list[Order]:
    """Match unmatched lines of open orders to ``product_ids`` by SKU or barcode, reserve
    their stock and clear *missing product* where nothing is left unmatched."""
    products = list(session.scalars(select(Product).where(Product.id.in_(list(product_ids)))))
    if not products:
        return []
    keys = {product.sku_key: product for product in products}
    barcodes: dict[str, Product] = {}
    for product in products:
        if product.barcode:
            barcodes[product.barcode] = product
    conditions = [OrderLine.sku_key.in_(list(keys))]
    if barcodes:
        conditions.append(OrderLine.barcode.in_(list(barcodes)))
    waiting = session.scalars(
        select(OrderLine)
        .join(Order)
        .where(OrderLine.product_id.is_(None), Order.status == OrderStatus.OPEN, or_(*conditions))
        .order_by(OrderLine.order_id)
    ).all()
    # A barcode shared by several products identifies none of them.
    barcodes = {
        code: product
        for code, product in barcodes.items()
        if len(find_by_barcode(session, code)) == 1
    }
    touched: dict[int, Order] = {}
    for line in waiting:
        match = keys.get(line.sku_key) or barcodes.get(line.barcode)
        if match is None:
            continue
        order = touched.get(line.order_id) or _lock(session, line.order_id)
        line.product_id = match.id
        _activity(
            session,
            order,
            "line_matched",
            f"Line {line.sku or line.barcode} matched to product {match.sku}; stock reserved.",
        )
        touched[order.id] = order
    for order in touched.values():
        _after_change(session, order)
    return list(touched.values())


def assign_product(
    session: Session, sku: str, product_id: int, *, plugin_id: int | None = None
) -> list[Order]:
    """Map a SKU that matches no product to ``product_id`` on the open orders waiting for
    it (the *missing product* fix when the catalog knows the article under another SKU):
    each line is matched, reserved and noted on its order's timeline, and the notification
    clears once no line waits. Returns the orders changed."""
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(f"no product with id {product_id}")
    key = sku_key(sku)
    if not key:
        raise Invalid("a SKU is needed", fields={"sku": "required"})
    query = (
        select(OrderLine)
        .join(Order)
        .where(
            OrderLine.product_id.is_(None),
            OrderLine.sku_key == key,
            Order.status == OrderStatus.OPEN,
        )
        .order_by(OrderLine.order_id, OrderLine.id)
    )
    if plugin_id is not None:
        query = query.where(Order.plugin_id == plugin_id)
    touched: dict[int, Order] = {}
    for line in session.scalars(query).all():
        order = touched.get(line.order_id) or _lock(session, line.order_id)
        line.product_id = product.id
        _activity(
            session,
            order,
            "line_matched",
            f"Line {line.sku} mapped to product {product.sku}; stock reserved.",
        )
        touched[order.id] = order
    for order in touched.values():
        _after_change(session, order)
        record(session, OrderUpdated(order_id=order.id))
    return list(touched.values())


def sync_reservations(session: Session, order: Order) -> None:
    """Hold exactly the unshipped units of each matched line while the order is open."""
    inventory.set_reservations(session, _holds(order))


def refresh_fulfillment(order: Order) -> None:
    """Derive the fulfillment status from what has shipped."""
    ordered = sum(line.quantity for line in order.lines)
    shipped = sum(min(line.shipped_quantity, line.quantity) for line in order.lines)
    if ordered and shipped >= ordered:
        order.fulfillment_status = FulfillmentStatus.FULFILLED
    elif shipped:
        order.fulfillment_status = FulfillmentStatus.PARTIALLY_FULFILLED
    else:
        order.fulfillment_status = FulfillmentStatus.UNFULFILLED


def add_activity(session: Session, order: Order, kind: str, message: str) -> None:
    _activity(session, order, kind, message)


# ---------------------------------------------------------------------------- helpers


def _check_size(data: OrderIn, limit: int, what: str) -> None:
    if len(data.lines) > limit:
        raise Invalid(
            f"{what} has at most {limit:,} lines; this one has {len(data.lines):,}",
            fields={"lines": f"at most {limit} lines"},
        )


def _create(
    session: Session,
    channel_id: int,
    plugin_id: int | None,
    data: OrderIn,
    options: ImportOptions,
) -> Order:
    warehouse_id = data.warehouse_id or _default_warehouse_id(session)
    order = Order(
        channel_id=channel_id,
        plugin_id=plugin_id,
        external_id=data.external_id,
        number=data.number or "",
        status=OrderStatus.OPEN,
        placed_at=data.placed_at or utcnow(),
        warehouse_id=warehouse_id,
        remote_updated_at=data.remote_updated_at,
        **{field: getattr(data, field) for field in _HEADER if field != "number"},
    )
    order.billing_address = _address(data.billing_address)
    order.shipping_address = _address(data.shipping_address)
    session.add(order)
    session.flush()
    if not order.number:
        order.number = f"TW{1000 + order.id}"
    for line_in, product in zip(
        data.lines, lines.match_all(session, data.lines, options), strict=True
    ):
        order.lines.append(lines.new_line(line_in, product))
    _set_totals(order, data)
    _resolve_customer(session, order, data)
    session.flush()
    origin = "created in Tradewind" if plugin_id is None else f"imported from plugin #{plugin_id}"
    _activity(session, order, "created", f"Order {order.number} {origin}.")
    _note_missing(order, _noter(session))
    if data.status is not OrderStatus.OPEN:
        _set_status(session, order, data.status, data.cancel_reason)
    _after_change(session, order, new=True)
    record(session, OrderCreated(order_id=order.id))
    return order


def _update(session: Session, order: Order, data: OrderIn, options: ImportOptions) -> ImportResult:
    if (
        data.remote_updated_at is not None
        and order.remote_updated_at is not None
        and data.remote_updated_at < order.remote_updated_at
    ):
        return ImportResult(order=order, created=False, changed=False)
    changes: list[str] = []
    for field in _HEADER:
        value = getattr(data, field)
        if field == "number" and not value:
            continue
        if field == "financial_status" and _paid_here_stands(session, order, value):
            continue
        if getattr(order, field) != value:
            changes.append(field)
            setattr(order, field, value)
    for field in ("billing_address", "shipping_address"):
        value = _address(getattr(data, field))
        if value is not None and getattr(order, field) != value:
            changes.append(field)
            setattr(order, field, value)
    if data.warehouse_id and data.warehouse_id != order.warehouse_id:
        order.warehouse_id = data.warehouse_id
        changes.append("warehouse")
    changes += lines.merge_lines(session, order, data.lines, options)
    if data.remote_updated_at is not None:
        order.remote_updated_at = data.remote_updated_at
    had_customer = order.customer_id is not None
    if not had_customer:
        _resolve_customer(session, order, data)
        if order.customer_id is not None:
            changes.append("customer")
    if data.status is not order.status and order.status is not OrderStatus.CANCELLED:
        changes.append("status")
        _set_status(session, order, data.status, data.cancel_reason)
    if not changes:
        return ImportResult(order=order, created=False, changed=False)
    _set_totals(order, data)
    _activity(session, order, "updated", f"Updated from the platform: {', '.join(changes)}.")
    _after_change(session, order)
    record(session, OrderUpdated(order_id=order.id))
    return ImportResult(order=order, created=False, changed=True)


def _set_totals(order: Order, data: OrderIn) -> None:
    lines_total = sum((line.unit_price * line.quantity for line in order.lines), start=Decimal("0"))
    order.subtotal = data.subtotal if data.subtotal is not None else lines_total
    order.total = (
        data.total
        if data.total is not None
        else order.subtotal + order.shipping_total + order.tax_total - order.discount_total
    )


def _resolve_customer(session: Session, order: Order, data: OrderIn) -> None:
    if data.customer_id is not None:
        customers.get_customer(session, data.customer_id)
        order.customer_id = data.customer_id
    else:
        customer_in = _buyer(data)
        if customer_in is not None:
            customer, _ = customers.match_or_create(session, customer_in)
            order.customer_id = customer.id
            if not order.email:
                order.email = customer.email or ""
    order.missing_customer_fields = attention.missing_customer_fields(order)


Note = Callable[[Order, str, str], None]


def _note_missing(order: Order, note: Note) -> None:
    for line in order.lines:
        if line.product_id is None and (line.sku_key or line.barcode):
            note(
                order,
                "missing_product",
                f"Line {line.sku or line.barcode} matches no product; kept unreserved until "
                "a product with that SKU or barcode exists.",
            )


def _buyer(data: OrderIn) -> CustomerIn | None:
    """The customer ``data`` names, as ``_resolve_customer`` matches it (``None``: none)."""
    customer_in = data.customer
    if customer_in is None and data.email:
        shipping = data.shipping_address or data.billing_address
        try:
            customer_in = CustomerIn(
                email=data.email,
                first_name=shipping.first_name if shipping else "",
                last_name=shipping.last_name if shipping else "",
            )
        except ValidationError:
            customer_in = None
    return customer_in if customer_in is not None and customer_in.email else None


def _flag(order: Order) -> None:
    order.missing_product = any(
        line.product_id is None and line.quantity > 0 and (line.sku_key or line.barcode)
        for line in order.lines
    )
    refresh_fulfillment(order)


def _holds(order: Order) -> list[inventory.Hold]:
    """What each of the order's lines should hold: its unshipped units while the order is
    open and the line matched, nothing otherwise."""
    holding = order.status is OrderStatus.OPEN and order.warehouse_id is not None
    return [
        inventory.Hold(
            line.holder,
            line.product_id,
            order.warehouse_id,
            line.unshipped if holding and line.product_id else 0,
        )
        for line in order.lines
    ]


def _status_fields(order: Order, status: OrderStatus, reason: str) -> None:
    order.status = status
    if status is OrderStatus.CANCELLED:
        order.cancelled_at = utcnow()
        order.cancel_reason = reason[:255]


def _status_noted(
    session: Session,
    order: Order,
    previous: OrderStatus,
    status: OrderStatus,
    reason: str,
    note: Note,
    *,
    here: bool = False,
) -> None:
    if status is OrderStatus.CANCELLED:
        record(session, OrderCancelled(order_id=order.id, here=here))
        note(
            order,
            "cancelled",
            f"Cancelled{f' ({reason})' if reason else ''}; unshipped reservations released.",
        )
    else:
        note(order, "status", f"Status {previous.value} → {status.value}.")


def _set_status(
    session: Session, order: Order, status: OrderStatus, reason: str, *, here: bool = False
) -> None:
    previous = order.status
    _status_fields(order, status, reason)
    _status_noted(session, order, previous, status, reason, _noter(session), here=here)


def _paid_here_stands(session: Session, order: Order, platform: FinancialStatus) -> bool:
    """A payment recorded in Tradewind is not undone by the platform's copy of the order
    still saying it is unpaid."""
    return (
        platform in (FinancialStatus.PENDING, FinancialStatus.AUTHORIZED)
        and order.financial_status in (FinancialStatus.PAID, FinancialStatus.PARTIALLY_PAID)
        and session.scalar(
            select(OrderPayment.id).where(OrderPayment.order_id == order.id).limit(1)
        )
        is not None
    )


def _after_change(session: Session, order: Order, *, new: bool = False) -> None:
    session.flush()
    order.missing_product = any(
        line.product_id is None and line.quantity > 0 and (line.sku_key or line.barcode)
        for line in order.lines
    )
    refresh_fulfillment(order)
    sync_reservations(session, order)
    attention.refresh_notifications(session, order, new=new)
    session.flush()


def _locked_order(session: Session, plugin_id: int, external_id: str) -> Order | None:
    return session.scalar(
        select(Order)
        .where(Order.plugin_id == plugin_id, Order.external_id == external_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def changed_here(session: Session, order: Order, message: str) -> None:
    """An order changed by a person in Tradewind: its timeline says what, its flags and
    notifications are worked out again (a fixed one resolves), and ``order.updated`` is
    sent."""
    _activity(session, order, "edited", message)
    _after_change(session, order)
    record(session, OrderUpdated(order_id=order.id))


def lock_order(session: Session, order_id: int) -> Order:
    """The order, its row locked for the transaction (read afresh)."""
    return _lock(session, order_id)


def _lock(session: Session, order_id: int) -> Order:
    session.flush()
    order = session.scalar(
        select(Order)
        .where(Order.id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is None:
        raise NotFound(f"no order with id {order_id}")
    return order


def _activity(session: Session, order: Order, kind: str, message: str) -> None:
    session.add(OrderActivity(order_id=order.id, kind=kind, message=message))


def _noter(session: Session) -> Note:
    return lambda order, kind, message: _activity(session, order, kind, message)


def _address(address: Address | None) -> dict[str, str] | None:
    return address.model_dump() if address is not None else None


def _default_warehouse_id(session: Session) -> int | None:
    warehouse = inventory.default_warehouse(session)
    return warehouse.id if warehouse else None
