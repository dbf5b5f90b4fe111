"""Building a live connector for a plugin: its settings with secrets, its credential
store, its shared rate budgets and the recorder of its calls."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType

from sqlalchemy import update
from sqlalchemy.orm import Session

from tradewind.connectors.base import Capability, Connector, ConnectorClass, ConnectorContext
from tradewind.connectors.errors import Unavailable
from tradewind.connectors.http import Call
from tradewind.connectors.ratelimit import BucketPolicy, RateBudget
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin, PluginState
from tradewind.core.plugins.schemas import ImportRules
from tradewind.db import insert_ignore, utcnow
from tradewind.hub import Hub
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync.budgets import PatientBudget, SharedBudget
from tradewind.sync.models import CredentialLock

# Order rules that make the engine call the platform beyond what the toggles do: the
# permissions Test connection checks come from these as well as from the toggles.
RULE_USES: Mapping[Capability, Callable[[ImportRules], bool]] = MappingProxyType(
    {
        Capability.CLOSE_ORDERS: lambda rules: rules.close_orders,
        Capability.CANCEL_ORDERS: lambda rules: rules.cancel_on_platform,
        Capability.EXPORT_RETURNS: lambda rules: rules.export_returns,
    }
)


def uses(plugin: Plugin) -> frozenset[Capability]:
    """The capabilities the plugin's order rules have the engine use."""
    rules = plugins.import_rules(plugin)
    return frozenset(capability for capability, on in RULE_USES.items() if on(rules))


class CallBuffer:
    """Collects a work item's calls; they are written with the item's outcome.
    ``answered`` counts the calls the platform answered successfully (the only proof
    that a platform problem is over)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.answered = 0

    def record(self, call: Call) -> None:
        self.calls.append(call)
        if call.outcome == "success":
            self.answered += 1

    def take(self) -> list[Call]:
        calls, self.calls = self.calls, []
        return calls


class PluginCredentials:
    """The plugin's sealed credentials; an update is committed at once, on its own."""

    def __init__(self, hub: Hub, plugin_id: int) -> None:
        self._hub = hub
        self._plugin_id = plugin_id

    def get(self) -> Mapping[str, str]:
        with self._hub.db.read() as session:
            plugin = plugins.get_plugin(session, self._plugin_id)
        try:
            return plugins.read_credentials(self._hub.vault, plugin)
        except plugins.CredentialsUnreadable as exc:
            raise self._unreadable(exc) from None

    def update(self, changes: Mapping[str, str | None]) -> None:
        try:
            with self._hub.db.unit_of_work() as session:
                plugin = plugins.get_plugin(session, self._plugin_id)
                plugins.write_credentials(session, self._hub.vault, plugin, changes)
        except plugins.CredentialsUnreadable as exc:
            raise self._unreadable(exc) from None

    def _unreadable(self, exc: plugins.CredentialsUnreadable) -> Unavailable:
        """Said once, to the plugin's people; to the connector, an outage (work is kept)."""
        mark_unreadable(self._hub, self._plugin_id, exc)
        return Unavailable("the plugin's stored credentials cannot be decrypted")

    @contextlib.contextmanager
    def exclusive(self, *, wait: float = 30.0, hold: float = 60.0) -> Iterator[None]:
        """The plugin's credential lock, across processes (a lease row: a holder that dies
        frees it when the lease ends). No transaction stays open while it is held."""
        holder = uuid.uuid4().hex
        deadline = time.monotonic() + wait
        while True:
            with self._hub.db.unit_of_work() as session:
                if _take_lock(session, self._plugin_id, holder, hold):
                    break
            if time.monotonic() > deadline:
                raise Unavailable("another worker is refreshing this plugin's credentials")
            time.sleep(0.2)
        try:
            yield
        finally:
            with self._hub.db.unit_of_work() as session:
                session.execute(
                    update(CredentialLock)
                    .where(
                        CredentialLock.plugin_id == self._plugin_id, CredentialLock.holder == holder
                    )
                    .values(holder="", until=utcnow() - dt.timedelta(seconds=1))
                )


