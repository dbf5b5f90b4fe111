"""The small service additions the API and UI needed (each used by both)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import factories
from tradewind.connectors.http import Call
from tradewind.core.channels import service as channels
from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.db import utcnow
from tradewind.errors import Conflict, NotFound
from tradewind.hub import Hub
from tradewind.monitoring import executions, notifications
from tradewind.monitoring.notifications import NotificationKind


def test_assign_product_matches_waiting_lines_and_clears_the_notification(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        channel = factories.channel(session, "Web")
        warehouse = factories.warehouse(session)
        mug = factories.product(session, "MUG-RED")
        inventory.receive(session, mug.id, warehouse.id, 10)
        first = orders.create_manual_order(
            session, channel.id, factories.order_in("1", ("MUG_RED_OLD", 2))
        )
        orders.create_manual_order(session, channel.id, factories.order_in("2", ("mug_red_old", 1)))
    with hub.db.read() as session:
        # One per SKU as the platform spelled it.
        assert (
            len(notifications.open_notifications(session, kind=NotificationKind.MISSING_PRODUCT))
            == 2
        )
    with hub.db.unit_of_work() as session:
        changed = orders.assign_product(session, "Mug_Red_Old", mug.id)
        assert len(changed) == 2
        with pytest.raises(NotFound):
            orders.assign_product(session, "X", 999)
    with hub.db.read() as session:
        order = orders.get_order(session, first.id)
        assert not order.missing_product and order.lines[0].product_id == mug.id
        assert inventory.level(session, mug.id, warehouse.id).reserved == 3  # type: ignore[union-attr]
        assert (
            notifications.open_notifications(session, kind=NotificationKind.MISSING_PRODUCT) == []
        )
        assert orders.activities(session, first.id)[-1].kind == "line_matched"
    with hub.db.unit_of_work() as session:
        assert orders.assign_product(session, "MUG_RED_OLD", mug.id) == []  # nothing waits now


def test_executions_and_movements_page_newest_first(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        plugin = factories.plugin(hub, session, import_orders=False)
        warehouse = factories.warehouse(session)
        product = factories.product(session, "MUG")
        for _ in range(5):
            inventory.receive(session, product.id, warehouse.id, 1)
        now = utcnow()
        executions.record_calls(
            session,
            plugin.id,
            [
                Call("orders.list", now + dt.timedelta(seconds=i), 10.0, outcome, 200)
                for i, outcome in enumerate(["success", "unavailable", "success"])
            ],
        )
    with hub.db.read() as session:
        page = executions.list_executions(session, plugin_id=plugin.id, limit=2)
        assert [row.outcome for row in page] == ["success", "unavailable"]
        rest = executions.list_executions(session, plugin_id=plugin.id, before_id=page[-1].id)
        assert len(rest) == 1
        assert len(executions.list_executions(session, outcome="unavailable")) == 1
        newest = inventory.movements(session, product_id=product.id, limit=2)
        older = inventory.movements(session, product_id=product.id, before_id=newest[-1].id)
        assert len(older) == 3 and older[0].id < newest[-1].id


def test_names_equal_but_for_non_ascii_case_conflict(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        channels.create_channel(session, "Ørsted")
    with pytest.raises(Conflict), hub.db.unit_of_work() as session:
        channels.create_channel(session, "Ørsted")
    with hub.db.unit_of_work() as session:
        factories.plugin(hub, session, "Ærø", shop="aero", import_orders=False)
    with pytest.raises(Conflict), hub.db.unit_of_work() as session:
        factories.plugin(hub, session, "Ærø", shop="other", import_orders=False)
