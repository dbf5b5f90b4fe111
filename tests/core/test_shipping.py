"""Shipping and tax of record: a package is prepared only when it can be rated; a quote
is bought only while valid and only once per package, and the label makes the shipment;
tracking events are kept once and move the shipment; an order's tax is written with its
lines and totals, and no longer changes once committed."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tradewind.core.inventory import service as inventory
from tradewind.core.inventory.models import Warehouse
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.core.returns import service as returns
from tradewind.core.returns.schemas import ReturnIn, ReturnLineIn
from tradewind.core.shipments.models import Shipment
from tradewind.core.shipping import service as shipping
from tradewind.core.shipping import tax as taxes
from tradewind.core.shipping.models import Label, Package, PackageState, RateQuote
from tradewind.core.shipping.schemas import LabelIn, ParcelIn, QuoteIn, TaxIn, TrackingIn
from tradewind.errors import Conflict, Invalid, NotFound
from tradewind.events import ShipmentCancelled, peek_pending
from tradewind.hub import Hub
from tradewind.vocabulary import FulfillmentStatus, ServiceCapability, TrackingStatus

WAREHOUSE_ADDRESS = {
    "name": "Main warehouse",
    "address1": "1 Dock Rd",
    "city": "London",
    "postal_code": "E1 1AA",
    "country_code": "GB",
}
BOX = ParcelIn(
    length=Decimal("30"), width=Decimal("20"), height=Decimal("10"), weight=Decimal("800")
)


@pytest.fixture
def ids(hub: Hub) -> dict[str, int]:
    with hub.db.unit_of_work() as session:
        channel = factories.channel(session)
        store = factories.plugin(hub, session, channel_id=channel.id)
        carrier = factories.plugin(hub, session, "carrier", import_orders=False)
        warehouse = factories.warehouse(session)
        warehouse.address = dict(WAREHOUSE_ADDRESS)
        mug = factories.product(session, "MUG")
        inventory.receive(session, mug.id, warehouse.id, 10)
        order = orders.import_order(session, store.id, factories.order_in("3001", ("MUG", 2)))
        return {
            "channel": channel.id,
            "store": store.id,
            "carrier": carrier.id,
            "order": order.order.id,
            "warehouse": warehouse.id,
        }


def _count(hub: Hub, model: type[object]) -> int:
    with hub.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


QUOTES = [
    QuoteIn(
        external_id="r1",
        carrier="USPS",
        service="Priority",
        amount=Decimal("7.90"),
        currency="USD",
        estimated_days=2,
    ),
    QuoteIn(
        external_id="r2",
        carrier="USPS",
        service="Ground",
        amount=Decimal("5.10"),
        currency="USD",
        estimated_days=5,
    ),
    QuoteIn(
        external_id="r3",
        carrier="UPS",
        service="Next Day",
        amount=Decimal("21.00"),
        currency="USD",
        estimated_days=1,
    ),
]


def _package(hub: Hub, ids: dict[str, int]) -> int:
    with hub.db.unit_of_work() as session:
        return shipping.prepare_package(session, ids["order"], [BOX]).id


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("no_weight", "parcel 1 has no weight"),
        (
            "no_warehouse_address",
            re.escape("warehouse MAIN (its address, to ship from) lacks address1"),
        ),
        (
            "no_ship_to",
            re.escape("(its shipping address) lacks address1, city, postal_code, country_code"),
        ),
    ],
)
def test_a_package_that_cannot_be_rated_is_refused_with_what_is_missing(
    hub: Hub, ids: dict[str, int], change: str, words: str
) -> None:
    with hub.db.unit_of_work() as session:
        if change == "no_warehouse_address":
            warehouse = session.get(Warehouse, ids["warehouse"])
            assert warehouse is not None
            warehouse.address = None
        if change == "no_ship_to":
            order = session.get(Order, ids["order"])
            assert order is not None
            order.shipping_address = None
    parcels = [ParcelIn(weight=None)] if change == "no_weight" else [BOX]
    with pytest.raises(Invalid, match=words), hub.db.unit_of_work() as session:
        shipping.prepare_package(session, ids["order"], parcels)
    assert _count(hub, Package) == 0


def test_quotes_are_kept_per_plugin_with_the_cheapest_and_fastest(
    hub: Hub, ids: dict[str, int]
) -> None:
    package_id = _package(hub, ids)
    with hub.db.unit_of_work() as session:
        kept = shipping.record_quotes(session, package_id, ids["carrier"], QUOTES)
        assert [q.external_id for q in kept] == [q.external_id for q in QUOTES]  # as given
        assert all(q.id is not None and q.package_id == package_id for q in kept)
        shipping.record_quotes(session, package_id, ids["carrier"], QUOTES[:2])  # re-rated
        quotes = shipping.get_package(session, package_id).quotes
        assert [q.external_id for q in quotes] == ["r1", "r2"]
        cheapest, fastest = shipping.cheapest(quotes), shipping.fastest(quotes)
        assert cheapest is not None and cheapest.service == "Ground"
        assert fastest is not None and fastest.service == "Priority"


def test_a_label_makes_the_shipment_once_and_an_expired_rate_is_refused(
    hub: Hub, ids: dict[str, int]
) -> None:
    package_id = _package(hub, ids)
    with hub.db.unit_of_work() as session:
        quotes = shipping.record_quotes(session, package_id, ids["carrier"], QUOTES)
        stale = shipping.record_quotes(
            session, package_id, ids["store"], QUOTES[:1], valid_for=dt.timedelta(seconds=-1)
        )
        quote_id, stale_id = quotes[1].id, stale[0].id
    with (
        pytest.raises(Invalid, match=r"rate expired at .* get rates again"),
        hub.db.unit_of_work() as session,
    ):
        shipping.quote_to_buy(session, stale_id)
    label = LabelIn(
        external_id="lbl_1",
        carrier="USPS",
        service="Ground",
        tracking_number="9400100000000000000001",
        cost=Decimal("5.10"),
        currency="USD",
        label_url="https://labels.example/1.pdf",
    )
    with hub.db.unit_of_work() as session:
        shipping.record_label(session, shipping.quote_to_buy(session, quote_id), label)
    with pytest.raises(Conflict, match="has its label already"), hub.db.unit_of_work() as session:
        shipping.record_label(session, shipping.quote_to_buy(session, quote_id), label)
    # Two purchases racing both read the package unlabelled: the database keeps one.
    with pytest.raises(Conflict, match="has its label already"), hub.db.unit_of_work() as session:
        quote = session.get(RateQuote, quote_id)
        assert quote is not None
        shipping.get_package(session, package_id).state = PackageState.DRAFT
        shipping.record_label(session, quote, label)
    assert _count(hub, Label) == 1
    with hub.db.read() as session:
        package = shipping.get_package(session, package_id)
        assert package.state is PackageState.LABELLED and package.shipment_id is not None
        shipment = session.get(Shipment, package.shipment_id)
        assert shipment is not None
        assert (shipment.carrier, shipment.tracking_number) == ("USPS", "9400100000000000000001")
        assert shipment.tracking_status is TrackingStatus.PRE_TRANSIT
        order = orders.get_order(session, ids["order"])
        assert order.fulfillment_status is FulfillmentStatus.FULFILLED
    with pytest.raises(Conflict, match="has its label already"), hub.db.unit_of_work() as session:
        shipping.record_quotes(session, package_id, ids["carrier"], QUOTES)  # not re-rated


def _level(hub: Hub, ids: dict[str, int]) -> tuple[int, int]:
    """On-hand and reserved of the order's mug."""
    with hub.db.read() as session:
        line = orders.get_order(session, ids["order"]).lines[0]
        assert line.product_id is not None
        level = inventory.level(session, line.product_id, ids["warehouse"])
        assert level is not None
        return level.on_hand, inventory.reserved_for(session, line.holder)


