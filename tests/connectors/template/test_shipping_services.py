"""A carrier and a tax service as templates, on a channel: rates for a package become
its quotes, a label is bought once (a double purchase, or a retry after an outage,
never buys a second), tracking moves the shipment, tax lands on the order and its lines;
refused credentials pause the plugin with a notification."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from tests import factories
from tests.api.conftest import Api, make_token
from tests.sync.conftest import Harness
from tests.web.conftest import PASSWORD, Browser
from tradewind.app import shipping as actions
from tradewind.app.calls import ConnectorFailed
from tradewind.auth import service as auth
from tradewind.auth.models import Role, TokenScope
from tradewind.cli import app as cli
from tradewind.cli.common import CliState
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.connectors.template import connector_class, load_template
from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import PluginState
from tradewind.core.shipments import service as shipments
from tradewind.core.shipments.models import Shipment
from tradewind.core.shipments.schemas import ShipmentIn
from tradewind.core.shipping import service as shipping
from tradewind.core.shipping import tax as taxes
from tradewind.core.shipping.models import Package, PackageState
from tradewind.core.shipping.schemas import ParcelIn
from tradewind.errors import Conflict
from tradewind.hub import Hub
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.server import create_app
from tradewind.settings import Settings
from tradewind.vocabulary import ServiceCapability, TrackingStatus

CARRIER = load_template("""\
schema: tradewind-template/v1
id: parcel_hub
version: 1.0.0
display_name: Parcel hub
category: shipping
capabilities: [get_rates, buy_label, track, calculate_tax, commit_tax]
environments:
  live: {base_url: "https://carrier.example"}
settings:
  api_key: {type: string, secret: true}
auth:
  kind: bearer
  token: "{{ secrets.api_key }}"
errors:
  - {when: "status = 401", raise: AuthFailed, message: body.error}
  - {when: "status = 422", raise: Rejected, message: body.error}
test_connection:
  request: {path: /me}
hooks:
  get_rates:
    input: ShipmentRequest
    steps:
      - name: shipment
        request:
          method: POST
          path: /shipments
          body: '{"to": input.ship_to.postal_code, "grams": $sum(input.parcels.$number(weight))}'
    output: |
      [steps.shipment.body.rates.{"external_id": id, "shipment_ref": $$.steps.shipment.body.id,
        "carrier": carrier, "service": service, "amount": rate, "currency": currency,
        "estimated_days": days}]
    returns: Rates
  buy_label:
    input: LabelRequest
    steps:
      - name: buy
        request:
          method: POST
          path: "/shipments/{{ input.rate.shipment_ref }}/buy"
          body: '{"rate": input.rate.external_id}'
    output: |
      {"external_id": steps.buy.body.id, "carrier": steps.buy.body.carrier,
       "service": steps.buy.body.service, "tracking_number": steps.buy.body.tracking_code,
       "cost": steps.buy.body.rate, "currency": "USD", "label_url": steps.buy.body.label_url}
    returns: Label
  track:
    steps:
      - name: tracker
        request: {path: "/trackers/{{ input.tracking_number }}"}
    output: |
      [steps.tracker.body.details.{"status": status, "raw_status": status,
        "message": message, "occurred_at": at}]
    returns: Tracking
  calculate_tax:
    input: TaxRequest
    steps:
      - name: tax
        request:
          method: POST
          path: /taxes
          body: '{"zip": input.ship_to.postal_code, "lines": input.lines}'
    output: |
      {"amount": steps.tax.body.amount, "rate": steps.tax.body.rate,
       "lines": $merge(steps.tax.body.lines.{id: tax})}
    returns: Tax
  commit_tax:
    input: TaxRequest
    steps:
      - name: sale
        request:
          method: POST
          path: /transactions
          body: '{"id": input.reference, "sales_tax": input.tax.amount}'
    output: steps.sale.body.id
