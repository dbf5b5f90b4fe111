"""``/metrics`` for Prometheus: read from the database at scrape time, so every process
reports the same numbers (no multiprocess bookkeeping) — queue depth per plugin and kind,
plugin states, open notifications per kind, orders per channel and status."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CollectorRegistry, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from tradewind.core.orders.models import Order
from tradewind.core.plugins.models import Plugin, PluginState
from tradewind.hub import Hub
from tradewind.monitoring.notifications import Notification
from tradewind.sync.models import SyncWork, WorkState

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class HubCollector(Collector):
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[Metric]:
        queue = GaugeMetricFamily(
            "tradewind_queue_depth", "Pending sync work", labels=["plugin", "kind"]
        )
        state = GaugeMetricFamily(
            "tradewind_plugin_state", "1 for the plugin's current state", labels=["plugin", "state"]
        )
        success = GaugeMetricFamily(
            "tradewind_plugin_last_success_timestamp_seconds",
            "When the plugin last succeeded",
            labels=["plugin"],
        )
        open_notifications = GaugeMetricFamily(
            "tradewind_notifications_open", "Open notifications", labels=["kind"]
        )
        orders = GaugeMetricFamily(
            "tradewind_orders", "Orders by channel and status", labels=["channel", "status"]
        )
        with self.hub.db.read() as session:
            names = {plugin.id: plugin.name for plugin in session.scalars(select(Plugin))}
            for plugin in session.scalars(select(Plugin)):
                for value in PluginState:
                    state.add_metric(
                        [plugin.name, value.value], 1.0 if plugin.state is value else 0.0
                    )
                if plugin.last_success_at is not None:
                    success.add_metric([plugin.name], plugin.last_success_at.timestamp())
            for plugin_id, kind, count in session.execute(
                select(SyncWork.plugin_id, SyncWork.kind, func.count())
                .where(SyncWork.state == WorkState.PENDING)
                .group_by(SyncWork.plugin_id, SyncWork.kind)
            ):
                queue.add_metric([names.get(plugin_id, str(plugin_id)), kind.value], count)
            for notification_kind, count in session.execute(
                select(Notification.kind, func.count())
                .where(Notification.resolved_at.is_(None))
                .group_by(Notification.kind)
            ):
                open_notifications.add_metric([notification_kind.value], count)
            for channel_id, status, count in session.execute(
                select(Order.channel_id, Order.status, func.count()).group_by(
                    Order.channel_id, Order.status
                )
            ):
                orders.add_metric([str(channel_id), status.value], count)
        yield from (queue, state, success, open_notifications, orders)


def registry_for(hub: Hub) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HubCollector(hub))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