def test_a_voided_label_undoes_its_shipment_and_the_package_is_bought_again(
    hub: Hub, ids: dict[str, int]
) -> None:
    package_id = _package(hub, ids)
    before = _level(hub, ids)
    label = LabelIn(carrier="USPS", tracking_number="9400A", cost=Decimal("5.10"), currency="USD")
    with hub.db.unit_of_work() as session:
        (quote, *_) = shipping.record_quotes(session, package_id, ids["carrier"], QUOTES)
        first = shipping.record_label(session, quote, label)
        first_id, shipment_id = first.id, shipping.get_package(session, package_id).shipment_id
    assert _level(hub, ids) == (before[0] - 2, 0)
    with hub.db.unit_of_work() as session:
        assert shipping.label_to_void(session, package_id).id == first_id
        shipping.record_void(session, first_id)
        assert shipment_id is not None  # the store's copy is cancelled by the engine on it
        cancelled = ShipmentCancelled(shipment_id=shipment_id, order_id=ids["order"])
        assert cancelled in peek_pending(session)
    assert _level(hub, ids) == before  # back on hand, and held for the order again
    with hub.db.read() as session:
        package = shipping.get_package(session, package_id)
        assert (package.state, package.shipment_id, package.quotes) == (
            PackageState.VOIDED,
            None,
            [],
        )
        voided = session.get(Label, first_id)
        assert voided is not None and voided.voided_at is not None
        shipment = session.get(Shipment, shipment_id)
        assert shipment is not None and shipment.tracking_status is TrackingStatus.CANCELLED
        order = orders.get_order(session, ids["order"])
        assert order.fulfillment_status is FulfillmentStatus.UNFULFILLED
        (said,) = [a for a in orders.activities(session, order.id) if a.kind == "label_voided"]
        assert "voided" in said.message and "can be bought again" in said.message
    agains: list[Callable[[Session, int], Label]] = [
        shipping.label_to_void,
        lambda s, _: shipping.record_void(s, first_id),
    ]
    for again in agains:
        with (
            pytest.raises(Conflict, match=f"label of package {package_id} is voided already"),
            hub.db.unit_of_work() as session,
        ):
            again(session, package_id)
    with hub.db.unit_of_work() as session:  # rated again, bought again: a new shipment
        (quote, *_) = shipping.record_quotes(session, package_id, ids["carrier"], QUOTES)
        shipping.claim_purchase(session, package_id)
        second = shipping.record_label(
            session, quote, label.model_copy(update={"tracking_number": "9400B"})
        )
        assert shipping.label_of(session, package_id) is second
    assert _level(hub, ids) == (before[0] - 2, 0)


