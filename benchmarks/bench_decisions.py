"""``decisions.write_overhead``: order import throughput with the import decisions
recorded against the same import without them. Pages of 50 orders are imported as the
engine imports a page — one transaction, the page's rows locked first, each order in
its savepoint — on SQLite and on PostgreSQL; the two arms alternate, each on new order
ids, and the figure is the ratio of the medians (with / without). A page mixes orders
that import with orders the rules skip (unpaid), as a live store's do. Target ≥ 0.9."""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Iterator
from decimal import Decimal
from itertools import count

from sqlalchemy import insert

from benchmarks.harness import Figure, Reported, measured
from benchmarks.support import bench_hub, null_plugins, postgres_database
from tradewind.connectors.records import AddressRecord, OrderLineRecord, OrderRecord
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.inventory import service as inventory
from tradewind.core.plugins import service as plugins
from tradewind.hub import Hub
from tradewind.sync import decisions
from tradewind.sync.orders import import_record, lock_for_import
from tradewind.vocabulary import FinancialStatus

PAGE = 50
PAGES = 6  # per arm and round
ROUNDS = 5
_ids = count(1)


def run() -> Iterator[Reported]:
    yield from measured(
        "decisions", ["write_overhead_sqlite", "retention_rows_per_second"], _on_sqlite
    )
    yield from measured("decisions", ["write_overhead_postgresql"], _on_postgresql)


def _on_sqlite() -> Iterator[Figure]:
    with bench_hub() as hub:
        yield _figure(hub, "sqlite")
        yield _retention(hub)


def _on_postgresql() -> Iterator[Figure]:
    with postgres_database() as url, bench_hub(database_url=url) as hub:
        yield _figure(hub, "postgresql")


def _figure(hub: Hub, backend: str) -> Figure:
    (plugin_id,) = null_plugins(hub, 1)
    with hub.db.unit_of_work() as session:
        warehouse = inventory.create_warehouse(session, "MAIN")
        for sku in ("MUG", "PLATE"):
            product = catalog.create_product(session, ProductIn(sku=sku, title=sku))
            inventory.receive(session, product.id, warehouse.id, 1_000_000)
    _import_pages(hub, plugin_id, record=True, pages=2)  # warm-up
    with_, without = [], []
    for _ in range(ROUNDS):
        without.append(_import_pages(hub, plugin_id, record=False, pages=PAGES))
        with_.append(_import_pages(hub, plugin_id, record=True, pages=PAGES))
    ratio = statistics.median(with_) / statistics.median(without)
    return Figure(
        bench="decisions",
        metric=f"write_overhead_{backend}",
        value=round(ratio, 3),
        unit="ratio",
        target=0.9,
        note=(
            f"orders/s with decisions {statistics.median(with_):.0f}, without "
            f"{statistics.median(without):.0f} (median of {ROUNDS} alternating rounds of "
            f"{PAGES} pages of {PAGE})"
        ),
    )


def _retention(hub: Hub) -> Figure:
    """How fast retention removes a day of a million-orders-a-day store's history: rows
    past their age written in bulk, then one ``prune``."""
    rows = 200_000
    with hub.db.read() as session:
        plugin_id = plugins.list_plugins(session)[0].id
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=decisions.HISTORY_DAYS + 1)
    with hub.db.unit_of_work() as session:
        for start in range(0, rows, 10_000):
            session.execute(
                insert(decisions.DecisionHistory),
                [
                    {
                        "plugin_id": plugin_id,
                        "external_id": f"r{n}",
                        "seen_at": old,
                        "path": decisions.SeenBy.WEBHOOK,
                        "decision": decisions.Decision.IMPORTED,
                        "code": "",
                        "reason": "",
                    }
                    for n in range(start, start + 10_000)
                ],
            )
    started = time.perf_counter()
    with hub.db.unit_of_work() as session:
        removed, _ = decisions.prune(session)
    took = time.perf_counter() - started
    return Figure(
        bench="decisions",
        metric="retention_rows_per_second",
        value=round(removed / took),
        unit="rows/s",
        floor=1_000_000 / 86_400,  # a million orders a day, one history row each
        note=f"{removed} history rows past {decisions.HISTORY_DAYS} days removed in {took:.2f} s",
    )


def _import_pages(hub: Hub, plugin_id: int, *, record: bool, pages: int) -> float:
    """Orders per second importing ``pages`` pages."""
    started = time.perf_counter()
    for _ in range(pages):
        records = [_order(next(_ids)) for _ in range(PAGE)]
        with hub.db.unit_of_work() as session:
            plugin = plugins.get_plugin(session, plugin_id)
            lock_for_import(session, plugin, records)
            noted: list[decisions.Seen] = []
            for item in records:
                with session.begin_nested():
                    outcome = import_record(session, plugin, item)
                noted.append(
                    decisions.Seen(
                        external_id=item.external_id,
                        number=item.number,
                        path=decisions.SeenBy.POLL,
                        decision=decisions.Decision(outcome.outcome),
                        code=outcome.code,
                        reason=outcome.reason,
                        order_id=outcome.order_id,
                    )
                )
            if record:  # as the engine's page import writes them
                decisions.record_many(session, plugin_id, noted)
    return pages * PAGE / (time.perf_counter() - started)


def _order(number: int) -> OrderRecord:
    now = dt.datetime.now(dt.UTC)
    return OrderRecord(
        external_id=f"b{number}",
        number=f"#B{number}",
        financial_status=FinancialStatus.PENDING if number % 5 == 0 else FinancialStatus.PAID,
        placed_at=now,
        updated_at=now,
        currency="EUR",
        email=f"buyer{number}@example.com",
        shipping_address=AddressRecord(
            first_name="Bo", last_name="Ek", address1="1 Quay", city="Oslo", country_code="NO"
        ),
        lines=(
            OrderLineRecord(
                external_id=f"b{number}-1", sku="MUG", quantity=1, unit_price=Decimal("10")
            ),
            OrderLineRecord(
                external_id=f"b{number}-2", sku="PLATE", quantity=2, unit_price=Decimal("7")
            ),
        ),
    )
