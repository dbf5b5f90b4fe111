"""Inventory: movements, refusals below zero, reservations and inventory.updated."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from tests import factories
from tradewind.core.inventory import service as inventory
from tradewind.core.inventory.models import MovementKind
from tradewind.core.inventory.schemas import Move, MovementIn
from tradewind.db import Database
from tradewind.errors import Invalid
from tradewind.events import DomainEvent, InventoryUpdated


@pytest.fixture
def stocked(db: Database) -> tuple[int, int, int]:
    with db.unit_of_work() as session:
        product = factories.product(session, "MUG")
        main = factories.warehouse(session, "MAIN")
        east = factories.warehouse(session, "EAST")
        inventory.receive(session, product.id, main.id, 10, reason="PO 1", reference="po:1")
    return product.id, main.id, east.id


def test_each_kind_of_movement_changes_on_hand_and_is_recorded(
    db: Database, stocked: tuple[int, int, int]
) -> None:
    product, main, east = stocked
    with db.unit_of_work() as session:
        inventory.pick(session, product, main, 2, reason="sample")
        inventory.adjust(session, product, main, -1, reason="damaged")
        inventory.transfer(session, product, main, east, 3)
        inventory.restock_return(session, product, east, 1, reason="return")
        inventory.count(session, product, east, 5, reason="cycle count")
    with db.read() as session:
        levels = {lvl.warehouse_id: lvl.on_hand for lvl in inventory.levels(session)}
        assert levels == {main: 4, east: 5}
        kinds = [m.kind for m in reversed(inventory.movements(session, product_id=product))]
        assert kinds == [
            MovementKind.RECEIPT,
            MovementKind.PICK,
            MovementKind.ADJUSTMENT,
            MovementKind.TRANSFER,
            MovementKind.TRANSFER,
            MovementKind.RETURN,
            MovementKind.ADJUSTMENT,
        ]
        for warehouse in (main, east):
            moves = inventory.movements(session, product_id=product, warehouse_id=warehouse)
            assert sum(m.quantity for m in moves) == levels[warehouse]
            assert moves[0].on_hand_after == levels[warehouse]


@pytest.mark.parametrize(
    ("move", "quantity", "made", "on_hand"),
    [
        (Move.RECEIPT, 4, [MovementKind.RECEIPT], {"main": 14, "east": 0}),
        (Move.PICK, 4, [MovementKind.PICK], {"main": 6, "east": 0}),
        (Move.ADJUSTMENT, -4, [MovementKind.ADJUSTMENT], {"main": 6, "east": 0}),
        (Move.RETURN, 4, [MovementKind.RETURN], {"main": 14, "east": 0}),
        (Move.COUNT, 7, [MovementKind.ADJUSTMENT], {"main": 7, "east": 0}),
        (Move.COUNT, 10, [], {"main": 10, "east": 0}),
        (Move.TRANSFER, 4, [MovementKind.TRANSFER] * 2, {"main": 6, "east": 4}),
    ],
)
def test_a_movement_asked_for_is_the_movements_it_names(
    db: Database,
    stocked: tuple[int, int, int],
    move: Move,
    quantity: int,
    made: list[MovementKind],
    on_hand: dict[str, int],
) -> None:
    product, main, east = stocked
    asked = MovementIn(
        kind=move,
        product_id=product,
        warehouse_id=main,
        to_warehouse_id=east if move is Move.TRANSFER else None,
        quantity=quantity,
        reason="asked",
    )
    with db.unit_of_work() as session:
        moved = inventory.record_movement(session, asked)
    assert [m.kind for m in moved] == made
    with db.read() as session:
        levels = {lvl.warehouse_id: lvl.on_hand for lvl in inventory.levels(session)}
    assert {"main": levels.get(main, 0), "east": levels.get(east, 0)} == on_hand


def test_a_transfer_asked_for_needs_its_destination(
    db: Database, stocked: tuple[int, int, int]
) -> None:
    product, main, _east = stocked
    asked = MovementIn(kind=Move.TRANSFER, product_id=product, warehouse_id=main, quantity=1)
    with db.unit_of_work() as session, pytest.raises(Invalid, match="to_warehouse_id"):
        inventory.record_movement(session, asked)


@pytest.mark.parametrize(
    "action",
    [
        lambda s, p, w, e: inventory.adjust(s, p, w, -11, reason="count"),
        lambda s, p, w, e: inventory.pick(s, p, w, 11),
        lambda s, p, w, e: inventory.transfer(s, p, w, e, 11),
    ],
    ids=["adjustment", "pick", "transfer"],
)
def test_nothing_takes_on_hand_below_zero(
    db: Database,
    stocked: tuple[int, int, int],
    action: Callable[[Session, int, int, int], object],
) -> None:
    product, main, east = stocked
    with pytest.raises(Invalid, match="only 10 on hand"), db.unit_of_work() as session:
        action(session, product, main, east)
    with db.read() as session:
        level = inventory.level(session, product, main)
        assert level is not None and level.on_hand == 10
        assert len(inventory.movements(session, product_id=product)) == 1


@pytest.mark.parametrize("bad", [0, -3])
def test_quantities_must_be_positive(db: Database, stocked: tuple[int, int, int], bad: int) -> None:
    product, main, _ = stocked
    with pytest.raises(Invalid, match="positive"), db.unit_of_work() as session:
        inventory.receive(session, product, main, bad)


def test_adjustments_need_a_reason(db: Database, stocked: tuple[int, int, int]) -> None:
    product, main, _ = stocked
    with pytest.raises(Invalid, match="reason"), db.unit_of_work() as session:
        inventory.adjust(session, product, main, 1, reason=" ")


def test_reservations_are_set_not_added_and_available_never_goes_negative(
    db: Database, stocked: tuple[int, int, int]
) -> None:
    product, main, east = stocked
    with db.unit_of_work() as session:
        inventory.set_reservation(session, "order-line:1", product, main, 4)
        inventory.set_reservation(session, "order-line:1", product, main, 4)  # idempotent
        inventory.set_reservation(session, "order-line:2", product, main, 9)  # backorder
    with db.read() as session:
        level = inventory.level(session, product, main)
        assert level is not None
        assert (level.on_hand, level.reserved, level.available, level.shortfall) == (10, 13, 0, 3)
    with db.unit_of_work() as session:
        inventory.set_reservation(session, "order-line:2", product, east, 2)  # moved warehouse
        inventory.release(session, "order-line:1")
    with db.read() as session:
        assert inventory.level(session, product, main).reserved == 0  # type: ignore[union-attr]
        assert inventory.level(session, product, east).reserved == 2  # type: ignore[union-attr]
        assert inventory.available(session, product, [main, east]) == 10


def test_every_change_emits_inventory_updated_after_commit(
    db: Database, stocked: tuple[int, int, int]
) -> None:
    product, main, east = stocked
    seen: list[DomainEvent] = []
    db.bus.after_commit(lambda events: seen.extend(events), types=[InventoryUpdated])
    with db.unit_of_work() as session:
        inventory.transfer(session, product, main, east, 1)
        inventory.set_reservation(session, "h", product, main, 1)
        assert seen == []
    assert set(seen) == {
        InventoryUpdated(product_id=product, warehouse_id=main),
        InventoryUpdated(product_id=product, warehouse_id=east),
    }


def test_only_one_default_warehouse(db: Database) -> None:
    with db.unit_of_work() as session:
        first = factories.warehouse(session, "A")
        second = factories.warehouse(session, "B")
        assert first.is_default and not second.is_default
        inventory.set_default_warehouse(session, second.id)
    with db.read() as session:
        assert [w.code for w in inventory.list_warehouses(session) if w.is_default] == ["B"]