def test_a_label_whose_units_came_back_cannot_be_voided(hub: Hub, ids: dict[str, int]) -> None:
    package_id = _package(hub, ids)
    label = LabelIn(carrier="USPS", tracking_number="9400C", cost=Decimal("5"), currency="USD")
    with hub.db.unit_of_work() as session:
        (quote, *_) = shipping.record_quotes(session, package_id, ids["carrier"], QUOTES)
        label_id = shipping.record_label(session, quote, label).id
        line = orders.get_order(session, ids["order"]).lines[0]
        returns.request_return(
            session, ids["order"], ReturnIn(lines=[ReturnLineIn(order_line_id=line.id, quantity=1)])
        )
    voids: list[Callable[[Session], Label]] = [
        lambda s: shipping.label_to_void(s, package_id),
        lambda s: shipping.record_void(s, label_id),
    ]
    for void in voids:
        with (
            pytest.raises(Invalid, match=r"\(MUG\) were returned: it shipped"),
            hub.db.unit_of_work() as session,
        ):
            void(session)
    with hub.db.read() as session:
        assert shipping.label_of(session, package_id) is not None  # nothing changed


def test_a_package_without_a_label_has_none_to_void(hub: Hub, ids: dict[str, int]) -> None:
    package_id = _package(hub, ids)
    with (
        pytest.raises(Invalid, match=f"package {package_id} has no label to void"),
        hub.db.read() as session,
    ):
        shipping.label_to_void(session, package_id)


