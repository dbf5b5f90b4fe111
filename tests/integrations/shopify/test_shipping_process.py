"""The shipping process of a location mapping is the route its orders take (seed 002:
"map each Shopify location to a WMS warehouse and shipping process"), end to end: a
Shopify order from the mapped location is prepared from the route's packaging, rated by
the route's carrier plugin (EasyPost, against its sandbox; the channel itself names no
rating plugin) and bought with the route's service."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.integrations.shopify.conftest import World, make_world
from tradewind.app import actions
from tradewind.app import shipping as shipping_actions
from tradewind.connectors.template import connector_class, shipped_templates
from tradewind.core.inventory.models import Warehouse
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.core.shipping import routes
from tradewind.core.shipping import service as shipping
from tradewind.core.shipping.schemas import ParcelIn, ShippingProcessIn
from tradewind.errors import Invalid
from tradewind.sandbox.easypost import EasyPostSandbox
from tradewind.sandbox.shopify import ShopifySandbox
from tradewind.sync.models import SyncWork, WorkKind
from tradewind.vocabulary import ServiceCapability

(EASYPOST,) = [t for t in shipped_templates() if t.id == "easypost"]
EasyPost = connector_class(EASYPOST)


@dataclass
class Routed:
    world: World
    carrier: int  # the EasyPost plugin


@pytest.fixture
def routed(sandbox: ShopifySandbox, sqlite_url: str, tmp_path: Path) -> Iterator[Routed]:
    with (
        EasyPostSandbox() as easypost,
        make_world(sandbox, sqlite_url, tmp_path, also=(EasyPost,)) as world,
    ):
        hub = world.hub
        with hub.db.unit_of_work() as session:
            warehouse = session.get(Warehouse, world.warehouse_id)
            assert warehouse is not None
            warehouse.address = {
                "company": "Tradewind Demo",
                "address1": "1 Dock Rd",
                "city": "Oakland",
                "province": "CA",
                "postal_code": "94607",
                "country_code": "US",
            }
            carrier = plugins.add_plugin(
                session,
                hub.vault,
                EasyPost.info,
                name="EasyPost",
                config={"api_key": easypost.add_key(), "api_url": easypost.api_base},
            )
            plugins.attach(session, carrier.id, world.channel_id)
            plugins.activate(session, carrier.id)
            carrier_id = carrier.id
        yield Routed(world, carrier_id)


def _imported(world: World, external_id: object) -> Order | None:
    with world.hub.db.read() as session:
        return orders.find_imported(session, world.plugin_id, str(external_id))


def test_orders_from_a_location_ship_by_its_shipping_process(routed: Routed) -> None:
    world = routed.world
    location = str(world.location_id())
    # A name no process has is refused, with the ones that exist.
    with pytest.raises(Invalid, match="no shipping process named 'Express'"):
        actions.map_location(
            world.hub,
            world.plugin_id,
            location,
            warehouse_id=world.warehouse_id,
            shipping_process="Express",
        )
    with world.hub.db.unit_of_work() as session:
        routes.add_process(
            session,
            ShippingProcessIn(
                name="Express",
                plugin_id=routed.carrier,
                service="Express",
                packaging=ParcelIn(
                    weight=Decimal("1.2"),
                    mass_unit="kg",
                    length=Decimal("30"),
                    width=Decimal("20"),
                    height=Decimal("10"),
                ),
            ),
        )
    actions.map_location(
        world.hub,
        world.plugin_id,
        location,
        warehouse_id=world.warehouse_id,
        shipping_process="Express",
        is_default=True,
    )

    placed = world.sandbox.place_order(
        world.shop,
        [("MUG", 1)],
        kind="pos",
        location_id=world.location_id(),
        customer={"email": "pos@example.com", "first_name": "Pat", "last_name": "Doe"},
        shipping_address={
            "first_name": "Pat",
            "last_name": "Doe",
            "address1": "9 Pine St",
            "city": "Los Angeles",
            "zip": "90002",
            "province_code": "CA",
            "country_code": "US",
        },
    )
    world.settle(lambda: _imported(world, placed["id"]) is not None)
    order = _imported(world, placed["id"])
    assert order is not None and order.location_ref == location

    with world.hub.db.unit_of_work() as session:
        route = routes.route_of(session, orders.get_order(session, order.id))
        assert route is not None and route.name == "Express"
        package = shipping.prepare_package(session, order.id, [])  # nothing typed
        (parcel,) = package.parcels
        assert (parcel.weight, parcel.mass_unit) == (Decimal("1.2"), "kg")
        assert (parcel.length, parcel.width, parcel.height) == (
            Decimal(30),
            Decimal(20),
            Decimal(10),
        )
        package_id = package.id

    # The channel names no rating plugin: the route's carrier rates it, the engine's
    # rating of a prepared package included.
    with world.hub.db.read() as session:
        queued = session.scalars(
            select(SyncWork.plugin_id).where(
                SyncWork.kind == WorkKind.GET_RATES, SyncWork.key == str(package_id)
            )
        ).all()
    assert list(queued) == [routed.carrier]
    quotes = shipping_actions.get_rates(world.hub, package_id)
    assert quotes and {q.plugin_id for q in quotes} == {routed.carrier}
    with world.hub.db.read() as session:
        chosen = routes.choice(shipping.get_package(session, package_id).quotes, route)
        assert chosen is not None and chosen.service == "Express"
        assert chosen is not shipping.cheapest(shipping.get_package(session, package_id).quotes)
    label = shipping_actions.buy_route_choice(world.hub, package_id)
    assert label.service == "Express" and label.plugin_id == routed.carrier
    assert label.tracking_number


def test_a_location_without_a_process_ships_as_the_channel_says(routed: Routed) -> None:
    world = routed.world
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.settle(lambda: _imported(world, placed["id"]) is not None)
    order = _imported(world, placed["id"])
    assert order is not None
    with world.hub.db.unit_of_work() as session:
        assert routes.route_of(session, order) is None
        with pytest.raises(Invalid, match="needs at least one parcel"):
            shipping.prepare_package(session, order.id, [])


def test_shipping_processes_from_the_api_the_pages_and_the_cli(routed: Routed) -> None:
    from fastapi.testclient import TestClient

    from tests.api.conftest import Api, make_token
    from tests.cli.test_cli import bad, ok
    from tests.web.conftest import PASSWORD, Browser
    from tradewind.auth import service as auth
    from tradewind.auth.models import Role, TokenScope
    from tradewind.server import create_app

    world = routed.world
    location = str(world.location_id())
    with world.hub.db.unit_of_work() as session:
        auth.create_user(session, "admin", PASSWORD, Role.ADMIN)
    with TestClient(create_app(world.hub)) as client:
        api = Api(client, make_token(world.hub, TokenScope.READ_WRITE))
        made = api.post(
            "/shipping-processes",
            json={
                "name": "Ground",
                "plugin_id": routed.carrier,
                "service": "GroundAdvantage",
                "packaging": {"weight": "800", "mass_unit": "g"},
            },
        )
        assert made.status_code == 201, made.text
        process_id = made.json()["id"]
        twice = api.post("/shipping-processes", json={"name": "Ground"})
        assert twice.status_code == 409
        weightless = api.post(
            "/shipping-processes", json={"name": "Bad", "packaging": {"mass_unit": "g"}}
        )
        assert weightless.status_code == 422 and "weight" in weightless.text
        mapped = api.put(
            f"/plugins/{world.plugin_id}/locations/{location}",
            json={
                "warehouse_id": world.warehouse_id,
                "shipping_process": "Ground",
                "is_default": True,
            },
        )
        assert mapped.status_code == 200, mapped.text
        unknown = api.put(
            f"/plugins/{world.plugin_id}/locations/{location}",
            json={"warehouse_id": world.warehouse_id, "shipping_process": "Nope"},
        )
        assert unknown.status_code == 422 and "Ground" in unknown.text  # names the known

        placed = world.sandbox.place_order(world.shop, [("MUG", 1)])  # online: default loc
        world.settle(lambda: _imported(world, placed["id"]) is not None)
        order = _imported(world, placed["id"])
        assert order is not None
        assert api.get(f"/orders/{order.id}/shipping-process").json()["name"] == "Ground"
        package = api.post(f"/orders/{order.id}/packages", json={})
        assert package.status_code == 201, package.text
        assert Decimal(package.json()["parcels"][0]["weight"]) == 800
        assert package.json()["shipping_process"] == "Ground"
        rated = api.post(f"/packages/{package.json()['id']}/rates").json()
        (choice,) = [q for q in rated["quotes"] if q["route_choice"]]
        assert choice["service"] == "GroundAdvantage"
        bought = api.post(f"/packages/{package.json()['id']}/label", json={})
        assert bought.status_code == 201, bought.text
        assert bought.json()["service"] == "GroundAdvantage"

        # The pages: the Shipments page lists and adds routes, the order page names its own.
        browser = Browser(client)
        assert browser.login("admin").status_code == 303
        listed = browser.get("/shipments").text
        assert 'data-process="Ground"' in listed and "GroundAdvantage" in listed
        added = browser.post("/shipping-processes", {"name": "Express", "service": "Express"})
        assert added.status_code == 303
        assert 'data-process="Express"' in browser.get("/shipments").text
        page = browser.get(f"/orders/{order.id}").text
        assert 'id="shipping-process"' in page and "<strong>Ground</strong>" in page
        plugin_page = browser.get(f"/plugins/{world.plugin_id}").text
        assert "<option selected>Ground</option>" in plugin_page
        assert api.delete(f"/shipping-processes/{process_id}").status_code == 204
        assert api.get(f"/orders/{order.id}/shipping-process").json() is None

    listed = ok(world.hub, "shipments", "processes")
    assert "Express" in listed and "Ground" not in listed
    ok(
        world.hub,
        "plugins",
        "map-location",
        str(world.plugin_id),
        location,
        "--warehouse",
        str(world.warehouse_id),
        "--process",
        "Express",
    )
    with world.hub.db.read() as session:
        assert routes.route_of(session, order) is not None
    assert "no shipping process named" in bad(
        world.hub, "plugins", "map-location", str(world.plugin_id), location, "--process", "X"
    )


def test_a_voided_label_cancels_its_fulfillment_on_the_store(routed: Routed) -> None:
    """A label bought for a Shopify order makes a shipment whose tracking goes to Shopify
    as a fulfillment; voiding the label cancels that fulfillment there too."""
    world = routed.world
    with world.hub.db.unit_of_work() as session:
        shipping.set_service(session, world.channel_id, ServiceCapability.GET_RATES, routed.carrier)
        shipping.set_service(session, world.channel_id, ServiceCapability.BUY_LABEL, routed.carrier)
        shipping.set_service(
            session, world.channel_id, ServiceCapability.VOID_LABEL, routed.carrier
        )
    placed = world.sandbox.place_order(world.shop, [("MUG", 1)])
    world.settle(lambda: _imported(world, placed["id"]) is not None)
    order = _imported(world, placed["id"])
    assert order is not None
    with world.hub.db.unit_of_work() as session:
        package_id = shipping.prepare_package(
            session, order.id, [ParcelIn(weight=Decimal("500"))]
        ).id
    cheapest = shipping.cheapest(shipping_actions.get_rates(world.hub, package_id))
    assert cheapest is not None
    label = shipping_actions.buy_label(world.hub, package_id, cheapest.id)

    def fulfillments() -> list[dict[str, object]]:
        return list(world.admin("GET", f"orders/{placed['id']}/fulfillments")["fulfillments"])

    world.settle(lambda: len(fulfillments()) == 1)
    (sent,) = fulfillments()
    assert sent["tracking_number"] == label.tracking_number and sent["status"] == "success"

    shipping_actions.void_label(world.hub, package_id)
    world.settle(lambda: fulfillments()[0]["status"] == "cancelled")
    there = next(o for o in world.sandbox.state(world.shop)["orders"] if o["id"] == placed["id"])
    assert there["fulfillment_status"] is None  # unfulfilled on the store again
    assert "shipment_cancelled_there" in world.activities(order.id)
    cancels = [
        r
        for r in world.sandbox.requests(world.shop, "graphql.json")
        if "fulfillmentCancel" in r.body["query"]
    ]
    assert len(cancels) == 1
