"""The probe of a plugin that lost its authorization."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tradewind.connectors.base import TestsConnection
from tradewind.connectors.errors import AuthFailed
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import PluginState
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync import ledger
from tradewind.sync.batch import Job
from tradewind.sync.handlers.base import Single
from tradewind.sync.models import ORDERS_STREAM, WorkKind
from tradewind.sync.runtime import uses


class CheckAuth(Single[None]):
    """Whether the plugin's credentials work again; if they do, its work resumes."""

    def fetch(self, job: Job) -> None:
        connector = job.capability(TestsConnection)
        report = connector.test_connection(job.plugin.toggles, uses(job.plugin))
        if not report.ok:
            raise AuthFailed(report.detail or "the credentials still do not work")

    def apply(self, session: Session, job: Job, fetched: None) -> None:
        plugin = plugins.get_plugin(session, job.plugin.id)
        if plugin.state is PluginState.NEEDS_REAUTHORIZATION:
            plugins.set_state(session, plugin, PluginState.ACTIVE)
        notifications.resolve(session, NotificationKind.AUTHORIZATION_LOST, plugin_id=plugin.id)
        ledger.enqueue(session, plugin.id, WorkKind.POLL_ORDERS, ORDERS_STREAM)