""")
ParcelHub = connector_class(CARRIER)


@dataclass
class FakeCarrier:
    """The service behind the template: counts the labels it sold."""

    labels: int = 0
    fail_buy: int = 0  # answer the next purchases 503
    revoked: bool = False
    bought: set[str] = field(default_factory=set)
    sales: list[Any] = field(default_factory=list)
    rated: int = 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        if self.revoked:
            return httpx2.Response(401, json={"error": "key revoked"})
        path = request.url.path
        body: Any = json.loads(request.content) if request.content else {}
        if path == "/shipments":
            self.rated += 1
            rates = [
                {
                    "id": "r_ground",
                    "carrier": "USPS",
                    "service": "Ground",
                    "rate": "5.10",
                    "currency": "USD",
                    "days": 5,
                },
                {
                    "id": "r_express",
                    "carrier": "USPS",
                    "service": "Express",
                    "rate": "19.40",
                    "currency": "USD",
                    "days": 1,
                },
            ]
            return httpx2.Response(201, json={"id": "shp_1", "rates": rates})
        if path.endswith("/buy"):
            if self.fail_buy:
                self.fail_buy -= 1
                return httpx2.Response(503, json={"error": "try later"})
            if path in self.bought:
                return httpx2.Response(422, json={"error": "postage already exists"})
            self.bought.add(path)
            self.labels += 1
            return httpx2.Response(
                200,
                json={
                    "id": "lbl_1",
                    "carrier": "USPS",
                    "service": "Ground",
                    "tracking_code": "EZ1000000001",
                    "rate": "5.10",
                    "label_url": "https://carrier.example/labels/1.pdf",
                },
            )
        if path.startswith("/trackers/"):
            details = [
                {"status": "in_transit", "message": "Departed", "at": "2026-12-01T09:00:00Z"},
                {"status": "delivered", "message": "Front door", "at": "2026-12-02T11:00:00Z"},
            ]
            return httpx2.Response(200, json={"details": details})
        if path == "/transactions":
            self.sales.append(body)
            return httpx2.Response(201, json={"id": f"tx-{body['id']}"})
        if path == "/taxes":
            lines = [{"id": line["id"], "tax": "1.90"} for line in body["lines"]]
            return httpx2.Response(200, json={"amount": "1.90", "rate": "0.095", "lines": lines})
        return httpx2.Response(404, json={"error": "no route"})


@dataclass
class Setup:
    hub: Hub
    carrier: FakeCarrier
    plugin_id: int
    order_id: int
    package_id: int


@pytest.fixture
def setup(settings: Settings) -> Iterator[Setup]:
    carrier = FakeCarrier()
    with Hub(
        settings,
        registry=ConnectorRegistry.of(ParcelHub),
        transport=httpx2.MockTransport(carrier),
    ) as hub:
        with hub.db.unit_of_work() as session:
            channel = factories.channel(session)
            warehouse = factories.warehouse(session)
            warehouse.address = {
                "address1": "1 Dock Rd",
                "city": "Oakland",
                "postal_code": "94607",
                "country_code": "US",
            }
            mug = factories.product(session, "MUG")
            inventory.receive(session, mug.id, warehouse.id, 5)
            made = plugins.add_plugin(
                session, hub.vault, ParcelHub.info, name="carrier", config={"api_key": "key-1"}
            )
            plugins.attach(session, made.id, channel.id)
            plugins.activate(session, made.id)
            for capability in ServiceCapability:
                if capability.value in CARRIER.capabilities:
                    shipping.set_service(session, channel.id, capability, made.id)
            order = orders.create_manual_order(
                session,
                channel.id,
                factories.order_in("M1", ("MUG", 1)).model_copy(update={"external_id": None}),
            )
            package = shipping.prepare_package(session, order.id, [ParcelIn(weight=Decimal("900"))])
            ids = (made.id, order.id, package.id)
        yield Setup(hub, carrier, *ids)


def _state(setup: Setup) -> PackageState:
    with setup.hub.db.read() as session:
        return shipping.get_package(session, setup.package_id).state


def test_rates_then_one_label_then_tracking(setup: Setup) -> None:
    quotes = actions.get_rates(setup.hub, setup.package_id)
    assert [(q.service, q.amount) for q in quotes] == [
        ("Ground", Decimal("5.1000")),
        ("Express", Decimal("19.4000")),
    ]
    ground = quotes[0]
    label = actions.buy_label(setup.hub, setup.package_id, ground.id)
    assert (label.tracking_number, label.cost) == ("EZ1000000001", Decimal("5.1000"))
    with pytest.raises(Conflict, match="has its label already"):
        actions.buy_label(setup.hub, setup.package_id, ground.id)  # the double click
    assert setup.carrier.labels == 1
    with setup.hub.db.read() as session:
        shipment_id = shipping.get_package(session, setup.package_id).shipment_id
    assert shipment_id is not None
    assert actions.track(setup.hub, shipment_id)
    with setup.hub.db.read() as session:
        shipment = session.get(Shipment, shipment_id)
        assert shipment is not None and shipment.tracking_status is TrackingStatus.DELIVERED


def test_an_outage_during_the_purchase_never_leads_to_a_second_label(setup: Setup) -> None:
    (ground, _) = actions.get_rates(setup.hub, setup.package_id)
    setup.carrier.fail_buy = 1
    with pytest.raises(ConnectorFailed):
        actions.buy_label(setup.hub, setup.package_id, ground.id)
    assert _state(setup) is PackageState.BUYING  # the outcome is unknown: no retry by itself
    with pytest.raises(Conflict, match="a label is being bought"):
        actions.buy_label(setup.hub, setup.package_id, ground.id)
    assert setup.carrier.labels == 0


def test_a_refused_purchase_frees_the_package_and_a_revoked_key_pauses_the_plugin(
    setup: Setup,
) -> None:
    (ground, _) = actions.get_rates(setup.hub, setup.package_id)
    setup.carrier.revoked = True
    with pytest.raises(ConnectorFailed, match="key revoked"):
        actions.buy_label(setup.hub, setup.package_id, ground.id)
    assert _state(setup) is PackageState.DRAFT
    with setup.hub.db.read() as session:
        plugin = plugins.get_plugin(session, setup.plugin_id)
        assert plugin.state is PluginState.NEEDS_REAUTHORIZATION
        assert notifications.open_notifications(
            session, plugin_id=setup.plugin_id, kind=NotificationKind.AUTHORIZATION_LOST
        )


def test_tax_lands_on_the_order_and_its_lines(setup: Setup) -> None:
    computed = actions.calculate_tax(setup.hub, setup.order_id)
    assert computed.amount == Decimal("1.90")
    with setup.hub.db.read() as session:
        order = orders.get_order(session, setup.order_id)
        assert order.tax_total == Decimal("1.9000")
        assert [line.tax_amount for line in order.lines] == [Decimal("1.9000")]


def test_the_api_prepares_rates_buys_tracks_and_taxes(setup: Setup) -> None:
    with TestClient(create_app(setup.hub)) as client:
        api = Api(client, make_token(setup.hub, TokenScope.READ_WRITE))
        reader = Api(client, make_token(setup.hub, TokenScope.READ, "reader"))
        no_weight = api.post(
            f"/orders/{setup.order_id}/packages", json={"parcels": [{"length": "10"}]}
        )
        assert no_weight.status_code == 422 and "parcel 1 has no weight" in no_weight.text
        made = api.post(
            f"/orders/{setup.order_id}/packages",
            json={"parcels": [{"weight": "450", "mass_unit": "g"}]},
        )
        assert made.status_code == 201, made.text
        package = made.json()["id"]
        assert reader.post(f"/packages/{package}/rates").status_code == 403
        rated = api.post(f"/packages/{package}/rates").json()
        marks = {q["service"]: (q["cheapest"], q["fastest"]) for q in rated["quotes"]}
        assert marks == {"Ground": (True, False), "Express": (False, True)}
        ground = next(q for q in rated["quotes"] if q["cheapest"])
        bought = api.post(f"/packages/{package}/label", json={"quote_id": ground["id"]})
        assert bought.status_code == 201 and bought.json()["tracking_number"] == "EZ1000000001"
        again = api.post(f"/packages/{package}/label", json={"quote_id": ground["id"]})
        assert again.status_code == 409 and setup.carrier.labels == 1
        shipment = api.get(f"/packages/{package}").json()["shipment_id"]
        tracked = api.post(f"/shipments/{shipment}/track").json()
        assert tracked["status"] == "delivered" and len(tracked["events"]) == 2
        taxed = api.post(f"/orders/{setup.order_id}/tax").json()
        assert (taxed["amount"], taxed["committed"]) == ("1.9000", False)
        services = api.get(f"/channels/{_channel(setup)}/services").json()["services"]
        assert services["get_rates"] == setup.plugin_id
        assert services["push_order_for_fulfilment"] is None


def _channel(setup: Setup) -> int:
    with setup.hub.db.read() as session:
        return orders.get_order(session, setup.order_id).channel_id


def test_the_order_page_prepares_rates_buys_tracks_and_taxes(setup: Setup) -> None:
    with setup.hub.db.unit_of_work() as session:
        auth.create_user(session, "admin", PASSWORD, Role.ADMIN)
    with TestClient(create_app(setup.hub)) as client:
        ui = Browser(client)
        assert ui.login("admin").status_code == 303
        page = f"/orders/{setup.order_id}"
        refused = ui.post(f"{page}/packages", {"weight": ""})
        assert "parcel 1 has no weight" in ui.get(refused.headers["location"]).text
        odd = ui.post(f"{page}/packages", {"weight": "2", "mass_unit": "st"})
        assert (
            "mass_unit: Input should be &#39;g&#39;, &#39;kg&#39;, &#39;oz&#39; or &#39;lb&#39;"
            in (ui.get(odd.headers["location"]).text)
        )
        made = ui.post(
            f"{page}/packages",
            {"weight": "1.2", "mass_unit": "kg", "length": "30", "width": "20", "height": "10"},
        )
        assert "rates are coming" in ui.get(made.headers["location"]).text
        package = max(_packages(setup))
        Harness(setup.hub).run(setup.plugin_id)  # the engine rates the package just made
        with setup.hub.db.read() as session:
            assert len(shipping.get_package(session, package).quotes) == 2
        rated = setup.carrier.rated
        ui.post(f"/packages/{package}/rates")  # and Get rates asks again
        assert setup.carrier.rated == rated + 1
        shown = ui.get(page).text
        assert 'aria-label="Rates for package' in shown
        assert 'Ground <span class="badge ok">cheapest</span>' in shown
        assert 'Express <span class="badge ok">fastest</span>' in shown
        with setup.hub.db.read() as session:
            ground = shipping.cheapest(shipping.get_package(session, package).quotes)
            assert ground is not None
            quote_id = ground.id
        bought = ui.post(f"/packages/{package}/label", {"quote_id": quote_id})
        assert "Label bought: USPS EZ1000000001" in ui.get(bought.headers["location"]).text
        twice = ui.post(f"/packages/{package}/label", {"quote_id": quote_id})
        assert "has its label already" in ui.get(twice.headers["location"]).text
        assert setup.carrier.labels == 1
        with setup.hub.db.read() as session:
            label = shipping.label_of(session, package)
            shipment = shipping.get_package(session, package).shipment_id
            assert label is not None and shipment is not None
        download = ui.get(f"/labels/{label.id}/file", follow_redirects=False)
        assert download.headers["location"] == "https://carrier.example/labels/1.pdf"
        ui.post(f"/shipments/{shipment}/track")
        shown = ui.get(page).text
        assert f'id="tracking-status-{shipment}">delivered' in shown and "Front door" in shown
        ui.post(f"{page}/tax")
        assert "tax 1.90 (9.500 %, not committed yet)" in ui.get(page).text
        channels_page = ui.get("/channels").text
        assert f'<option value="{setup.plugin_id}" selected>carrier</option>' in channels_page


def _packages(setup: Setup) -> list[int]:
    with setup.hub.db.read() as session:
        return [p.id for p in session.scalars(select(Package))]


def test_the_cli_prepares_rates_buys_tracks_and_taxes(setup: Setup) -> None:
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, list(args), obj=CliState(hub_factory=lambda: setup.hub))
        return result.exit_code, result.stdout + result.stderr

    code, out = run("shipments", "package", str(setup.order_id), "--weight", "0")
    assert code == 2 and "parcel 1 has no weight" in out
    code, out = run(
        "shipments",
        "package",
        str(setup.order_id),
        "--weight",
        "2",
        "--unit",
        "lb",
        "--size",
        "30x20x10",
    )
    assert code == 0, out
    package = max(_packages(setup))
    code, out = run("shipments", "rates", str(package))
    assert code == 0 and "cheapest" in out and "fastest" in out
    with setup.hub.db.read() as session:
        ground = shipping.cheapest(shipping.get_package(session, package).quotes)
        assert ground is not None
        quote = str(ground.id)
    code, out = run("shipments", "buy", str(package), quote)
    assert code == 0 and "EZ1000000001" in out
    code, out = run("shipments", "buy", str(package), quote)
    assert code == 2 and "has its label already" in out and setup.carrier.labels == 1
    with setup.hub.db.read() as session:
        shipment = shipping.get_package(session, package).shipment_id
    code, out = run("shipments", "track", str(shipment))
    assert code == 0 and "delivered" in out
    code, out = run("shipments", "tax", str(setup.order_id))
    assert code == 0 and "tax 1.90" in out


def test_an_order_made_here_is_taxed_and_its_tax_committed_once_it_ships(setup: Setup) -> None:
    harness = Harness(setup.hub)
    with setup.hub.db.unit_of_work() as session:
        channel_id = orders.get_order(session, setup.order_id).channel_id
        made = orders.create_manual_order(
            session,
            channel_id,
            factories.order_in("M2", ("MUG", 1)).model_copy(update={"external_id": None}),
        )
        order_id = made.id
    harness.run(setup.plugin_id)
    with setup.hub.db.read() as session:
        tax = taxes.tax_of(session, order_id)
        assert tax is not None and tax.amount == Decimal("1.9000") and tax.committed_at is None
    assert setup.carrier.sales == []  # not a sale until it ships
    with setup.hub.db.unit_of_work() as session:
        shipments.create_shipment(session, order_id, ShipmentIn())
    harness.run(setup.plugin_id)
    with setup.hub.db.read() as session:
        tax = taxes.tax_of(session, order_id)
        assert tax is not None and tax.committed_at is not None
        number = orders.get_order(session, order_id).number
    assert tax.external_id == f"tx-{number}"
    assert setup.carrier.sales == [{"id": number, "sales_tax": "1.9000"}]
