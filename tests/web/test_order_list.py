"""The orders list is newest first, page after page (#10 item 17)."""

from __future__ import annotations

import datetime as dt
import re

from tests.web.conftest import Browser
from tradewind.core.channels import service as channels
from tradewind.core.orders import service as orders
from tradewind.core.orders.schemas import OrderIn, OrderLineIn
from tradewind.hub import Hub


def test_the_orders_list_is_newest_first_and_its_pages_go_on(admin: Browser, hub: Hub) -> None:
    from tradewind.web import views

    with hub.db.unit_of_work() as session:
        channel = channels.create_channel(session, "Wholesale")
        start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
        for day in range(views.PAGE_SIZE + 2):
            orders.create_manual_order(
                session,
                channel.id,
                OrderIn(
                    number=f"D{day:03}",
                    placed_at=start + dt.timedelta(days=day),
                    lines=[OrderLineIn(sku="MUG", quantity=1)],
                ),
            )
    first = admin.get("/orders").text
    numbers = re.findall(r">(D\d{3})<", first)
    newest = [f"D{day:03}" for day in reversed(range(views.PAGE_SIZE + 2))]
    assert numbers == newest[: views.PAGE_SIZE]
    following = re.search(r'href="(/orders\?[^"]+)">Next page', first)
    assert following is not None
    rest = admin.get(following.group(1).replace("&amp;", "&")).text
    assert re.findall(r">(D\d{3})<", rest) == newest[views.PAGE_SIZE :]
