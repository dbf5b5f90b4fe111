"""Dropped webhooks (#10 item 24): a minutely probe of what changed on the platform finds
orders whose webhook never came, imports them and says so; an absolute stock push probes
first, so it never puts the units of an order not yet here on sale again."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from tests.sync.conftest import Shop
from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.core.plugins import service as plugins
from tradewind.db import utcnow
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync import schedule
from tradewind.sync.inbox import Inbox
from tradewind.sync.models import SyncSchedule
from tradewind.vocabulary import StockMode

MISSING = NotificationKind.WEBHOOKS_MISSING


def _by_webhook(shop: Shop, order_id: str, *, placed_at: dt.datetime) -> None:
    shop.market.add_order(order_id, placed_at=placed_at)
    headers, body = shop.market.webhook(order_id, delivery=f"d-{order_id}")
    assert Inbox(shop.hub).accept(shop.plugin_id, "orders/create", headers, body).status == 200


def _imported(shop: Shop) -> set[str]:
    with shop.hub.db.read() as session:
        return {
            str(order.external_id)
            for order in orders.list_orders(session, plugin_id=shop.plugin_id, limit=1000)
        }


def _notices(shop: Shop) -> list[notifications.Notification]:
    with shop.hub.db.read() as session:
        return notifications.open_notifications(session, plugin_id=shop.plugin_id, kind=MISSING)


def _probe_watching_since(shop: Shop, moment: dt.datetime) -> None:
    """Time passes: the probe last looked at ``moment`` and is due again."""
    with shop.hub.db.unit_of_work() as session:
        session.execute(
            update(SyncSchedule)
            .where(SyncSchedule.stream == schedule.PROBE_STREAM)
            .values(cursor=moment, next_run_at=utcnow() - dt.timedelta(seconds=1))
        )


def _started(shop: Shop) -> None:
    """The reconciler's first round: the poll reads what exists, the probe starts
    watching (it reads nothing on its first run)."""
    report = shop.harness.sweep()
    assert report.polls_queued == 2  # the orders poll and the webhook probe
    shop.harness.run(shop.plugin_id)


def test_orders_whose_webhook_was_dropped_are_found_within_a_probe(shop: Shop) -> None:
    _started(shop)
    now = utcnow()
    _by_webhook(shop, "w1", placed_at=now - dt.timedelta(seconds=50))
    shop.harness.run(shop.plugin_id)
    for dropped in ("d1", "d2"):  # placed, paid, and their webhooks never came
        shop.market.add_order(dropped, placed_at=now - dt.timedelta(seconds=45))
    shop.market.add_order(
        "d3", placed_at=now - dt.timedelta(seconds=40), financial_status="pending"
    )
    assert _imported(shop) == {"w1"}
    _probe_watching_since(shop, now - dt.timedelta(minutes=1))
    assert shop.harness.sweep().polls_queued == 1  # the probe, not the 10-minute poll
    shop.harness.run(shop.plugin_id)
    assert _imported(shop) == {"w1", "d1", "d2"}  # the unpaid one is not imported, not missing
    (notice,) = _notices(shop)
    assert "#d1" in notice.message and "#d2" in notice.message and "#d3" not in notice.message
    assert notice.occurrences == 2
    # Webhooks work again: the next probe sees an order that came by webhook, none missing.
    _by_webhook(shop, "w2", placed_at=utcnow() - dt.timedelta(seconds=40))
    shop.harness.run(shop.plugin_id)
    _probe_watching_since(shop, utcnow() - dt.timedelta(minutes=1))
    shop.harness.sweep()
    shop.harness.run(shop.plugin_id)
    assert _notices(shop) == []


def test_an_absolute_push_imports_the_orders_it_would_otherwise_put_back_on_sale(
    shop: Shop,
) -> None:
    """The drill: 12 paid orders missing for 9 minutes while absolute pushes sent their
    units back. A push now probes first: the orders come in, reserve, and the level sent
    counts them."""
    with shop.hub.db.unit_of_work() as session:
        plugins.set_stock_sync(session, shop.plugin_id, mode=StockMode.ABSOLUTE, window_seconds=0)
    _started(shop)
    mug = shop.products["MUG"]
    for dropped in ("s1", "s2"):
        shop.market.add_order(dropped, sku="MUG", placed_at=utcnow() - dt.timedelta(seconds=40))
    _probe_watching_since(shop, utcnow() - dt.timedelta(minutes=1))
    with shop.hub.db.unit_of_work() as session:  # a stock change here: a push is due now
        inventory.receive(session, mug, shop.warehouse_id, 5)
    shop.harness.run(shop.plugin_id)
    assert _imported(shop) == {"s1", "s2"}
    assert shop.market.stock[("MUG", "loc-1")] == 20 + 5 - 2  # not 25: two are sold
    assert len(_notices(shop)) == 1
