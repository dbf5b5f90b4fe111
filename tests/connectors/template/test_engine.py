"""A template plugin is a plugin like any other: the engine imports its orders and
pushes its stock through the template's pull and hook, records each call under the
template's names, and applies the same failure policy as to a Python connector (429
waits, 5xx backs off to *failing*, 401 pauses the plugin as needing reauthorization)."""

from __future__ import annotations

from sqlalchemy import select

from tests.sync.conftest import Shop, time_passes
from tradewind.app import actions
from tradewind.core.links import service as links
from tradewind.core.orders import service as orders
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import PluginState
from tradewind.monitoring import executions, notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync import drain, ledger
from tradewind.sync.models import ORDERS_STREAM, SyncWork, WorkKind, WorkState


def _poll(shop: Shop) -> None:
    with shop.hub.db.unit_of_work() as session:
        ledger.enqueue(session, shop.plugin_id, WorkKind.POLL_ORDERS, ORDERS_STREAM)


def _imported(shop: Shop, order_id: str) -> bool:
    with shop.hub.db.read() as session:
        return orders.find_imported(session, shop.plugin_id, order_id) is not None


def _operations(shop: Shop) -> list[str]:
    with shop.hub.db.read() as session:
        return [e.operation for e in executions.recent(session, shop.plugin_id)]


def _work(shop: Shop) -> SyncWork:
    """The reconciliation poll's work row."""
    with shop.hub.db.read() as session:
        found = session.scalars(
            select(SyncWork).where(SyncWork.kind == WorkKind.POLL_ORDERS)
        ).first()
        assert found is not None
        return found


def _open(shop: Shop, kind: NotificationKind) -> list[notifications.Notification]:
    with shop.hub.db.read() as session:
        return notifications.open_notifications(session, plugin_id=shop.plugin_id, kind=kind)


def test_orders_come_in_through_the_pull_and_stock_goes_out_through_the_hook(
    store: Shop,
) -> None:
    store.market.page_size = 2
    for number in range(5):
        store.market.add_order(f"T{number}", sku="MUG", quantity=1)
    _poll(store)
    store.harness.run(store.plugin_id)
    assert all(_imported(store, f"T{number}") for number in range(5))
    time_passes(store.hub)  # the stock window
    store.harness.run(store.plugin_id)
    # The five reservations leave 15 MUGs to sell, and the hook set that in the store.
    assert store.market.stock[("MUG", "loc-1")] == 15
    operations = _operations(store)
    assert operations.count("orders.page") == 3  # 2 + 2 + 1, page by page
    assert "push_stock.push" in operations


def test_a_429_waits_without_counting_an_attempt(store: Shop) -> None:
    store.market.fail_next(429, retry_after=7, path_prefix="/orders")
    store.market.add_order("R1")
    _poll(store)
    store.harness.run(store.plugin_id)
    work = _work(store)
    assert (work.kind, work.state, work.attempts, work.throttled) == (
        WorkKind.POLL_ORDERS,
        WorkState.PENDING,
        0,
        1,
    )
    time_passes(store.hub)
    store.harness.run(store.plugin_id)
    assert _imported(store, "R1")


def test_5xx_backs_off_to_failing_and_recovers(store: Shop) -> None:
    store.market.fail_next(503, times=drain.FAILING_AFTER_ATTEMPTS, path_prefix="/orders")
    store.market.add_order("U1")
    _poll(store)
    for attempt in range(1, drain.FAILING_AFTER_ATTEMPTS + 1):
        store.harness.run(store.plugin_id, rounds=1)
        work = _work(store)
        assert work.attempts == attempt and "HTTP 503" in work.last_error
        time_passes(store.hub)
    with store.hub.db.read() as session:
        assert plugins.get_plugin(session, store.plugin_id).state is PluginState.FAILING
    assert _open(store, NotificationKind.PLATFORM_UNAVAILABLE)
    store.harness.run(store.plugin_id)
    assert _imported(store, "U1")
    with store.hub.db.read() as session:
        assert plugins.get_plugin(session, store.plugin_id).state is PluginState.ACTIVE


def test_a_401_pauses_the_plugin_as_needing_reauthorization(store: Shop) -> None:
    store.market.token = "rotated-elsewhere"
    store.market.add_order("A1")
    _poll(store)
    store.harness.run(store.plugin_id)
    with store.hub.db.read() as session:
        plugin = plugins.get_plugin(session, store.plugin_id)
        assert plugin.state is PluginState.NEEDS_REAUTHORIZATION
    (note,) = _open(store, NotificationKind.AUTHORIZATION_LOST)
    assert "invalid token" in note.message  # the template's error rule quoted the store
    assert not _imported(store, "A1")


def test_activation_reads_the_stores_locations_through_the_pull(store: Shop) -> None:
    with store.hub.db.unit_of_work() as session:
        plugins.deactivate(session, store.plugin_id)
    actions.activate(store.hub, store.plugin_id)
    store.harness.run(store.plugin_id)
    with store.hub.db.read() as session:
        found = {m.external_id: m.name for m in links.location_mappings(session, store.plugin_id)}
    assert found == {"loc-1": "Main", "loc-2": "Popup"}
    assert "locations.page" in _operations(store)