def test_tracking_events_are_kept_once_and_move_the_shipment(hub: Hub, ids: dict[str, int]) -> None:
    package_id = _package(hub, ids)
    with hub.db.unit_of_work() as session:
        (quote,) = shipping.record_quotes(session, package_id, ids["carrier"], QUOTES[:1])
        shipping.record_label(
            session,
            quote,
            LabelIn(carrier="USPS", tracking_number="EZ1", cost=Decimal("7.90"), currency="USD"),
        )
        shipment_id = shipping.get_package(session, package_id).shipment_id
    assert shipment_id is not None
    at = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
    scans = [
        TrackingIn(status=TrackingStatus.IN_TRANSIT, raw_status="in_transit", occurred_at=at),
        TrackingIn(
            status=TrackingStatus.DELIVERED,
            raw_status="delivered",
            message="Left at front door",
            occurred_at=at + dt.timedelta(days=1),
        ),
    ]
    with hub.db.unit_of_work() as session:
        assert shipping.record_tracking(session, shipment_id, scans, ids["carrier"])
    with hub.db.unit_of_work() as session:  # the carrier reports the same again
        assert not shipping.record_tracking(session, shipment_id, scans[:1], ids["carrier"])
        assert [e.status for e in shipping.tracking_events(session, shipment_id)] == [
            TrackingStatus.IN_TRANSIT,
            TrackingStatus.DELIVERED,
        ]
        shipment = session.get(Shipment, shipment_id)
        assert shipment is not None and shipment.tracking_status is TrackingStatus.DELIVERED
        timeline = [a.message for a in orders.activities(session, ids["order"])]
        assert any("delivered (Left at front door)" in line for line in timeline)


def test_tax_is_written_with_its_lines_and_totals_and_frozen_once_committed(
    hub: Hub, ids: dict[str, int]
) -> None:
    with hub.db.unit_of_work() as session:
        order = orders.get_order(session, ids["order"])
        before, line_id = order.total, order.lines[0].id
        taxes.record_tax(
            session,
            order.id,
            ids["carrier"],
            TaxIn(amount=Decimal("1.90"), rate=Decimal("0.095"), lines={line_id: Decimal("1.90")}),
        )
    with hub.db.unit_of_work() as session:
        order = orders.get_order(session, ids["order"])
        assert (order.tax_total, order.total) == (Decimal("1.9000"), before + Decimal("1.90"))
        assert order.lines[0].tax_amount == Decimal("1.9000")
        taxes.commit_tax(session, order.id, "tw-3001")
    with pytest.raises(Conflict, match="is committed"), hub.db.unit_of_work() as session:
        taxes.record_tax(session, ids["order"], ids["carrier"], TaxIn(amount=Decimal("0")))


def test_a_channel_names_one_attached_plugin_per_capability(hub: Hub, ids: dict[str, int]) -> None:
    with pytest.raises(Invalid, match="is not on channel"), hub.db.unit_of_work() as session:
        shipping.set_service(session, ids["channel"], ServiceCapability.GET_RATES, ids["carrier"])
    with hub.db.unit_of_work() as session:
        plugins.attach(session, ids["carrier"], ids["channel"])
        shipping.set_service(session, ids["channel"], ServiceCapability.GET_RATES, ids["carrier"])
        shipping.set_service(session, ids["channel"], ServiceCapability.GET_RATES, ids["carrier"])
    with hub.db.read() as session:
        assert shipping.services(session, ids["channel"]) == {
            ServiceCapability.GET_RATES: ids["carrier"]
        }
        with pytest.raises(Invalid, match="no plugin of this channel does calculate_tax"):
            shipping.service_for(session, ids["channel"], ServiceCapability.CALCULATE_TAX)


