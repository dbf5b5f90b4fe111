"""``tradewind orders``: ``list`` shows the newest orders first (#10 item 17); ``pay``,
``decision``, ``gaps`` and ``bulk``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests import factories
from tests.cli.test_cli import bad, ok, run
from tradewind.core.channels import service as channels
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order, OrderStatus
from tradewind.core.orders.schemas import ImportOptions, OrderIn, OrderLineIn
from tradewind.core.plugins.models import PluginState, PluginToggle
from tradewind.hub import Hub
from tradewind.sync import decisions
from tradewind.sync.models import SyncWork, WorkKind
from tradewind.vocabulary import Toggle


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


def test_orders_list_filters_sorts_and_writes_csv(hub: Hub) -> None:
    from zoneinfo import ZoneInfo

    from tradewind.core.orders.listing import Placed, placed_range

    start, _ = placed_range(Placed.TODAY, ZoneInfo("Pacific/Kiritimati"))
    with hub.db.unit_of_work() as session:
        channel = channels.create_channel(session, "Wholesale")
        factories.placed_order(session, channel.id, "TODAY-1", start, price="7", sku="LAMP")
        factories.placed_order(
            session, channel.id, "BEFORE-1", start - dt.timedelta(seconds=1), price="70"
        )
    today = ok(hub, "orders", "list", "--placed", "today", "--tz", "Pacific/Kiritimati")
    assert "TODAY-1" in today and "BEFORE-1" not in today and "(1 of 1)" in today
    assert "TODAY-1" not in ok(
        hub,
        "orders",
        "list",
        "--placed-to",
        start.date().isoformat(),
        "--placed-from",
        start.date().isoformat(),
        "--tz",
        "UTC",
        "--search",
        "BEFORE",
    )
    by_total = ok(hub, "orders", "list", "--sort", "-total")
    assert by_total.index("BEFORE-1") < by_total.index("TODAY-1")
    assert "BEFORE-1" not in ok(hub, "orders", "list", "-q", "lamp")
    exported = ok(hub, "orders", "list", "--csv", "--sort", "total")
    lines = exported.strip().splitlines()
    assert lines[0].startswith("id,number,placed_at_utc")
    assert [line.split(",")[1] for line in lines[1:]] == ["TODAY-1", "BEFORE-1"]
    assert "sort by one of" in bad(hub, "orders", "list", "--sort", "colour")
    assert "IANA" in bad(hub, "orders", "list", "--tz", "Mars/Olympus")
    assert "--placed is one of" in bad(hub, "orders", "list", "--placed", "soon")


def _unpaid(hub: Hub) -> tuple[int, int]:
    with hub.db.unit_of_work() as session:
        channel = factories.channel(session)
        plugin = factories.plugin(hub, session, channel_id=channel.id)
        order = orders.import_order(
            session, plugin.id, factories.order_in("C1", ("MUG", 2)), ImportOptions()
        ).order
        return order.id, plugin.id


def test_orders_pay_records_a_payment_and_refuses_too_much(hub: Hub) -> None:
    order_id, _ = _unpaid(hub)
    assert "partially paid" in ok(hub, "orders", "pay", str(order_id), "5", "--method", "cash")
    assert "left to pay" in bad(hub, "orders", "pay", str(order_id), "50")
    assert "paid" in ok(hub, "orders", "pay", str(order_id), "15")


def test_orders_decision_says_what_was_decided_and_the_fix(hub: Hub) -> None:
    _, plugin_id = _unpaid(hub)
    with hub.db.unit_of_work() as session:
        decisions.record(
            session,
            plugin_id,
            decisions.Seen(
                external_id="C2",
                number="#C2",
                path=decisions.SeenBy.POLL,
                decision=decisions.Decision.SKIPPED,
                code="unpaid",
                reason="financial status is pending",
            ),
        )
    shown = ok(hub, "orders", "decision", str(plugin_id), "#C2")
    assert "skipped" in shown and "unpaid" in shown and "Ignore financial status" in shown
    assert "has seen no order 'NOPE'" in bad(hub, "orders", "decision", str(plugin_id), "NOPE")


def test_orders_gaps_queues_a_report_and_refuses_a_day_to_come(hub: Hub) -> None:
    _, plugin_id = _unpaid(hub)
    today = dt.datetime.now(dt.UTC).date()
    assert "is queued" in ok(hub, "orders", "gaps", str(plugin_id), "--day", today.isoformat())
    with hub.db.read() as session:
        keys = [w.key for w in session.scalars(select(SyncWork)) if w.kind is WorkKind.GAP_REPORT]
    assert keys == [today.isoformat()]
    later = (today + dt.timedelta(days=2)).isoformat()
    assert "has not happened yet" in bad(hub, "orders", "gaps", str(plugin_id), "--day", later)
    assert "Gap reports" in ok(hub, "orders", "gaps", str(plugin_id))


def test_orders_bulk_cancels_retries_export_and_rematches(hub: Hub) -> None:
    """The orders list's bulk actions from the CLI: each says what it changed and why it
    left the others; exit 1 when it changed none."""
    placed = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    with hub.db.unit_of_work() as session:
        channel = factories.channel(session, "Wholesale").id
        made = {
            number: factories.placed_order(session, channel, number, placed).id
            for number in ("B1", "B3")
        }
    cancelled = ok(hub, "orders", "bulk", "cancel", str(made["B1"]), "--reason", "duplicate")
    assert "Cancelled: 1 order(s) (B1)" in cancelled
    code, out, _ = run(hub, "orders", "bulk", "cancel", str(made["B1"]))
    assert code == 1 and "Left 1: B1: already cancelled" in out
    with hub.db.read() as session:
        assert session.get(Order, made["B1"]).status is OrderStatus.CANCELLED  # type: ignore[union-attr]
    # A plugin matching by barcode only: its LAMP line waits while a LAMP exists.
    with hub.db.unit_of_work() as session:
        factories.product(session, "LAMP")
    with hub.db.unit_of_work() as session:
        by_barcode = factories.plugin(hub, session, "by-barcode", channel_id=channel)
        waiting = orders.import_order(
            session,
            by_barcode.id,
            factories.order_in("U1", ("LAMP", 1)),
            ImportOptions(match_by=("barcode",)),
        ).order.id
    rematched = ok(hub, "orders", "bulk", "rematch", str(waiting), str(made["B1"]))
    assert "Matched again: 1 order(s) (#U1)" in rematched and "B1: cancelled" in rematched
    with hub.db.read() as session:
        assert not orders.get_order(session, waiting).missing_product
    # A plugin of the channel exporting orders: the retry queues B3's export.
    with hub.db.unit_of_work() as session:
        plugin = factories.plugin(hub, session, "exporter", channel_id=channel)
        plugin.state = PluginState.ACTIVE
        session.add(PluginToggle(plugin_id=plugin.id, toggle=Toggle.EXPORT_ORDERS))
    exported = ok(hub, "orders", "bulk", "retry-export", str(made["B3"]))
    assert "Export queued: 1 order(s) (B3)" in exported
    with hub.db.read() as session:
        queued = session.scalars(
            select(SyncWork.key).where(SyncWork.kind == WorkKind.EXPORT_ORDER)
        ).all()
    assert str(made["B3"]) in queued
    assert "'explode' is not one of 'cancel'" in bad(hub, "orders", "bulk", "explode", "1")
