"""Shipping and tax as a person asks for them (the UI, the API, the CLI): rates for a
package from the channel's rating plugin, a label bought once and voided once, tracking
read now, tax computed for an order. The service is called outside any transaction; its
calls are the plugin's executions, and refused credentials pause the plugin as in its
work."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.app.calls import connector_calls, patiently
from tradewind.connectors.base import Connector
from tradewind.connectors.errors import AuthFailed, RateLimited, Rejected
from tradewind.connectors.services import (
    BuysLabels,
    CalculatesTax,
    LabelRecord,
    LabelRequest,
    QuotesRates,
    RateRecord,
    TaxRecord,
    TrackingRecord,
    TracksParcels,
    VoidsLabels,
)
from tradewind.core.orders import service as orders
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin
from tradewind.core.shipments.models import Shipment
from tradewind.core.shipping import routes
from tradewind.core.shipping import service as shipping
from tradewind.core.shipping import tax as taxes
from tradewind.core.shipping.models import Label, PackageState, RateQuote
from tradewind.core.shipping.schemas import LabelIn, TaxIn, TrackingIn
from tradewind.errors import Conflict, Invalid, NotFound, TradewindError
from tradewind.hub import Hub
from tradewind.monitoring.executions import record_calls
from tradewind.sync.drain import authorization_lost
from tradewind.sync.handlers.services import (
    quotes_in,
    shipment_request,
    tax_computed,
    tax_in,
    tax_request,
)
from tradewind.sync.models import SyncWork, WorkKind, WorkState
from tradewind.sync.runtime import CallBuffer, open_connector
from tradewind.vocabulary import ServiceCapability

# How long a person-run call waits for a rate limit before saying so.
PATIENCE_SECONDS = 5.0
P = TypeVar("P")
T = TypeVar("T")
K = TypeVar("K")


class StillRateLimited(TradewindError):
    """The service still limits the plugin's calls after the wait a person is given."""

    status = 429
    title = "Rate limited"

    def __init__(self, plugin: str, retry_after: float, waited: float) -> None:
        self.retry_after = retry_after
        after = f" (after waiting {waited:g} s)" if waited else ""
        super().__init__(
            f"{plugin} is rate limited by the service{after}: nothing was done; "
            f"try again in {math.ceil(retry_after)} s"
        )


def _call(
    hub: Hub,
    plugin: Plugin,
    protocol: type[P],
    use: Callable[[P], T],
    keep: Callable[[Session, T], K],
) -> K:
    """``use`` the plugin's connector as ``protocol``, and ``keep`` its answer: its calls
    recorded in the same transaction as what ``keep`` writes (on their own when nothing
    is kept), refused credentials turned into needs-reauthorization with a notification,
    a rate limit waited out up to ``PATIENCE_SECONDS``."""
    calls = CallBuffer()
    # The plugin's own bucket is waited for where it is taken, just before the request.
    connector = open_connector(hub, plugin, calls, patience=PATIENCE_SECONDS)
    try:
        answer = _using(hub, plugin, connector, protocol, use)
    except BaseException:
        _record(hub, plugin.id, calls)
        raise
    made = calls.take()
    try:
        with hub.db.unit_of_work() as session:
            record_calls(session, plugin.id, made)
            return keep(session, answer)
    except BaseException:
        with hub.db.unit_of_work() as session:  # what was kept is undone, not the calls
            record_calls(session, plugin.id, made)
        raise


def _using(
    hub: Hub, plugin: Plugin, connector: Connector, protocol: type[P], use: Callable[[P], T]
) -> T:
    try:
        if not isinstance(connector, protocol):
            raise Invalid(f"{plugin.name} cannot do this ({protocol.__name__})")
        with connector_calls():
            try:
                return patiently(
                    lambda: use(connector),
                    PATIENCE_SECONDS,
                    lambda wait, waited: StillRateLimited(plugin.name, wait, waited),
                )
            except AuthFailed as exc:
                with hub.db.unit_of_work() as session:
                    authorization_lost(session, plugin.id, str(exc))
                raise
    finally:
        connector.close()


def _record(hub: Hub, plugin_id: int, calls: CallBuffer) -> None:
    with hub.db.unit_of_work() as session:
        record_calls(session, plugin_id, calls.take())


def buy_route_choice(hub: Hub, package_id: int) -> Label:
    """Buy the label the order's shipping process chooses among the package's quotes."""
    with hub.db.read() as session:
        package = shipping.get_package(session, package_id)
        route = routes.route_of(session, orders.get_order(session, package.order_id))
        if route is None:
            raise Invalid(
                "this order's location has no shipping process: choose a rate to buy",
                fields={"quote_id": "required"},
            )
        chosen = routes.choice(package.quotes, route)
        if chosen is None:
            wanted = route.service or "any service"
            raise Invalid(
                f"no quote of package {package_id} fits shipping process {route.name!r} "
                f"({wanted}): get rates first, or choose one",
                fields={"quote_id": "required"},
            )
        quote_id = chosen.id
    return buy_label(hub, package_id, quote_id)


def get_rates(hub: Hub, package_id: int) -> list[RateQuote]:
    """Rates for the package from its shipping process's plugin or the channel's rating
    plugin, kept as its quotes."""
    with hub.db.read() as session:
        package, plugin_id = shipping.package_for(session, package_id, ServiceCapability.GET_RATES)
        plugin = plugins.plugin_to_call(session, plugin_id)
        request = shipment_request(package)

    def keep(session: Session, rates: Sequence[RateRecord]) -> list[RateQuote]:
        kept = shipping.record_quotes(session, package_id, plugin.id, quotes_in(rates))
        session.flush()
        for quote in kept:
            session.expunge(quote)
        return kept

    return _call(hub, plugin, QuotesRates, lambda c: c.get_rates(request), keep)


