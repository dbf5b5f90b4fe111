"""Several processes writing the same rows at once lose no update (SQLite and PostgreSQL)."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from sqlalchemy import func, select

from tests import factories
from tests.core import concurrency_worker
from tradewind.core.inventory import service as inventory
from tradewind.core.inventory.models import StockMovement
from tradewind.core.orders.models import Order
from tradewind.hub import Hub

WORKERS = 4
ROUNDS = 25


def test_concurrent_stock_movements_lose_no_update(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        product = factories.product(session, "MUG")
        warehouses = [factories.warehouse(session, "A").id, factories.warehouse(session, "B").id]
    url = hub.settings.resolved_database_url
    with ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn")) as pool:
        done = list(
            pool.map(
                concurrency_worker.move_stock,
                [url] * WORKERS,
                [product.id] * WORKERS,
                [warehouses] * WORKERS,
                [ROUNDS] * WORKERS,
                range(WORKERS),
            )
        )
    assert done == [ROUNDS] * WORKERS
    with hub.db.read() as session:
        a = inventory.level(session, product.id, warehouses[0])
        b = inventory.level(session, product.id, warehouses[1])
        assert a is not None and b is not None
        assert (a.on_hand, b.on_hand) == (WORKERS * ROUNDS, WORKERS * ROUNDS)
        moves = session.scalar(select(func.count()).select_from(StockMovement))
        assert moves == WORKERS * ROUNDS * 3
        # each worker's last reservation: round ROUNDS-1 → warehouse (ROUNDS-1) % 2, 1+(ROUNDS-1)%3
        last_w = (ROUNDS - 1) % 2
        held = WORKERS * (1 + (ROUNDS - 1) % 3)
        assert (a.reserved, b.reserved) == ((held, 0) if last_w == 0 else (0, held))


def test_the_same_order_imported_by_many_processes_exists_once(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        channel = factories.channel(session)
        plugin = factories.plugin(hub, session, channel_id=channel.id)
        mug = factories.product(session, "MUG")
        warehouse = factories.warehouse(session)
        inventory.receive(session, mug.id, warehouse.id, 10)
    url = hub.settings.resolved_database_url
    with ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn")) as pool:
        created = sum(
            pool.map(
                concurrency_worker.import_same_order,
                [url] * WORKERS,
                [plugin.id] * WORKERS,
                [5] * WORKERS,
            )
        )
    assert created == 1
    with hub.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1
        level = inventory.level(session, mug.id, warehouse.id)
        assert level is not None and level.reserved == 2
