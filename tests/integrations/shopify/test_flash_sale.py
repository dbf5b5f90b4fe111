"""Orders in by webhook without a read each (issue 17 part 6): a delivered body is
imported as it is when it is whole and newer than what Tradewind holds; a late, older
one never overwrites newer data; the re-reads still needed go many to a call."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import httpx2
from sqlalchemy import select

from tests.integrations.shopify.conftest import APP_SECRET, World
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.sandbox.shopify.webhooks import sign

BURST = 40


def _orders(world: World) -> list[Order]:
    with world.hub.db.read() as session:
        return list(session.scalars(select(Order).where(Order.plugin_id == world.plugin_id)))


def _order(world: World, external_id: object) -> Order | None:
    with world.hub.db.read() as session:
        return orders.find_imported(session, world.plugin_id, str(external_id))


def _rest_reads(world: World) -> list[str]:
    """The REST reads of orders the store answered (lists and single orders)."""
    return [
        request.path
        for request in world.sandbox.requests(world.shop, "orders")
        if request.method == "GET" and "graphql" not in request.path
    ]


def _deliver(world: World, topic: str, body: dict[str, object]) -> None:
    """A delivery as Shopify signs it, posted to the plugin's own subscription address
    (a late copy of an older state, or a body cut short by a subscription's ``fields``)."""
    address = next(
        hook["address"]
        for hook in world.sandbox.state(world.shop)["webhooks"]
        if hook["topic"] == topic
    )
    raw = json.dumps(body).encode()
    answer = httpx2.post(
        address,
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign(APP_SECRET, raw),
            "X-Shopify-Shop-Domain": f"{world.shop}.myshopify.com",
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        },
    )
    assert answer.status_code == 200, answer.text


def test_a_burst_of_orders_imports_from_the_delivered_bodies_without_a_read_each(
    world: World,
) -> None:
    reads_before = len(_rest_reads(world))
    placed = [world.sandbox.place_order(world.shop, [("MUG", 1)]) for _ in range(BURST)]
    world.settle(lambda: len(_orders(world)) == BURST)
    world.settle()
    held = sorted(str(order.external_id) for order in _orders(world))
    assert held == sorted(str(order["id"]) for order in placed)  # each once
    assert world.calls("orders.get") == 0  # no order was read by itself
    reads = _rest_reads(world)[reads_before:]
    assert not [path for path in reads if path.rstrip(".json").split("/")[-1].isdigit()]
    assert len(reads) < BURST / 4, reads  # the batched re-reads and probes, if any
    with world.hub.db.read() as session:
        mug = next(order for order in _orders(world))
        lines = orders.get_order(session, mug.id).lines
    assert [(line.sku, line.quantity) for line in lines] == [("MUG", 1)]
    assert mug.email and mug.shipping_address  # the buyer and address came with the body
    world.settle(lambda: world.stock_disagreements({"MUG"}) == {})


def test_a_late_older_delivery_does_not_overwrite_newer_data(world: World) -> None:
    placed = world.sandbox.place_order(world.shop, [("PLATE", 1)])
    world.settle(lambda: _order(world, placed["id"]) is not None)
    first = next(
        json.loads(delivery.body)
        for delivery in world.sandbox.deliveries(world.shop)
        if delivery.topic == "orders/create" and json.loads(delivery.body)["id"] == placed["id"]
    )
    world.admin("PUT", f"orders/{placed['id']}", {"order": {"id": placed["id"], "note": "new"}})
    world.settle(lambda: (found := _order(world, placed["id"])) is not None and found.note == "new")
    reads = world.calls("orders.get", "orders.get_many")
    hour_ago = dt.datetime.fromisoformat(first["updated_at"]) - dt.timedelta(hours=1)
    _deliver(
        world,
        "orders/updated",
        {**first, "note": "stale", "updated_at": hour_ago.isoformat(timespec="seconds")},
    )
    world.settle()
    found = _order(world, placed["id"])
    assert found is not None and found.note == "new"
    assert world.calls("orders.get", "orders.get_many") == reads  # dropped
    assert len(_orders(world)) == 1


def test_a_body_cut_short_is_read_again(world: World) -> None:
    placed = world.sandbox.place_order(world.shop, [("MUG", 2)])
    world.settle(lambda: _order(world, placed["id"]) is not None)
    world.admin("PUT", f"orders/{placed['id']}", {"order": {"id": placed["id"], "note": "read"}})
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    # A subscription with ``fields``: the body names the order and its version only.
    _deliver(world, "orders/updated", {"id": placed["id"], "updated_at": later.isoformat()})
    world.settle(
        lambda: (found := _order(world, placed["id"])) is not None and found.note == "read"
    )
    assert world.calls("orders.get_many") >= 1
    assert world.calls("orders.get") == 0


def test_doubled_and_reordered_deliveries_import_once_with_the_newest_state(
    world: World,
) -> None:
    world.sandbox.inject_fault(world.shop, "duplicate_webhooks", count=None)
    world.sandbox.inject_fault(world.shop, "reorder_webhooks", count=4)
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)])
    for note in ("first", "second"):
        world.admin("PUT", f"orders/{placed['id']}", {"order": {"id": placed["id"], "note": note}})
    world.sandbox.clear_faults(world.shop)  # the held deliveries go, newest first
    world.settle(
        lambda: (found := _order(world, placed["id"])) is not None and found.note == "second"
    )
    world.settle()
    found = _order(world, placed["id"])
    assert found is not None and found.note == "second"
    assert len(_orders(world)) == 1
    deliveries = world.sandbox.deliveries(world.shop)
    assert sum(len(d.attempts) for d in deliveries) > len(deliveries)  # really sent twice
    assert world.calls("orders.get") == 0