def buy_label(hub: Hub, package_id: int, quote_id: int) -> Label:
    """Buy the label of ``quote_id``: once, however often it is asked. A refusal by the
    carrier frees the package to be bought again; an outage leaves it marked as being
    bought (the outcome is unknown, and buying again might buy twice)."""
    with hub.db.read() as session:
        quote = shipping.quote_to_buy(session, quote_id)
        if quote.package_id != package_id:
            raise NotFound(f"rate quote {quote_id} is not one of package {package_id}")
        package = shipping.get_package(session, package_id)
        if package.state is PackageState.BUYING:
            raise Conflict(shipping.BEING_BOUGHT.format(package_id=package_id))
        shipment_ref, _, rate_id = quote.external_id.rpartition("|")
        request = LabelRequest(
            shipment=shipment_request(package),
            rate=RateRecord(
                external_id=rate_id,
                shipment_ref=shipment_ref,
                carrier=quote.carrier,
                service=quote.service,
                amount=quote.amount,
                currency=quote.currency,
                estimated_days=quote.estimated_days,
            ),
        )
        plugin = plugins.plugin_to_call(session, quote.plugin_id)

    def buy(connector: BuysLabels) -> LabelRecord:
        # The claim is taken before each attempt: of two clicks only one buys.
        with hub.db.unit_of_work() as session:
            shipping.claim_purchase(session, package_id)
        try:
            return connector.buy_label(request)
        except (Rejected, AuthFailed, RateLimited):  # refused or not sent: nothing bought
            with hub.db.unit_of_work() as session:
                shipping.release_purchase(session, package_id)
            raise

    def keep(session: Session, bought: LabelRecord) -> Label:
        label = shipping.record_label(
            session,
            shipping.get_quote(session, quote_id),
            LabelIn(
                external_id=bought.external_id,
                carrier=bought.carrier,
                service=bought.service,
                tracking_number=bought.tracking_number,
                tracking_url=bought.tracking_url,
                cost=bought.cost,
                currency=bought.currency,
                label_url=bought.label_url,
                label_data=bought.label_data.encode() if bought.label_data else None,
                label_format=bought.label_format,
            ),
        )
        session.flush()
        session.expunge(label)
        return label

    return _call(hub, plugin, BuysLabels, buy, keep)


def void_label(hub: Hub, package_id: int) -> Label:
    """Void the package's label with the plugin that bought it (the carrier refunds the
    postage); then the package can be rated and bought again. A label voided already is
    refused before the carrier is asked."""
    with hub.db.read() as session:
        label = shipping.label_to_void(session, package_id)
        label_id = label.id
        plugin = plugins.plugin_to_call(session, label.plugin_id)
        record = LabelRecord(
            external_id=label.external_id,
            carrier=label.carrier,
            service=label.service,
            tracking_number=label.tracking_number,
            cost=label.cost,
            currency=label.currency,
            label_url=label.label_url,
            label_format=label.label_format,
        )

    def keep(session: Session, _: None) -> Label:
        voided = shipping.record_void(session, label_id)
        session.flush()
        session.expunge(voided)
        return voided

    return _call(hub, plugin, VoidsLabels, lambda c: c.void_label(record), keep)


def track(hub: Hub, shipment_id: int) -> bool:
    """Read the shipment's tracking now from the channel's tracking plugin."""
    with hub.db.read() as session:
        shipment = session.get(Shipment, shipment_id)
        if shipment is None:
            raise NotFound(f"no shipment {shipment_id}")
        if not shipment.tracking_number:
            raise Invalid(f"shipment {shipment_id} has no tracking number to follow")
        channel_id = orders.channel_of(session, shipment.order_id)
        plugin = plugins.plugin_to_call(
            session, shipping.service_for(session, channel_id, ServiceCapability.TRACK)
        )
        carrier, number = shipment.carrier, shipment.tracking_number

    def keep(session: Session, scans: Sequence[TrackingRecord]) -> bool:
        return shipping.record_tracking(
            session, shipment_id, [TrackingIn(**scan.model_dump()) for scan in scans], plugin.id
        )

    return _call(hub, plugin, TracksParcels, lambda c: c.track(carrier, number), keep)


def calculate_tax(hub: Hub, order_id: int) -> TaxIn:
    """Tax for an order from the channel's tax plugin, written on the order and its
    lines."""
    with hub.db.read() as session:
        order = orders.get_order(session, order_id)
        plugin = plugins.plugin_to_call(
            session,
            shipping.service_for(session, order.channel_id, ServiceCapability.CALCULATE_TAX),
        )
        request = tax_request(session, order)

    def keep(session: Session, tax: TaxRecord) -> TaxIn:
        computed = tax_in(tax)
        taxes.record_tax(session, order_id, plugin.id, computed)
        tax_computed(session, order_id, plugin.id)
        return computed

    return _call(hub, plugin, CalculatesTax, lambda c: c.calculate_tax(request), keep)


@dataclass(frozen=True)
class Rating:
    """The engine's rating of a package: still coming, or why the last try failed."""

    coming: bool = False
    failed: str = ""


def rating(session: Session, package_id: int) -> Rating:
    latest = session.scalar(
        select(SyncWork)
        .where(SyncWork.kind == WorkKind.GET_RATES, SyncWork.key == str(package_id))
        .order_by(SyncWork.id.desc())
        .limit(1)
    )
    if latest is None or latest.state is WorkState.DONE:
        return Rating()
    if latest.state is WorkState.FAILED:
        return Rating(failed=latest.last_error)
    return Rating(coming=True, failed=latest.last_error)
