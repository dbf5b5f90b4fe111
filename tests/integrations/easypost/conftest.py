"""An EasyPost sandbox with a key, and a hub with the shipped EasyPost template as a
plugin of the carrier shop's channel (rates, labels, voids, tracking) and its package
ready to rate; and a way to drain the plugin's work."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.integrations.carrier import ADDRESS, carrier_shop
from tests.sync.conftest import Harness, time_passes
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.connectors.template import connector_class, shipped_templates
from tradewind.hub import Hub
from tradewind.sandbox.easypost import EasyPostSandbox
from tradewind.settings import Settings
from tradewind.sync import ledger

(EASYPOST,) = [t for t in shipped_templates() if t.id == "easypost"]
EasyPost = connector_class(EASYPOST)
__all__ = ["ADDRESS", "EasyPost", "Shop", "drain"]


@dataclass
class Shop:
    hub: Hub
    sandbox: EasyPostSandbox
    key: str
    plugin_id: int
    package_id: int


@pytest.fixture
def shop(settings: Settings) -> Iterator[Shop]:
    with (
        EasyPostSandbox() as sandbox,
        Hub(settings, registry=ConnectorRegistry.of(EasyPost)) as hub,
    ):
        key = sandbox.add_key()
        # 1,868 g is the docs' 65.9 oz parcel.
        config = {"api_key": key, "api_url": sandbox.api_base}
        yield Shop(hub, sandbox, key, *carrier_shop(hub, EasyPost.info, config, "E1"))


def drain(hub: Hub, plugin_id: int, rounds: int = 10) -> int:
    """Run the plugin's work until none is left pending, letting the time its own rate
    budget spreads calls over pass at once; returns the units done."""
    harness = Harness(hub)
    done = 0
    for _ in range(rounds):
        time_passes(hub)
        done += harness.run(plugin_id)
        with hub.db.read() as session:
            if not ledger.depth(session, plugin_id):
                break
    return done
