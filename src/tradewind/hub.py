"""The composition root: builds the database, vault, event bus and connector registry of
one running Tradewind. Only entry points (CLI, API, worker) create a Hub; services receive
what they need explicitly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection

import httpx2

from tradewind.connectors.outbound import OutboundPolicy, Resolver, system_resolver
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.core import rules
from tradewind.db import Database, private_directory
from tradewind.events import EventBus
from tradewind.settings import Settings
from tradewind.sync import triggers
from tradewind.sync.triggers import Kick
from tradewind.vault import Vault, load_vault
from tradewind.vocabulary import Toggle


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
            self.bus, lambda plugin_id, due: self.kick(plugin_id, due), self._topic_toggles
        )
        self.db = Database(settings.resolved_database_url, bus=self.bus)
        self.vault: Vault = load_vault(settings, announce=announce)
        self.registry = registry if registry is not None else ConnectorRegistry.discover()
        # Every connector's HTTP goes through this transport when set (the test seam);
        # otherwise through the outbound policy's, which resolves names with ``resolver``.
        self.transport = transport
        self.resolver = resolver

    @property
    def outbound(self) -> OutboundPolicy:
        """The outbound address policy every URL and connection of this hub follows."""
        return OutboundPolicy(
            allow_loopback=self.settings.allow_sandbox_hosts, resolver=self.resolver
        )

    def _topic_toggles(self, connector: str) -> Collection[Toggle]:
        if connector not in self.registry.connectors:
            return ()
        return self.registry.info(connector).toggle_topics.keys()

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Hub:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _nobody_listens(plugin_id: int, due: dt.datetime | None) -> None:
    """No engine in this process: the work waits in the ledger for a sweep."""
