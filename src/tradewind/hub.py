"""The composition root: builds the database, vault, event bus and connector registry of
one running Tradewind. Only entry points (CLI, API, worker) create a Hub; services receive
what they need explicitly."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Collection, Sequence

import httpx2
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from tradewind.connectors.base import ConnectorClass, ConnectorInfo
from tradewind.connectors.outbound import (
    OutboundPolicy,
    Resolver,
    SharedTransport,
    system_resolver,
)
from tradewind.connectors.registry import ConnectorRegistry, UnknownConnector
from tradewind.connectors.template import TemplateConnector, find_templates
from tradewind.connectors.template.library import TemplateLibrary
from tradewind.connectors.template.sources import Found
from tradewind.core import rules
from tradewind.core.plugins.models import Plugin
from tradewind.core.templates import service as templates_store
from tradewind.core.templates.models import StoredTemplate
from tradewind.db import Database, private_directory
from tradewind.events import DomainEvent, EventBus
from tradewind.settings import Settings
from tradewind.sync import triggers
from tradewind.sync.hook_triggers import EventHooks
from tradewind.sync.triggers import Kick
from tradewind.vault import Vault, load_vault
from tradewind.vocabulary import Toggle
from tradewind.webhooks import outbox

# Every platform of the process shares these: the engine's workers, the API's threads.
CONNECTION_LIMITS = httpx2.Limits(max_connections=100, max_keepalive_connections=20)


class Hub:
    def __init__(
        self,
        settings: Settings,
        *,
        registry: ConnectorRegistry | None = None,
        announce: Callable[[str], None] | None = None,
        transport: httpx2.BaseTransport | None = None,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.settings = settings
        private_directory(settings.data_dir)
        self.bus = EventBus()
        rules.subscribe(self.bus)
        # Sync work is written with every change that causes it, in every process (CLI,
        # API, worker): a stock change made where no engine runs is never lost. Once
        # committed, the work is announced through ``kick``; an engine replaces the
        # default, and without one the reconciler's sweep finds the due work.
        self.kick: Kick = _nobody_listens
        triggers.subscribe(
            self.bus,
            lambda plugin_id, due: self.kick(plugin_id, due),
            self._topic_toggles,
            EventHooks(bound=self._bound_events, of=self._event_hooks),
        )
        # Outgoing webhook events and their deliveries are written with the change too;
        # once committed, the endpoints with deliveries due are announced the same way.
        self.deliver: Kick = _nobody_listens
        outbox.subscribe(self.bus)
        self.bus.after_commit(
            lambda events: _announce_deliveries(events, self.deliver),
            types=[outbox.DeliveriesQueued],
        )
        self.db = Database(settings.resolved_database_url, bus=self.bus)
        self.vault: Vault = load_vault(settings, announce=announce)
        # Python connectors (entry points, or the registry given) and the templates: the
        # shipped ones and the merchant's directory unless a registry is given, and the
        # uploaded ones always (``refresh_templates``).
        self._python = registry if registry is not None else ConnectorRegistry.discover()
        self._template_files = (
            find_templates(settings.templates_dir) if registry is None else Found()
        )
        self._uploaded: tuple[tuple[str, str, str], ...] = ()
        self.templates = TemplateLibrary()
        self._events: frozenset[str] = frozenset()  # the store events template hooks run on
        self.registry = self._python
        self.refresh_templates()
        # Every connector's HTTP goes through this transport when set (the test seam);
        # otherwise through the outbound policy's, which resolves names with ``resolver``.
        self.transport = transport
        self.resolver = resolver
        self._connections: SharedTransport | None = None
        self._connections_lock = threading.Lock()

    @property
    def outbound(self) -> OutboundPolicy:
        """The outbound address policy every URL and connection of this hub follows."""
        return OutboundPolicy(
            allow_loopback=self.settings.allow_sandbox_hosts, resolver=self.resolver
        )

    def connections(self) -> httpx2.BaseTransport:
        """The transport every connector's HTTP goes through: the test seam when one was
        given, else this process's pool of connections under the outbound policy (opened
        once, kept between connectors; a changed policy gets a pool of its own)."""
        if self.transport is not None:
            return self.transport
        policy = self.outbound
        with self._connections_lock:
            if self._connections is None or self._connections.policy != policy:
                self._connections = SharedTransport(policy, limits=CONNECTION_LIMITS)
            return self._connections

    @property
    def python_registry(self) -> ConnectorRegistry:
        """The connectors that are not templates (entry points, or the registry given)."""
        return self._python

    def refresh_templates(self) -> bool:
        """Take in the templates uploaded since (every process: the API at once after an
        upload, a worker at its reconciler's sweep). Returns whether anything changed."""
        uploaded = self._read_uploaded()
        if uploaded == self._uploaded and self.templates.classes:
            return False
        self._uploaded = uploaded
        library = TemplateLibrary.build(self._template_files, uploaded)
        self.templates = library
        self.registry = self._python.including(library.latest(), library.broken)
        self._events = self._find_bound_events()
        return True

    def _read_uploaded(self) -> tuple[tuple[str, str, str], ...]:
        try:  # asked of the engine directly: a missing table is not the database down
            if not inspect(self.db.engine).has_table(StoredTemplate.__tablename__):
                return ()  # not migrated yet: no uploaded templates to read
        except SQLAlchemyError:
            return ()
        with self.db.read() as session:
            rows = templates_store.stored(session)
            return tuple((row.template_id, row.version, row.source) for row in rows)

    def connector_for(self, plugin: Plugin) -> ConnectorClass:
        """The connector class ``plugin`` runs on: a template plugin's pinned version,
        however newer the catalogue's is."""
        connector = self.registry.get(plugin.connector)
        version = plugin.connector_version
        if (
            version is None
            or not isinstance(connector, type)
            or not issubclass(connector, TemplateConnector)
            or connector.template.version == version
        ):
            return connector
        pinned = self.templates.version(plugin.connector, version)
        if pinned is None:
            raise UnknownConnector(
                f"the template {plugin.connector} {version} that {plugin.name} was made "
                "with is no longer installed; upgrade the plugin to a version there is"
            )
        return pinned

    def info_for(self, plugin: Plugin) -> ConnectorInfo:
        """What ``plugin``'s connector declares (settings, capabilities, toggles): for a
        template plugin, those of the version it is pinned to."""
        return self.connector_for(plugin).info

    def _bound_events(self) -> frozenset[str]:
        return self._events

    def _find_bound_events(self) -> frozenset[str]:
        """The store events some installed template version runs a hook on."""
        classes = [*self.templates.classes.values()]
        classes += [
            connector
            for connector in self.registry.connectors.values()
            if isinstance(connector, type) and issubclass(connector, TemplateConnector)
        ]
        return frozenset(
            event
            for connector in classes
            for event in {hook.on for hook in connector.template.hooks.values()}
            if event is not None and connector.hooks_for(event)
        )

    def _event_hooks(self, plugin: Plugin, event: str) -> Sequence[str]:
        try:
            connector = self.connector_for(plugin)
        except UnknownConnector:
            return ()
        if isinstance(connector, type) and issubclass(connector, TemplateConnector):
            return connector.hooks_for(event)
        return ()

    def _topic_toggles(self, connector: str) -> Collection[Toggle]:
        if connector not in self.registry.connectors:
            return ()
        return self.registry.info(connector).toggle_topics.keys()

    def close(self) -> None:
        if self._connections is not None:
            self._connections.shut()
        self.db.dispose()

    def __enter__(self) -> Hub:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _nobody_listens(plugin_id: int, due: dt.datetime | None) -> None:
    """No engine in this process: the work waits in the ledger for a sweep."""


def _announce_deliveries(events: Sequence[DomainEvent], deliver: Kick) -> None:
    for subscription_id in sorted(
        {event.subscription_id for event in events if isinstance(event, outbox.DeliveriesQueued)}
    ):
        deliver(subscription_id, None)
