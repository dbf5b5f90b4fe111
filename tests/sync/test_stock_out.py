"""Stock out and tracking back: available (not on-hand) to mapped locations only, absolute
and delta modes, batches, refusals; shipments pushed to the plugin the order came from."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, update

from tests import factories
from tests.fakes import FakeConnector
from tests.sync.conftest import Shop
from tradewind.app import actions
from tradewind.connectors.errors import Unavailable
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.core.plugins import service as plugins
from tradewind.core.shipments import service as shipments
from tradewind.core.shipments.models import Shipment
from tradewind.core.shipments.schemas import ShipmentIn
from tradewind.db import utcnow
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync.inbox import Inbox
from tradewind.sync.models import SyncWork, WorkKind, WorkState
from tradewind.vocabulary import StockMode


def _export(shop: Shop, mode: StockMode = StockMode.ABSOLUTE, buffer: int = 0) -> None:
    with shop.hub.db.unit_of_work() as session:
        plugins.set_stock_sync(session, shop.plugin_id, mode=mode, window_seconds=0, buffer=buffer)


def test_available_goes_out_to_mapped_locations_only(shop: Shop) -> None:
    _export(shop, buffer=2)
    with shop.hub.db.unit_of_work() as session:
        inventory.receive(session, shop.products["MUG"], shop.warehouse_id, 5)  # 25 on hand
        inventory.set_reservation(session, "x", shop.products["MUG"], shop.warehouse_id, 4)
    shop.harness.run(shop.plugin_id)
    assert shop.market.stock == {("MUG", "loc-1"): 25 - 4 - 2}
    assert len(shop.market.pushes) == 1  # both changes in one push
    with shop.hub.db.unit_of_work() as session:
        inventory.set_reservation(session, "x", shop.products["MUG"], shop.warehouse_id, 40)
    shop.harness.run(shop.plugin_id)
    assert shop.market.stock[("MUG", "loc-1")] == 0  # never negative


def test_an_imported_order_lowers_what_the_channel_may_sell(shop: Shop) -> None:
    _export(shop)
    shop.market.add_order("9001", sku="PLATE", quantity=3)
    Inbox(shop.hub).accept(
        shop.plugin_id, "orders/create", *shop.market.webhook("9001", delivery="w1")
    )
    shop.harness.run(shop.plugin_id)
    assert shop.market.stock == {("PLATE", "loc-1"): 17}


def test_a_warehouse_without_a_mapped_location_pushes_nothing(shop: Shop) -> None:
    _export(shop)
    with shop.hub.db.unit_of_work() as session:
        other = factories.warehouse(session, "EAST")
        inventory.receive(session, shop.products["MUG"], other.id, 5)
    shop.harness.run(shop.plugin_id)
    assert shop.market.pushes == []


def test_delta_mode_sends_only_changes_since_the_last_push(shop: Shop) -> None:
    _export(shop, StockMode.DELTA)
    shop.market.stock[("MUG", "loc-1")] = 100  # the platform's own count
    with shop.hub.db.unit_of_work() as session:
        inventory.receive(session, shop.products["MUG"], shop.warehouse_id, 1)
    shop.harness.run(shop.plugin_id)
    assert shop.market.pushes == []  # first sight: the baseline is recorded, nothing sent
    with shop.hub.db.unit_of_work() as session:
        inventory.pick(session, shop.products["MUG"], shop.warehouse_id, 3)
    shop.harness.run(shop.plugin_id)
    with shop.hub.db.unit_of_work() as session:
        inventory.receive(session, shop.products["MUG"], shop.warehouse_id, 10)
    shop.harness.run(shop.plugin_id)
    assert [level["delta"] for push in shop.market.pushes for level in push["levels"]] == [-3, 10]
    assert shop.market.stock[("MUG", "loc-1")] == 107


def test_batches_follow_the_connectors_size_and_refusals_are_reported(shop: Shop) -> None:
    _export(shop)
    with shop.hub.db.unit_of_work() as session:
        for number in range(300):
            product = catalog.create_product(session, ProductIn(sku=f"SKU{number:03d}", title="x"))
            inventory.receive(session, product.id, shop.warehouse_id, number + 1)
        refused = catalog.create_product(session, ProductIn(sku="REFUSE-1", title="x"))
        inventory.receive(session, refused.id, shop.warehouse_id, 1)
    shop.harness.run(shop.plugin_id)
    assert [len(push["levels"]) for push in shop.market.pushes] == [250, 51]
    assert shop.market.stock[("SKU299", "loc-1")] == 300
    with shop.hub.db.read() as session:
        (note,) = notifications.open_notifications(session, kind=NotificationKind.RECORD_REJECTED)
        assert "unknown item" in note.message


def test_a_shipment_goes_back_with_its_tracking(shop: Shop) -> None:
    shop.market.add_order("9100", sku="MUG", quantity=2)
    Inbox(shop.hub).accept(
        shop.plugin_id, "orders/create", *shop.market.webhook("9100", delivery="w")
    )
    shop.harness.run(shop.plugin_id)
    with shop.hub.db.unit_of_work() as session:
        order = orders.find_imported(session, shop.plugin_id, "9100")
        assert order is not None
        shipment = shipments.create_shipment(
            session,
            order.id,
            ShipmentIn(carrier="DHL", tracking_number="JD01", notify_customer=False),
        )
    shop.harness.run(shop.plugin_id)
    assert shop.market.shipments == [
        {
            "id": "S1",
            "order": "9100",
            "carrier": "DHL",
            "tracking": "JD01",
            "lines": [["9100-1", 2]],
            "notify": False,
        }
    ]
    with shop.hub.db.read() as session:
        stored = session.get(Shipment, shipment.id)
        assert stored is not None and stored.external_id == "S1"
    shop.harness.run(shop.plugin_id)
    assert len(shop.market.shipments) == 1


@pytest.mark.parametrize("toggle_on", [False])
def test_no_export_tracking_no_push(shop: Shop, toggle_on: bool) -> None:
    from tests.fakes import FakeConnector
    from tradewind.vocabulary import Toggle

    with shop.hub.db.unit_of_work() as session:
        plugins.set_toggle(
            session, FakeConnector.info, shop.plugin_id, Toggle.EXPORT_TRACKING, toggle_on
        )
    shop.market.add_order("9200")
    Inbox(shop.hub).accept(
        shop.plugin_id, "orders/create", *shop.market.webhook("9200", delivery="w")
    )
    shop.harness.run(shop.plugin_id)
    with shop.hub.db.unit_of_work() as session:
        order = orders.find_imported(session, shop.plugin_id, "9200")
        assert order is not None
        shipments.create_shipment(session, order.id, ShipmentIn(tracking_number="T"))
    shop.harness.run(shop.plugin_id)
    assert shop.market.shipments == []
    with shop.hub.db.read() as session:
        assert session.scalars(select(Shipment)).one().external_id is None


def test_a_batch_that_fails_later_never_resends_the_earlier_ones(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Delta mode, 300 changes in two batches; the second batch's call fails. The first
    batch was remembered while the second was on the wire, so the retry sends only the
    second and no change reaches the platform twice."""
    _export(shop, StockMode.DELTA)
    with shop.hub.db.unit_of_work() as session:
        ids = [
            catalog.create_product(session, ProductIn(sku=f"D{number:03d}", title="x")).id
            for number in range(300)
        ]
        for product_id in ids:
            inventory.receive(session, product_id, shop.warehouse_id, 5)
    shop.harness.run(shop.plugin_id)  # first sight: baselines only
    assert shop.market.pushes == []
    real = FakeConnector.push_stock
    calls = 0

    def second_call_fails(self: FakeConnector, pushes: Any, mode: StockMode) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise Unavailable("the platform went away mid-push")
        return real(self, pushes, mode)

    monkeypatch.setattr(FakeConnector, "push_stock", second_call_fails)
    with shop.hub.db.unit_of_work() as session:
        for product_id in ids:
            inventory.receive(session, product_id, shop.warehouse_id, 2)
    shop.harness.run(shop.plugin_id)
    assert [len(push["levels"]) for push in shop.market.pushes] == [250]
    with shop.hub.db.unit_of_work() as session:  # the retry is due at once
        session.execute(update(SyncWork).values(not_before=utcnow()))
    shop.harness.run(shop.plugin_id)
    assert [len(push["levels"]) for push in shop.market.pushes] == [250, 50]
    deltas = [level["delta"] for push in shop.market.pushes for level in push["levels"]]
    assert deltas == [2] * 300


def test_changes_are_grouped_in_a_30_second_window_by_default(shop: Shop) -> None:
    """Seed 002: updates for one product are grouped in a 30 s window. A plugin whose
    window was never set waits 30 s after a product's first change before pushing it."""
    actions.set_stock_mode(shop.hub, shop.plugin_id, mode=StockMode.ABSOLUTE)
    shop.harness.run(shop.plugin_id)  # switching to absolute sends everything at once
    with shop.hub.db.read() as session:
        assert plugins.get_plugin(session, shop.plugin_id).stock_window_seconds == 30
    before = utcnow()
    with shop.hub.db.unit_of_work() as session:
        inventory.receive(session, shop.products["MUG"], shop.warehouse_id, 1)
    after = utcnow()
    with shop.hub.db.read() as session:
        (due,) = session.scalars(
            select(SyncWork.not_before).where(
                SyncWork.plugin_id == shop.plugin_id,
                SyncWork.kind == WorkKind.PUSH_STOCK,
                SyncWork.state == WorkState.PENDING,
            )
        ).all()
    window = dt.timedelta(seconds=30)
    assert before + window <= due <= after + window
    assert shop.harness.run(shop.plugin_id) == 0  # not before the window ends