def test_a_package_is_read_with_its_parcels_and_the_plugin_chosen_to_rate_it(
    hub: Hub, ids: dict[str, int]
) -> None:
    package_id = _package(hub, ids)
    with hub.db.read() as session:
        with pytest.raises(Invalid, match="no plugin of this channel does get_rates"):
            shipping.package_for(session, package_id, ServiceCapability.GET_RATES)
        with pytest.raises(NotFound, match=f"no package {package_id + 1}"):
            shipping.package_for(session, package_id + 1, ServiceCapability.GET_RATES)
    with hub.db.unit_of_work() as session:
        plugins.attach(session, ids["carrier"], ids["channel"])
        shipping.set_service(session, ids["channel"], ServiceCapability.GET_RATES, ids["carrier"])
    with hub.db.read() as session:
        package, plugin_id = shipping.package_for(session, package_id, ServiceCapability.GET_RATES)
    assert plugin_id == ids["carrier"]
    assert [parcel.weight for parcel in package.parcels] == [BOX.weight]  # read while open


def test_the_reads_built_once_answer_for_each_package_capability_and_plugin(
    hub: Hub, ids: dict[str, int]
) -> None:
    """package_for's and record_quotes' statements are built once and bound per call: one
    session asking in turn about two packages, two capabilities and two plugins gets each
    one's own answer, never the one asked before."""
    light = _package(hub, ids)
    with hub.db.unit_of_work() as session:
        heavy = shipping.prepare_package(session, ids["order"], [BOX, ParcelIn(weight=5000)]).id
        labeller = factories.plugin(hub, session, "labeller", import_orders=False)
        for plugin_id in (ids["carrier"], labeller.id):
            plugins.attach(session, plugin_id, ids["channel"])
        shipping.set_service(session, ids["channel"], ServiceCapability.GET_RATES, ids["carrier"])
        shipping.set_service(session, ids["channel"], ServiceCapability.BUY_LABEL, labeller.id)
        shipping.record_quotes(session, light, ids["carrier"], QUOTES[:1])
        shipping.record_quotes(session, heavy, ids["carrier"], QUOTES[1:])
        by_labeller = shipping.record_quotes(session, heavy, labeller.id, QUOTES[:1])
        assert [(q.plugin_id, q.external_id) for q in by_labeller] == [(labeller.id, "r1")]
        by_carrier = shipping.record_quotes(session, light, ids["carrier"], QUOTES[2:])
        assert [(q.package_id, q.external_id) for q in by_carrier] == [(light, "r3")]
    with hub.db.read() as session:
        asked = [
            (package_id, capability, shipping.package_for(session, package_id, capability))
            for package_id in (light, heavy, light)
            for capability in (ServiceCapability.GET_RATES, ServiceCapability.BUY_LABEL)
        ]
        weights = {
            package_id: [parcel.weight for parcel in package.parcels]
            for package_id, _, (package, _) in asked
        }
    assert [(p, c, found.id, plugin) for p, c, (found, plugin) in asked] == [
        (light, ServiceCapability.GET_RATES, light, ids["carrier"]),
        (light, ServiceCapability.BUY_LABEL, light, labeller.id),
        (heavy, ServiceCapability.GET_RATES, heavy, ids["carrier"]),
        (heavy, ServiceCapability.BUY_LABEL, heavy, labeller.id),
        (light, ServiceCapability.GET_RATES, light, ids["carrier"]),
        (light, ServiceCapability.BUY_LABEL, light, labeller.id),
    ]
    assert weights == {light: [BOX.weight], heavy: [BOX.weight, Decimal("5000")]}
    with hub.db.read() as session:
        assert plugins.plugin_to_call(session, labeller.id).name == "labeller"
        assert plugins.plugin_to_call(session, ids["carrier"]).name == "carrier"
        with pytest.raises(NotFound, match="no plugin with id 999"):
            plugins.plugin_to_call(session, 999)


def test_quotes_are_refused_for_a_package_that_is_not_there(hub: Hub, ids: dict[str, int]) -> None:
    with pytest.raises(NotFound, match="no package 999"), hub.db.unit_of_work() as session:
        shipping.record_quotes(session, 999, ids["carrier"], QUOTES)
