"""Inventory rules.

* Every change of on-hand stock is a movement (receipt, pick, adjustment, transfer,
  return) with a reason and a reference; the sum of a pair's movements is its on-hand.
* On-hand never goes below zero: a pick, transfer or adjustment that would take it there
  is refused with the numbers in the message.
* Reservations hold units for an order line; ``reserved`` is their sum and may exceed
  on-hand (a backorder). Available = on-hand − reserved, never reported below zero.
* Each change records ``inventory.updated`` for the pair, delivered after commit.

Rows are locked in (product, warehouse) order, so concurrent writers on PostgreSQL never
deadlock; a transaction that will change several records' stock takes every lock it needs
up front (``lock_levels``). On SQLite the write transaction itself (``BEGIN IMMEDIATE``)
serializes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from tradewind.core.catalog.models import Product
from tradewind.core.inventory.models import (
    MovementKind,
    Reservation,
    StockLevel,
    StockMovement,
    Warehouse,
)
from tradewind.core.inventory.schemas import Move, MovementIn
from tradewind.db import insert_ignore, utcnow
from tradewind.errors import Conflict, Invalid, NotFound
from tradewind.events import InventoryUpdated, record

Pair = tuple[int, int]  # (product_id, warehouse_id)


# ------------------------------------------------------------------------- warehouses


def create_warehouse(
    session: Session, code: str, name: str | None = None, *, is_default: bool = False
) -> Warehouse:
    code = code.strip()
    if not code:
        raise Invalid("a warehouse needs a code", fields={"code": "required"})
    if session.scalar(select(Warehouse).where(Warehouse.code == code)) is not None:
        raise Conflict(f"warehouse {code!r} already exists", fields={"code": "already exists"})
    first = session.scalar(select(func.count()).select_from(Warehouse)) == 0
    warehouse = Warehouse(code=code, name=(name or code).strip(), is_default=False)
    session.add(warehouse)
    session.flush()
    if is_default or first:
        set_default_warehouse(session, warehouse.id)
    return warehouse


def set_default_warehouse(session: Session, warehouse_id: int) -> Warehouse:
    warehouse = get_warehouse(session, warehouse_id)
    for other in session.scalars(select(Warehouse).where(Warehouse.is_default.is_(True))):
        other.is_default = False
    session.flush()
    warehouse.is_default = True
    session.flush()
    return warehouse


def get_warehouse(session: Session, warehouse_id: int) -> Warehouse:
    warehouse = session.get(Warehouse, warehouse_id)
    if warehouse is None:
        raise NotFound(f"no warehouse with id {warehouse_id}")
    return warehouse


def warehouse_by_ref(session: Session, ref: str) -> Warehouse:
    """A warehouse by code or by id."""
    warehouse = session.scalar(select(Warehouse).where(Warehouse.code == ref.strip()))
    if warehouse is None and ref.strip().isdigit():
        warehouse = session.get(Warehouse, int(ref))
    if warehouse is None:
        raise NotFound(f"no warehouse with code or id {ref!r}")
    return warehouse


def default_warehouse(session: Session) -> Warehouse | None:
    return session.scalar(select(Warehouse).where(Warehouse.is_default.is_(True)))


def list_warehouses(session: Session) -> list[Warehouse]:
    return list(session.scalars(select(Warehouse).order_by(Warehouse.id)))


# -------------------------------------------------------------------------- movements


def receive(
    session: Session,
    product_id: int,
    warehouse_id: int,
    quantity: int,
    *,
    reason: str = "",
    reference: str = "",
) -> StockMovement:
    """Goods arrived: on-hand goes up."""
    _positive(quantity)
    return _move(
        session, MovementKind.RECEIPT, product_id, warehouse_id, quantity, reason, reference
    )


def pick(
    session: Session,
    product_id: int,
    warehouse_id: int,
    quantity: int,
    *,
    reason: str = "",
    reference: str = "",
) -> StockMovement:
    """Goods left the shelf (not for an order line: shipments use ``ship_reserved``)."""
    _positive(quantity)
    return _move(session, MovementKind.PICK, product_id, warehouse_id, -quantity, reason, reference)


def adjust(
    session: Session,
    product_id: int,
    warehouse_id: int,
    delta: int,
    *,
    reason: str,
    reference: str = "",
) -> StockMovement:
    """Correct on-hand by ``delta`` (a count, damage, a found pallet). Needs a reason."""
    if delta == 0:
        raise Invalid("an adjustment must change the quantity", fields={"quantity": "zero"})
    if not reason.strip():
        raise Invalid("an adjustment needs a reason", fields={"reason": "required"})
    return _move(
        session, MovementKind.ADJUSTMENT, product_id, warehouse_id, delta, reason, reference
    )


def count(
    session: Session,
    product_id: int,
    warehouse_id: int,
    counted: int,
    *,
    reason: str = "stock count",
    reference: str = "",
) -> StockMovement | None:
    """Set on-hand to what was counted, as an adjustment; ``None`` when nothing changed."""
    if counted < 0:
        raise Invalid(f"a counted quantity cannot be negative (got {counted})")
    level = _lock_levels(session, [(product_id, warehouse_id)])[(product_id, warehouse_id)]
    delta = counted - level.on_hand
    if delta == 0:
        return None
    return adjust(session, product_id, warehouse_id, delta, reason=reason, reference=reference)


def transfer(
    session: Session,
    product_id: int,
    from_warehouse_id: int,
    to_warehouse_id: int,
    quantity: int,
    *,
    reason: str = "",
    reference: str = "",
) -> tuple[StockMovement, StockMovement]:
    """Move units between warehouses: two movements, out and in, sharing a reference."""
    _positive(quantity)
    if from_warehouse_id == to_warehouse_id:
        raise Invalid("a transfer needs two different warehouses")
    _lock_levels(session, [(product_id, from_warehouse_id), (product_id, to_warehouse_id)])
    reference = reference or f"transfer:{from_warehouse_id}->{to_warehouse_id}"
    out = _move(
        session, MovementKind.TRANSFER, product_id, from_warehouse_id, -quantity, reason, reference
    )
    into = _move(
        session, MovementKind.TRANSFER, product_id, to_warehouse_id, quantity, reason, reference
    )
    return out, into


def restock_return(
    session: Session,
    product_id: int,
    warehouse_id: int,
    quantity: int,
    *,
    reason: str = "",
    reference: str = "",
) -> StockMovement:
    """Returned goods go back on the shelf."""
    _positive(quantity)
    return _move(
        session, MovementKind.RETURN, product_id, warehouse_id, quantity, reason, reference
    )


def record_movement(session: Session, asked: MovementIn) -> list[StockMovement]:
    """One movement as a person asks for it (API, UI and CLI alike): the movements made."""
    product, warehouse, quantity = asked.product_id, asked.warehouse_id, asked.quantity
    options = {"reason": asked.reason, "reference": asked.reference}
    match asked.kind:
        case Move.RECEIPT:
            return [receive(session, product, warehouse, quantity, **options)]
        case Move.PICK:
            return [pick(session, product, warehouse, quantity, **options)]
        case Move.ADJUSTMENT:
            return [adjust(session, product, warehouse, quantity, **options)]
        case Move.RETURN:
            return [restock_return(session, product, warehouse, quantity, **options)]
        case Move.COUNT:
            options["reason"] = asked.reason or "stock count"
            counted = count(session, product, warehouse, quantity, **options)
            return [counted] if counted is not None else []
        case Move.TRANSFER:
            if asked.to_warehouse_id is None:
                needed = {"to_warehouse_id": "required"}
                raise Invalid("a transfer needs to_warehouse_id", fields=needed)
            target = asked.to_warehouse_id
            return list(transfer(session, product, warehouse, target, quantity, **options))


def _move(
    session: Session,
    kind: MovementKind,
    product_id: int,
    warehouse_id: int,
    delta: int,
    reason: str,
    reference: str,
) -> StockMovement:
    """Change on-hand and record the movement; returns the movement (detached).

    One guarded ``UPDATE … RETURNING`` checks and changes on-hand atomically, in one round
    trip; only a missing row or a refusal takes the slow path. Statements are built once
    (this is the hot path of stock imports and order flows)."""
    session.flush()
    now = utcnow()
    after = _apply_delta(session, product_id, warehouse_id, delta, now)
    if after is None:
        level = _lock_levels(session, [(product_id, warehouse_id)])[(product_id, warehouse_id)]
        if level.on_hand + delta < 0:
            product = session.get(Product, product_id)
            warehouse = session.get(Warehouse, warehouse_id)
            sku = product.sku if product else f"#{product_id}"
            code = warehouse.code if warehouse else f"#{warehouse_id}"
            raise Invalid(
                f"{kind.value} of {-delta} × {sku} in {code} refused: only {level.on_hand} "
                "on hand (on-hand may not go below zero)",
                fields={"quantity": "more than on hand"},
            )
        after = _apply_delta(session, product_id, warehouse_id, delta, now)
        session.expire(level)  # it was changed behind the ORM's back
        assert after is not None
    values = {
        "kind": kind.value,
        "product_id": product_id,
        "warehouse_id": warehouse_id,
        "quantity": delta,
        "on_hand_after": after,
        "reason": reason.strip()[:255],
        "reference": reference.strip()[:128],
        "created_at": now,
    }
    movement_id = session.execute(_INSERT_MOVEMENT, values).scalar_one()
    record(session, InventoryUpdated(product_id=product_id, warehouse_id=warehouse_id))
    return StockMovement(id=movement_id, **{**values, "kind": kind})


_LEVELS = cast(Table, StockLevel.__table__)
_APPLY_DELTA = (
    update(_LEVELS)
    .where(
        _LEVELS.c.product_id == bindparam("product"),
        _LEVELS.c.warehouse_id == bindparam("warehouse"),
        _LEVELS.c.on_hand + bindparam("delta") >= 0,
    )
    .values(on_hand=_LEVELS.c.on_hand + bindparam("delta"), updated_at=bindparam("now"))
    .returning(_LEVELS.c.on_hand)
)
_MOVEMENTS = cast(Table, StockMovement.__table__)
_INSERT_MOVEMENT = insert(_MOVEMENTS).returning(_MOVEMENTS.c.id)


def _apply_delta(
    session: Session, product_id: int, warehouse_id: int, delta: int, now: dt.datetime
) -> int | None:
    """Add ``delta`` to on-hand unless that would go below zero; the new on-hand, or
    ``None`` when the row is missing or the change is refused."""
    value = session.execute(
        _APPLY_DELTA,
        {"product": product_id, "warehouse": warehouse_id, "delta": delta, "now": now},
    ).scalar_one_or_none()
    return None if value is None else int(value)


# ----------------------------------------------------------------------- reservations


@dataclass(frozen=True, slots=True)
class Hold:
    """``quantity`` units of a product in a warehouse held for ``holder``; a quantity of
    0 releases whatever the holder holds, wherever (product and warehouse may be None)."""

    holder: str
    product_id: int | None
    warehouse_id: int | None
    quantity: int


def set_reservation(
    session: Session, holder: str, product_id: int, warehouse_id: int, quantity: int
) -> None:
    """Hold exactly ``quantity`` units for ``holder`` (0 releases). Idempotent."""
    set_reservations(session, [Hold(holder, product_id, warehouse_id, quantity)])


def release(session: Session, holder: str) -> None:
    set_reservations(session, [Hold(holder, None, None, 0)])


def set_reservations(session: Session, holds: Iterable[Hold]) -> None:
    """``set_reservation`` for many holders at once (the lines of one order): their
    reservations are read in one query, every stock row they touch is locked once in the
    fixed order, and the changes are written as a few ``executemany`` statements, so an
    order of a thousand lines costs a handful of round trips and no ORM objects."""
    for pair in write_reservations(session, holds):
        record(session, InventoryUpdated(product_id=pair[0], warehouse_id=pair[1]))


def write_reservations(session: Session, holds: Iterable[Hold]) -> list[Pair]:
    """``set_reservations`` without its events: the pairs whose reservations changed, in
    order, for a caller that records ``inventory.updated`` itself (a page of orders,
    each order's pairs where one-by-one imports would have recorded them)."""
    wanted = {hold.holder: hold for hold in holds}
    for hold in wanted.values():
        if hold.quantity < 0:
            raise Invalid(f"a reservation cannot be negative (got {hold.quantity})")
    if not wanted:
        return []
    session.flush()
    held = {
        row.holder: row
        for row in session.execute(
            select(_RESERVATIONS)
            .where(_RESERVATIONS.c.holder.in_(sorted(wanted)))
            .order_by(_RESERVATIONS.c.id)
            .with_for_update()
        )
    }
    deltas: dict[Pair, int] = {}
    added: list[dict[str, object]] = []
    moved: list[dict[str, object]] = []
    dropped: list[int] = []
    for hold in wanted.values():
        current = held.get(hold.holder)
        if current is not None:
            if (current.product_id, current.warehouse_id, current.quantity) == (
                hold.product_id,
                hold.warehouse_id,
                hold.quantity,
            ):
                continue
            pair = (current.product_id, current.warehouse_id)
            deltas[pair] = deltas.get(pair, 0) - current.quantity
        if hold.quantity == 0:
            if current is not None:
                dropped.append(current.id)
            continue
        product_id, warehouse_id = pair = _pair_of(hold)
        deltas[pair] = deltas.get(pair, 0) + hold.quantity
        values = {"product": product_id, "warehouse": warehouse_id, "quantity": hold.quantity}
        if current is None:
            added.append({"holder": hold.holder, **values})
        else:
            moved.append({"reservation": current.id, **values})
    if not deltas:
        return []
    levels = _lock_levels(session, deltas)
    if dropped:
        session.execute(delete(_RESERVATIONS).where(_RESERVATIONS.c.id.in_(dropped)))
    if moved:
        session.execute(_MOVE_RESERVATION, moved)
    if added:
        session.execute(_ADD_RESERVATION, added)
    now = utcnow()
    session.execute(
        _ADD_RESERVED,
        [
            {"product": p, "warehouse": w, "delta": delta, "now": now}
            for (p, w), delta in sorted(deltas.items())
            if delta
        ],
    )
    for pair in sorted(deltas):
        session.expire(levels[pair])  # changed behind the ORM's back
    return sorted(deltas)


_RESERVATIONS = cast(Table, Reservation.__table__)
_ADD_RESERVATION = insert(_RESERVATIONS).values(
    holder=bindparam("holder"),
    product_id=bindparam("product"),
    warehouse_id=bindparam("warehouse"),
    quantity=bindparam("quantity"),
)
_MOVE_RESERVATION = (
    update(_RESERVATIONS)
    .where(_RESERVATIONS.c.id == bindparam("reservation"))
    .values(
        product_id=bindparam("product"),
        warehouse_id=bindparam("warehouse"),
        quantity=bindparam("quantity"),
    )
)
_ADD_RESERVED = (
    update(_LEVELS)
    .where(
        _LEVELS.c.product_id == bindparam("product"),
        _LEVELS.c.warehouse_id == bindparam("warehouse"),
    )
    .values(reserved=_LEVELS.c.reserved + bindparam("delta"), updated_at=bindparam("now"))
)


def _pair_of(hold: Hold) -> Pair:
    if hold.product_id is None or hold.warehouse_id is None:
        raise Invalid(f"a reservation of {hold.quantity} needs a product and a warehouse")
    return hold.product_id, hold.warehouse_id


def reserved_for(session: Session, holder: str) -> int:
    return session.scalar(select(Reservation.quantity).where(Reservation.holder == holder)) or 0


def ship_reserved(
    session: Session,
    holder: str,
    product_id: int,
    warehouse_id: int,
    quantity: int,
    *,
    reference: str,
) -> StockMovement:
    """Units leave for a customer: on-hand goes down and the holder's reservation with it."""
    _positive(quantity)
    movement = _move(
        session, MovementKind.PICK, product_id, warehouse_id, -quantity, "shipped", reference
    )
    current = session.execute(
        select(_RESERVATIONS).where(_RESERVATIONS.c.holder == holder)
    ).one_or_none()
    if current is not None and (current.product_id, current.warehouse_id) == (
        product_id,
        warehouse_id,
    ):
        set_reservation(
            session, holder, product_id, warehouse_id, max(0, current.quantity - quantity)
        )
    return movement


# ---------------------------------------------------------------------------- reading


def levels(
    session: Session,
    *,
    product_ids: Iterable[int] | None = None,
    warehouse_ids: Iterable[int] | None = None,
) -> list[StockLevel]:
    query = (
        select(StockLevel)
        .order_by(StockLevel.product_id, StockLevel.warehouse_id)
        .execution_options(populate_existing=True)
    )
    if product_ids is not None:
        query = query.where(StockLevel.product_id.in_(list(product_ids)))
    if warehouse_ids is not None:
        query = query.where(StockLevel.warehouse_id.in_(list(warehouse_ids)))
    return list(session.scalars(query))


def level(session: Session, product_id: int, warehouse_id: int) -> StockLevel | None:
    return session.scalar(
        select(StockLevel)
        .where(StockLevel.product_id == product_id, StockLevel.warehouse_id == warehouse_id)
        .execution_options(populate_existing=True)
    )


def available(session: Session, product_id: int, warehouse_ids: Sequence[int]) -> int:
    """Sellable units of a product across ``warehouse_ids`` (each clamped at zero)."""
    return sum(
        row.available
        for row in levels(session, product_ids=[product_id], warehouse_ids=warehouse_ids)
    )


def movements(
    session: Session,
    *,
    product_id: int | None = None,
    warehouse_id: int | None = None,
    before_id: int = 0,
    limit: int = 100,
) -> list[StockMovement]:
    """Newest first; ``before_id`` continues a previous page."""
    query = select(StockMovement).order_by(StockMovement.id.desc()).limit(limit)
    if before_id:
        query = query.where(StockMovement.id < before_id)
    if product_id is not None:
        query = query.where(StockMovement.product_id == product_id)
    if warehouse_id is not None:
        query = query.where(StockMovement.warehouse_id == warehouse_id)
    return list(session.scalars(query))


# ---------------------------------------------------------------------------- helpers


def _positive(quantity: int) -> None:
    if quantity <= 0:
        raise Invalid(f"quantity must be a positive whole number (got {quantity})")


def lock_levels(session: Session, pairs: Iterable[Pair]) -> None:
    """Lock the existing stock rows of ``pairs`` in the one global order, (product,
    warehouse), before a transaction changes any of them. A transaction that changes
    several records one after the other (a batch of imported orders) would otherwise lock
    their rows in the records' order, and two such transactions lock the same rows in
    opposite orders: a deadlock. Locking a superset is harmless; rows that do not exist
    yet are not created."""
    ordered = sorted(set(pairs))
    session.flush()
    for start in range(0, len(ordered), 500):  # in order, chunk after chunk
        _select_levels(session, ordered[start : start + 500])


def _lock_levels(session: Session, pairs: Iterable[Pair]) -> dict[Pair, StockLevel]:
    """The stock rows for ``pairs``, created if missing and locked in a fixed order."""
    ordered = sorted(set(pairs))
    session.flush()
    found = _select_levels(session, ordered)
    missing = [pair for pair in ordered if pair not in found]
    if not missing:
        return found
    _must_exist(session, Product, "product", {product_id for product_id, _ in missing})
    _must_exist(session, Warehouse, "warehouse", {warehouse_id for _, warehouse_id in missing})
    insert_ignore(
        session,
        StockLevel.__table__,
        [{"product_id": p, "warehouse_id": w, "on_hand": 0, "reserved": 0} for p, w in missing],
        conflict_columns=["product_id", "warehouse_id"],
    )
    return _select_levels(session, ordered)


def _must_exist(
    session: Session, model: type[Product] | type[Warehouse], noun: str, ids: set[int]
) -> None:
    """Refuse unless every id of ``ids`` is a row of ``model`` (one query for them all)."""
    found = set(session.scalars(select(model.id).where(model.id.in_(sorted(ids)))))
    if ids - found:
        raise NotFound(f"no {noun} with id {min(ids - found)}")


def _select_levels(session: Session, ordered: list[Pair]) -> dict[Pair, StockLevel]:
    condition: ColumnElement[bool]
    if len(ordered) == 1:  # the common case, as a cacheable statement
        ((product_id, warehouse_id),) = ordered
        condition = (StockLevel.product_id == product_id) & (
            StockLevel.warehouse_id == warehouse_id
        )
    else:
        condition = tuple_(StockLevel.product_id, StockLevel.warehouse_id).in_(ordered)
    rows = session.scalars(
        select(StockLevel)
        .where(condition)
        .order_by(StockLevel.product_id, StockLevel.warehouse_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {(row.product_id, row.warehouse_id): row for row in rows}
