"""Work run in separate processes by test_concurrency (must be importable, not __main__)."""

from __future__ import annotations

from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.core.orders.schemas import OrderIn, OrderLineIn
from tradewind.db import Database


def move_stock(url: str, product_id: int, warehouses: list[int], rounds: int, seed: int) -> int:
    """Receipts, transfers and reservations on the same rows as every other worker."""
    db = Database(url)
    done = 0
    try:
        for i in range(rounds):
            with db.unit_of_work() as session:
                inventory.receive(session, product_id, warehouses[0], 2, reference=f"w{seed}")
            with db.unit_of_work() as session:
                inventory.transfer(session, product_id, warehouses[0], warehouses[1], 1)
            with db.unit_of_work() as session:
                inventory.set_reservation(
                    session, f"worker:{seed}", product_id, warehouses[i % 2], 1 + i % 3
                )
            done += 1
    finally:
        db.dispose()
    return done


def import_same_order(url: str, plugin_id: int, attempts: int) -> int:
    """Import one order again and again, as duplicated webhooks and polls would."""
    db = Database(url)
    created = 0
    try:
        data = OrderIn(
            external_id="SAME-1",
            number="#1",
            email="race@example.com",
            lines=[OrderLineIn(external_id="l1", sku="MUG", quantity=2)],
        )
        for _ in range(attempts):
            with db.unit_of_work() as session:
                created += orders.import_order(session, plugin_id, data).created
    finally:
        db.dispose()
    return created
