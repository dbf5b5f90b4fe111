"""``tradewind orders list`` shows the newest orders first (#10 item 17)."""

from __future__ import annotations

import datetime as dt

from tests.cli.test_cli import ok
from tradewind.core.channels import service as channels
from tradewind.core.orders import service as orders
from tradewind.core.orders.schemas import OrderIn, OrderLineIn
from tradewind.hub import Hub


def test_orders_list_is_newest_first(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        channel = channels.create_channel(session, "Wholesale")
        for number, day in (("OLD", 1), ("NEW", 3), ("MID", 2)):
            orders.create_manual_order(
                session,
                channel.id,
                OrderIn(
                    number=number,
                    placed_at=dt.datetime(2026, 11, day, tzinfo=dt.UTC),
                    lines=[OrderLineIn(sku="MUG", quantity=1)],
                ),
            )
    listed = ok(hub, "orders", "list")
    assert listed.index("NEW") < listed.index("MID") < listed.index("OLD")
    limited = ok(hub, "orders", "list", "--limit", "1")
    assert "NEW" in limited and "OLD" not in limited
