"""Property: any sequence of receipts, picks, transfers, adjustments, order imports,
cancellations, shipments and returns neither loses nor invents a unit, and after every
step reserved equals the open orders' unshipped matched units and available equals
on-hand − reserved (reported never below zero)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests import factories
from tests.conftest import _truncate_all
from tests.fakes import FakeConnector
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.core.inventory import service as inventory
from tradewind.core.inventory.models import Reservation, StockMovement
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import OrderStatus
from tradewind.core.orders.schemas import OrderIn, OrderLineIn
from tradewind.core.returns import service as returns
from tradewind.core.returns.models import ReturnStatus
from tradewind.core.returns.schemas import ReturnIn, ReturnLineIn
from tradewind.core.shipments import service as shipments
from tradewind.core.shipments.schemas import ShipmentIn, ShipmentLineIn
from tradewind.errors import Invalid
from tradewind.hub import Hub
from tradewind.settings import Settings

SKUS = ["A", "B", "GHOST"]  # GHOST matches no product
WAREHOUSES = 2

quantity = st.integers(min_value=1, max_value=6)
sku = st.sampled_from(SKUS)
warehouse = st.integers(min_value=0, max_value=WAREHOUSES - 1)
pick_index = st.integers(min_value=0, max_value=50)

step = st.one_of(
    st.tuples(st.just("receive"), sku.filter(lambda s: s != "GHOST"), warehouse, quantity),
    st.tuples(st.just("pick"), sku.filter(lambda s: s != "GHOST"), warehouse, quantity),
    st.tuples(
        st.just("adjust"),
        sku.filter(lambda s: s != "GHOST"),
        warehouse,
        st.integers(min_value=-6, max_value=6).filter(bool),
    ),
    st.tuples(st.just("transfer"), sku.filter(lambda s: s != "GHOST"), warehouse, quantity),
    st.tuples(
        st.just("order"), st.lists(st.tuples(sku, quantity), min_size=1, max_size=3), warehouse
    ),
    st.tuples(st.just("cancel"), pick_index),
    st.tuples(st.just("ship"), pick_index, quantity),
    st.tuples(st.just("return"), pick_index, quantity, st.booleans()),
)


@dataclass
class Model:
    on_hand: dict[tuple[str, int], int] = field(default_factory=dict)
    # order id -> (warehouse, status, [[line id, sku, qty, shipped, returned]])
    orders: dict[int, tuple[int, str, list[list[object]]]] = field(default_factory=dict)


@contextmanager
def fresh_hub(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hub]:
    if backend == "sqlite":
        target = tmp_path / f"prop-{id(object())}.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        url = f"sqlite:///{target}"
    else:
        url = request.getfixturevalue("postgres_url")
        _truncate_all(url)
    settings_ = Settings(
        data_dir=tmp_path / "data",
        database_url=url,
        secret_keys=("Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=",),
    )
    hub = Hub(settings_, registry=ConnectorRegistry.of(FakeConnector))
    try:
        yield hub
    finally:
        hub.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=25))
def test_units_are_conserved_and_reservations_add_up(
    backend: str,
    steps: list[tuple[object, ...]],
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    with fresh_hub(backend, request, tmp_path) as hub:
        with hub.db.unit_of_work() as session:
            channel = factories.channel(session)
            plugin = factories.plugin(hub, session, channel_id=channel.id)
            products = {name: factories.product(session, name).id for name in ("A", "B")}
            warehouses = [factories.warehouse(session, f"W{i}").id for i in range(WAREHOUSES)]
            model = Model()
            for name, product_id in products.items():  # stock to ship from, so ships succeed
                for w, warehouse_id in enumerate(warehouses):
                    inventory.receive(session, product_id, warehouse_id, 15)
                    model.on_hand[(name, w)] = 15
        for number, item in enumerate(steps):
            _apply(hub, plugin.id, products, warehouses, model, number, item)
            _check(hub, products, warehouses, model)


def _apply(
    hub: Hub,
    plugin_id: int,
    products: dict[str, int],
    warehouses: list[int],
    model: Model,
    number: int,
    item: tuple[object, ...],
) -> None:
    kind = item[0]
    try:
        with hub.db.unit_of_work() as session:
            if kind in ("receive", "pick", "adjust", "transfer"):
                _, name, w, qty = item
                assert isinstance(name, str) and isinstance(w, int) and isinstance(qty, int)
                key = (name, w)
                have = model.on_hand.get(key, 0)
                if kind == "receive":
                    inventory.receive(session, products[name], warehouses[w], qty)
                    model.on_hand[key] = have + qty
                elif kind == "pick":
                    inventory.pick(session, products[name], warehouses[w], qty)
                    model.on_hand[key] = have - qty
                elif kind == "adjust":
                    inventory.adjust(session, products[name], warehouses[w], qty, reason="prop")
                    model.on_hand[key] = have + qty
                else:
                    other = (w + 1) % WAREHOUSES
                    inventory.transfer(
                        session, products[name], warehouses[w], warehouses[other], qty
                    )
                    model.on_hand[key] = have - qty
                    model.on_hand[(name, other)] = model.on_hand.get((name, other), 0) + qty
            elif kind == "order":
                _, lines, w = item
                assert isinstance(lines, list) and isinstance(w, int)
                data = OrderIn(
                    external_id=f"o{number}",
                    email="p@example.com",
                    warehouse_id=warehouses[w],
                    lines=[OrderLineIn(sku=s, quantity=q) for s, q in lines],
                )
                order = orders.import_order(session, plugin_id, data).order
                model.orders[order.id] = (
                    w,
                    "open",
                    [[line.id, line.sku, line.quantity, 0, 0] for line in order.lines],
                )
            elif kind == "cancel":
                _, index = item
                assert isinstance(index, int)
                order_id = _nth(model, index)
                if order_id is None:
                    return
                orders.cancel_order(session, order_id)
                w, _status, lines_ = model.orders[order_id]
                model.orders[order_id] = (w, "cancelled", lines_)
            elif kind == "ship":
                _, index, qty = item
                assert isinstance(index, int) and isinstance(qty, int)
                found = _nth_line(model, index, lambda line: line[1] != "GHOST")
                if found is None:
                    return
                order_id, line = found
                shipments.create_shipment(
                    session,
                    order_id,
                    ShipmentIn(lines=[ShipmentLineIn(order_line_id=int(line[0]), quantity=qty)]),
                )
                w = model.orders[order_id][0]
                model.on_hand[(str(line[1]), w)] = model.on_hand.get((str(line[1]), w), 0) - qty
                line[3] = int(line[3]) + qty
            elif kind == "return":
                _, index, qty, restock = item
                assert isinstance(index, int) and isinstance(qty, int)
                found = _nth_line(model, index, lambda line: int(line[3]) > 0, any_status=True)
                if found is None:
                    return
                order_id, line = found
                created = returns.request_return(
                    session,
                    order_id,
                    ReturnIn(
                        lines=[ReturnLineIn(order_line_id=int(line[0]), quantity=qty)],
                        restock=bool(restock),
                    ),
                )
                returns.advance_return(session, created.id, ReturnStatus.RECEIVED)
                line[4] = int(line[4]) + qty
                if restock:
                    w = model.orders[order_id][0]
                    model.on_hand[(str(line[1]), w)] = model.on_hand.get((str(line[1]), w), 0) + qty
    except Invalid:
        pass  # a refused step changes nothing; the model is only changed after success


def _nth(model: Model, index: int) -> int | None:
    open_orders = [oid for oid, (_, status, _) in model.orders.items() if status == "open"]
    return open_orders[index % len(open_orders)] if open_orders else None


def _nth_line(model: Model, index: int, keep, any_status: bool = False):  # type: ignore[no-untyped-def]
    candidates = [
        (oid, line)
        for oid, (_, status, lines) in model.orders.items()
        if any_status or status == "open"
        for line in lines
        if keep(line)
    ]
    return candidates[index % len(candidates)] if candidates else None


def _check(hub: Hub, products: dict[str, int], warehouses: list[int], model: Model) -> None:
    with hub.db.read() as session:
        for name, product_id in products.items():
            for w, warehouse_id in enumerate(warehouses):
                level = inventory.level(session, product_id, warehouse_id)
                on_hand = level.on_hand if level else 0
                reserved = level.reserved if level else 0
                assert on_hand == model.on_hand.get((name, w), 0) >= 0
                moved = session.scalar(
                    select(func.coalesce(func.sum(StockMovement.quantity), 0)).where(
                        StockMovement.product_id == product_id,
                        StockMovement.warehouse_id == warehouse_id,
                    )
                )
                assert moved == on_hand  # the movement ledger explains every unit
                expected_reserved = sum(
                    int(line[2]) - int(line[3])  # type: ignore[call-overload]
                    for (ow, status, lines) in model.orders.values()
                    if status == "open" and ow == w
                    for line in lines
                    if line[1] == name
                )
                assert reserved == expected_reserved
                held = session.scalar(
                    select(func.coalesce(func.sum(Reservation.quantity), 0)).where(
                        Reservation.product_id == product_id,
                        Reservation.warehouse_id == warehouse_id,
                    )
                )
                assert held == reserved
                if level:
                    assert level.available == max(0, on_hand - reserved)
        for order_id, (_, status, _) in model.orders.items():
            order = orders.get_order(session, order_id)
            assert (order.status is OrderStatus.OPEN) == (status == "open")