def _take_lock(session: Session, plugin_id: int, holder: str, hold: float) -> bool:
    now = utcnow()
    insert_ignore(
        session,
        CredentialLock.__table__,
        [{"plugin_id": plugin_id, "holder": "", "until": now - dt.timedelta(seconds=1)}],
        conflict_columns=["plugin_id"],
    )
    result = session.execute(
        update(CredentialLock)
        .where(CredentialLock.plugin_id == plugin_id, CredentialLock.until < now)
        .values(holder=holder, until=now + dt.timedelta(seconds=hold))
    )
    return bool(getattr(result, "rowcount", 0))


def account_key(plugin: Plugin) -> str:
    """Whose quota a plugin spends: its remote account, shared with any other plugin on it."""
    return f"{plugin.connector}:{plugin.remote_account or f'plugin-{plugin.id}'}"


def mark_unreadable(hub: Hub, plugin_id: int, exc: plugins.CredentialsUnreadable) -> None:
    with hub.db.unit_of_work() as session:
        plugins.mark_credentials_unreadable(
            session, plugins.get_plugin(session, plugin_id), str(exc)
        )


def check_credentials(hub: Hub, plugin_id: int) -> None:
    """Open the plugin's credentials and say whether they open: a plugin whose credentials
    no key opens is paused with a notification, and resumes once they open again. Call
    it outside any transaction."""
    with hub.db.read() as session:
        plugin = plugins.get_plugin(session, plugin_id)
        noted = plugin.state is PluginState.CREDENTIALS_UNREADABLE or bool(
            notifications.open_notifications(
                session, plugin_id=plugin_id, kind=NotificationKind.CREDENTIALS_UNREADABLE
            )
        )
    try:
        plugins.read_credentials(hub.vault, plugin)
    except plugins.CredentialsUnreadable as exc:
        mark_unreadable(hub, plugin_id, exc)
        return
    if noted:
        with hub.db.unit_of_work() as session:
            plugins.mark_credentials_readable(session, plugins.get_plugin(session, plugin_id))


def open_connector(
    hub: Hub,
    plugin: Plugin,
    recorder: CallBuffer,
    *,
    connector_class: ConnectorClass | None = None,
    patience: float = 0.0,
) -> Connector:
    """A connector instance for ``plugin`` (of ``connector_class`` when given: a template
    being edited, tried with the plugin's credentials). The caller closes it. Credentials
    that no key opens raise ``CredentialsUnreadable``, once the plugin has been paused.
    ``patience``: how long a call waits for the rate budget before it is refused (a
    person waiting on the answer; the engine's work is refused at once and rescheduled)."""
    if connector_class is None:
        connector_class = hub.connector_for(plugin)  # a template plugin: its pinned version
    info = connector_class.info
    try:
        settings = plugins.plugin_settings(hub.vault, info, plugin)
    except plugins.CredentialsUnreadable as exc:
        mark_unreadable(hub, plugin.id, exc)
        raise
    if plugin.state is PluginState.CREDENTIALS_UNREADABLE:
        with hub.db.unit_of_work() as session:  # they open again: the plugin resumes
            plugins.mark_credentials_readable(session, plugins.get_plugin(session, plugin.id))
    account = account_key(plugin)

    def budget(policy: BucketPolicy) -> RateBudget:
        shared = SharedBudget(hub.db, account, policy)
        return PatientBudget(shared, patience) if patience > 0 else shared

    context = ConnectorContext(
        plugin_id=plugin.id,
        plugin_name=plugin.name,
        webhook_url=f"{hub.settings.base_url}/hooks/{plugin.id}",
        credentials=PluginCredentials(hub, plugin.id),
        budget=budget,
        recorder=recorder,
        transport=hub.connections(),
        allow_sandbox_hosts=hub.settings.allow_sandbox_hosts,
        outbound=hub.outbound,
    )
    connector: Connector = connector_class(settings, context)
    return connector
