"""Events are written in the transaction of the change that caused them, with one delivery
per subscription that wants them; a rolled-back change writes none; every payload is
what its published schema says."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import event as sql_events
from sqlalchemy import select

from tests import factories
from tests.webhooks.conftest import subscribe
from tradewind.core.catalog import service as catalog
from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import PluginState
from tradewind.core.shipments import service as shipments
from tradewind.core.shipments.schemas import ShipmentIn
from tradewind.errors import Conflict
from tradewind.hub import Hub
from tradewind.webhooks import catalogue, outbox
from tradewind.webhooks.examples import EXAMPLES
from tradewind.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEvent

URL = "http://127.0.0.1:9/hooks"  # nothing listens: these tests only write
_PRODUCTS = re.compile(r"\bFROM products\b")


def _events(hub: Hub) -> list[dict[str, object]]:
    with hub.db.read() as session:
        rows = session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)).all()
        return [json.loads(row.body) for row in rows]


def _validate(envelope: dict[str, object]) -> None:
    jsonschema.validate(envelope, catalogue.envelope_schema(str(envelope["type"])))


def test_nothing_is_written_without_a_subscription(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        factories.product(session, "MUG")
    assert _events(hub) == []


def test_a_change_writes_its_event_and_a_delivery_per_subscription(hub: Hub) -> None:
    first, _ = subscribe(hub, URL)
    second, _ = subscribe(hub, URL, event_types=["product.created"])
    subscribe(hub, URL, event_types=["order.created"])
    with hub.db.unit_of_work() as session:
        product = factories.product(session, "MUG", price="12.5")
    [event] = _events(hub)
    _validate(event)
    assert event["type"] == "product.created"
    assert str(event["id"]).startswith("evt_")
    assert event["api_version"] == catalogue.API_VERSION
    data = event["data"]
    assert isinstance(data, dict)
    assert data["id"] == product.id and data["sku"] == "MUG" and data["price"] == "12.50"
    with hub.db.read() as session:
        deliveries = session.scalars(select(WebhookDelivery)).all()
    assert sorted(d.subscription_id for d in deliveries) == [first.id, second.id]
    assert {d.status for d in deliveries} == {DeliveryStatus.PENDING}
    assert {d.event_id for d in deliveries} == {event["id"]}


def _product_reads(hub: Hub, skus: list[str]) -> int:
    """How many statements reading ``products`` one transaction creating ``skus`` makes."""
    reads = 0

    def count(_c: object, _k: object, statement: str, *_rest: object) -> None:
        nonlocal reads
        reads += statement.lstrip().startswith("SELECT") and bool(_PRODUCTS.search(statement))

    sql_events.listen(hub.db.engine, "before_cursor_execute", count)
    try:
        with hub.db.unit_of_work() as session:
            for sku in skus:
                factories.product(session, sku)
    finally:
        sql_events.remove(hub.db.engine, "before_cursor_execute", count)
    return reads


def test_the_events_of_a_transaction_read_their_records_in_one_query(hub: Hub) -> None:
    """200 products made in one transaction: their events cost one read of them, not one
    each (the session does not hold the rows it flushed)."""
    unwatched = _product_reads(hub, [f"QUIET-{number}" for number in range(200)])
    subscribe(hub, URL)
    watched = _product_reads(hub, [f"LOUD-{number}" for number in range(200)])
    assert watched - unwatched == 1
    events = _events(hub)
    for envelope in events:
        _validate(envelope)
    skus = sorted(str(dict(envelope["data"])["sku"]) for envelope in events)  # type: ignore[call-overload]
    assert skus == sorted(f"LOUD-{number}" for number in range(200))


def test_a_rolled_back_change_writes_no_event(hub: Hub) -> None:
    subscribe(hub, URL)
    with pytest.raises(RuntimeError), hub.db.unit_of_work() as session:
        factories.product(session, "MUG")
        raise RuntimeError("the change fails after the product was made")
    assert _events(hub) == []
    with hub.db.read() as session:
        assert session.scalars(select(WebhookDelivery)).all() == []


def test_order_shipment_and_stock_events_carry_the_committed_state(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each step's levels as its own event (nothing sends here, so they would coalesce).
    monkeypatch.setattr(outbox, "COALESCE_WINDOW", dt.timedelta(seconds=-1))
    subscribe(hub, URL)
    with hub.db.unit_of_work() as session:
        channel = factories.channel(session)
        warehouse = factories.warehouse(session)
        product = factories.product(session, "MUG")
        inventory.receive(session, product.id, warehouse.id, 10)
    with hub.db.unit_of_work() as session:
        order = orders.create_manual_order(
            session, channel.id, factories.order_in("1001", ("MUG", 2))
        )
    with hub.db.unit_of_work() as session:
        shipments.create_shipment(
            session, order.id, ShipmentIn(carrier="USPS", tracking_number="9400")
        )
    events = _events(hub)
    for event in events:
        _validate(event)
    types = [event["type"] for event in events]
    assert types.count("product.created") == 1
    assert "order.created" in types and "shipment.created" in types
    assert "order.fulfilled" in types
    fulfilled = next(e for e in events if e["type"] == "order.fulfilled")
    assert fulfilled["channel_id"] == channel.id
    assert fulfilled["data"]["fulfillment"]["tracking_number"] == "9400"  # type: ignore[index]
    levels = [e["data"] for e in events if e["type"] == "inventory.updated"]
    assert levels[0] == {  # the receipt
        **levels[0],  # type: ignore[dict-item]
        "on_hand": 10,
        "reserved": 0,
        "available": 10,
        "warehouse_code": warehouse.code,
    }
    assert {(lv["on_hand"], lv["reserved"], lv["available"]) for lv in levels} >= {  # type: ignore[index]
        (10, 2, 8),  # reserved by the order
        (8, 0, 8),  # shipped
    }


def test_a_channel_filter_narrows_the_events_of_a_channel_only(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        uk = factories.channel(session, "UK")
        us = factories.channel(session, "US")
        factories.warehouse(session)
        factories.product(session, "MUG")
    subscription, _ = subscribe(hub, URL, channel_id=uk.id)
    with hub.db.unit_of_work() as session:
        orders.create_manual_order(session, us.id, factories.order_in("1", ("MUG", 1)))
        orders.create_manual_order(session, uk.id, factories.order_in("2", ("MUG", 1)))
        catalog.update_product(session, 1, {"title": "Blue mug"})
    with hub.db.read() as session:
        delivered = session.scalars(
            select(WebhookEvent)
            .join(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == subscription.id)
        ).all()
    got = {(row.type, row.channel_id) for row in delivered}
    assert ("order.created", uk.id) in got
    assert ("order.created", us.id) not in got
    assert ("product.updated", None) in got


def test_a_plugin_losing_and_regaining_authorization_is_told(hub: Hub) -> None:
    subscribe(hub, URL, event_types=["plugin.auth_failed", "plugin.recovered"])
    with hub.db.unit_of_work() as session:
        plugin = factories.plugin(hub, session)
        plugins.activate(session, plugin.id)
    with hub.db.unit_of_work() as session:
        found = plugins.get_plugin(session, plugin.id)
        plugins.set_state(session, found, PluginState.NEEDS_REAUTHORIZATION, "401 revoked")
    with hub.db.unit_of_work() as session:
        plugins.set_state(session, plugins.get_plugin(session, plugin.id), PluginState.ACTIVE)
    events = _events(hub)
    for event in events:
        _validate(event)
    assert [(e["type"], e["data"]["previous_state"]) for e in events] == [  # type: ignore[index]
        ("plugin.auth_failed", "active"),
        ("plugin.recovered", "needs_reauthorization"),
    ]


@pytest.mark.parametrize("event_type", list(catalogue.CATALOGUE))
def test_every_type_has_a_schema_its_example_follows(event_type: str) -> None:
    schema = catalogue.envelope_schema(event_type)
    jsonschema.Draft202012Validator.check_schema(schema)
    envelope = {
        "id": "evt_01JC0M2ZK8Q4ABCDEFGHJKMNPQ",
        "type": event_type,
        "timestamp": "2026-11-03T20:26:10.344Z",
        "api_version": catalogue.API_VERSION,
        "channel_id": None,
        "test": True,
        "data": EXAMPLES[event_type],
    }
    jsonschema.validate(envelope, schema)


def test_the_docs_list_every_type_and_publish_the_current_schemas() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs"
    assert (docs / "webhook-events.schema.json").read_text() == catalogue.published()
    text = (docs / "webhooks.md").read_text()
    for name in catalogue.CATALOGUE:
        assert f"| `{name}` |" in text, name


def test_deleting_a_product_tells_product_deleted_and_an_ordered_one_is_refused(
    hub: Hub,
) -> None:
    subscribe(hub, URL, event_types=["product.deleted"])
    with hub.db.unit_of_work() as session:
        channel = factories.channel(session)
        warehouse = factories.warehouse(session)
        gone = factories.product(session, "GONE")
        inventory.receive(session, gone.id, warehouse.id, 3)  # its stock goes with it
        kept = factories.product(session, "KEPT")
    with hub.db.unit_of_work() as session:
        orders.create_manual_order(session, channel.id, factories.order_in("1", ("KEPT", 1)))
    with hub.db.unit_of_work() as session:
        catalog.delete_product(session, gone.id)
    [event] = _events(hub)
    _validate(event)
    assert event["type"] == "product.deleted"
    assert event["data"] == {**event["data"], "id": gone.id, "sku": "GONE"}  # type: ignore[dict-item]
    with pytest.raises(Conflict, match="order line"), hub.db.unit_of_work() as session:
        catalog.delete_product(session, kept.id)
    with hub.db.read() as session:
        assert catalog.find_by_sku(session, "KEPT") is not None
        assert catalog.find_by_sku(session, "GONE") is None
    assert len(_events(hub)) == 1  # the refused delete told nothing


def _levels(hub: Hub) -> list[tuple[str, int, int]]:
    """(event id, warehouse id, on hand) of each inventory.updated event written."""
    return [
        (str(e["id"]), e["data"]["warehouse_id"], e["data"]["on_hand"])  # type: ignore[index]
        for e in _events(hub)
        if e["type"] == "inventory.updated"
    ]


def test_a_burst_of_stock_changes_coalesces_while_its_event_is_untried(hub: Hub) -> None:
    subscription, _ = subscribe(hub, URL, event_types=["inventory.updated"])
    with hub.db.unit_of_work() as session:
        main, spare = factories.warehouse(session), factories.warehouse(session, "SPARE")
        mug = factories.product(session, "MUG")
    for quantity in (5, 3, 2):  # three transactions, nothing sent in between
        with hub.db.unit_of_work() as session:
            inventory.receive(session, mug.id, main.id, quantity)
    [(first, warehouse_id, on_hand)] = _levels(hub)
    assert (warehouse_id, on_hand) == (main.id, 10)  # one event, the newest figures
    with hub.db.unit_of_work() as session:
        inventory.receive(session, mug.id, spare.id, 1)  # another warehouse: its own event
    assert [level[1:] for level in _levels(hub)] == [(main.id, 10), (spare.id, 1)]
    with hub.db.read() as session:
        deliveries = session.scalars(select(WebhookDelivery)).all()
        assert [d.subscription_id for d in deliveries] == [subscription.id] * 2
        [event] = [e for e in _events(hub) if e["id"] == first]
        _validate(event)
    # Once a sender holds the delivery, newer figures are an event of their own.
    with hub.db.unit_of_work() as session:
        claimed = session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.event_id == first)
        ).one()
        claimed.lease_token = "a sender"
    with hub.db.unit_of_work() as session:
        inventory.receive(session, mug.id, main.id, 4)
    assert [level[1:] for level in _levels(hub)] == [(main.id, 10), (spare.id, 1), (main.id, 14)]
    # And an event older than the window is left as it was.
    with hub.db.unit_of_work() as session:
        for row in session.scalars(select(WebhookEvent)):
            row.occurred_at -= outbox.COALESCE_WINDOW * 2
    with hub.db.unit_of_work() as session:
        inventory.receive(session, mug.id, main.id, 1)
    assert [level[2] for level in _levels(hub)] == [10, 1, 14, 15]
