"""A template hook bound to a store event runs when it happens: an order imported on a
channel runs ``on: order.created`` hooks of the channel's template plugins (not of
plugins on other channels, not of paused ones), with the order and its lines as input,
through the engine (its calls are the plugin's executions)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests import factories
from tests.connectors.listener import Listener
from tests.fakes import FakeConnector
from tests.sync.conftest import Harness
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.connectors.template import connector_class, load_template
from tradewind.core.orders import service as orders
from tradewind.core.plugins import service as plugins
from tradewind.hub import Hub
from tradewind.monitoring import executions
from tradewind.settings import Settings
from tradewind.sync.models import SyncWork, WorkKind

ERP = connector_class(
    load_template("""\
schema: tradewind-template/v1
id: erp
version: 1.0.0
display_name: ERP
category: accounting
environments:
  live: {base_url: "{{ settings.url }}"}
settings:
  url: {type: string}
auth: {kind: none}
test_connection:
  request: {path: /me}
hooks:
  order_to_erp:
    on: order.created
    steps:
      - name: send
        request:
          method: POST
          path: /sales-orders
          body: |
            {"number": input.order.number, "total": input.order.total,
             "skus": [input.order.lines.sku], "event": input.event}
""")
)


@pytest.fixture
def erp_hub(settings: Settings) -> Iterator[Hub]:
    with Hub(settings, registry=ConnectorRegistry.of(FakeConnector, ERP)) as hub:
        yield hub


def _erp(hub: Hub, url: str, channel_id: int, name: str) -> int:
    with hub.db.unit_of_work() as session:
        made = plugins.add_plugin(session, hub.vault, ERP.info, name=name, config={"url": url})
        plugins.attach(session, made.id, channel_id)
        plugins.activate(session, made.id)
        return made.id


def test_an_imported_order_runs_the_channels_order_created_hooks(erp_hub: Hub) -> None:
    hub = erp_hub
    with Listener() as erp, Listener() as elsewhere:
        with hub.db.unit_of_work() as session:
            shop = factories.channel(session, "Shop")
            other = factories.channel(session, "Wholesale")
            store = factories.plugin(hub, session, "store", channel_id=shop.id)
            store_id = store.id
        on_shop = _erp(hub, erp.url, shop.id, "erp-shop")
        on_other = _erp(hub, elsewhere.url, other.id, "erp-wholesale")
        with hub.db.unit_of_work() as session:
            orders.import_order(session, store_id, factories.order_in("A1", ("MUG", 2)))
        harness = Harness(hub)
        harness.run(on_shop)
        harness.run(on_other)
        (sent,) = erp.reached
        assert (sent.method, sent.path) == ("POST", "/sales-orders")
        body = json.loads(sent.body)
        assert body == {
            "number": "#A1",
            "total": body["total"],
            "skus": ["MUG"],
            "event": "order.created",
        }
        assert isinstance(body["total"], str)  # money stays a decimal string
        assert elsewhere.reached == []
        with hub.db.read() as session:
            operations = [e.operation for e in executions.recent(session, on_shop)]
        assert operations == ["order_to_erp.send"]


def test_no_work_is_written_where_no_hook_is_bound_or_the_plugin_is_paused(
    erp_hub: Hub,
) -> None:
    hub = erp_hub
    with hub.db.unit_of_work() as session:
        shop = factories.channel(session, "Shop")
        store_id = factories.plugin(hub, session, "store", channel_id=shop.id).id
    paused = _erp(hub, "http://127.0.0.1:9", shop.id, "erp-paused")
    with hub.db.unit_of_work() as session:
        plugins.deactivate(session, paused)
    with hub.db.unit_of_work() as session:
        orders.import_order(session, store_id, factories.order_in("B1", ("MUG", 1)))
    with hub.db.read() as session:
        kinds = {row.kind for row in session.query(SyncWork)}
    assert WorkKind.RUN_HOOK not in kinds
