"""The service capabilities a channel combines with its storefront — rates, labels,
tracking, tax — as records that cross the connector boundary and the protocols a
service connector (a carrier's or a tax service's template) implements. Money is
``Decimal`` (a decimal string in JSON) end to end."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Literal, Protocol, runtime_checkable

from pydantic import Field

from tradewind.connectors.records import AddressRecord, Page, Record
from tradewind.vocabulary import TrackingStatus


class ParcelRecord(Record):
    length: Decimal | None = None
    width: Decimal | None = None
    height: Decimal | None = None
    distance_unit: Literal["cm", "in"] = "cm"
    weight: Decimal
    mass_unit: Literal["g", "kg", "oz", "lb"] = "g"


class ShipmentRequest(Record):
    """A package to rate or ship: ``reference`` is Tradewind's package id (a service's
    idempotency key where it has one)."""

    reference: str
    ship_from: AddressRecord
    ship_to: AddressRecord
    parcels: tuple[ParcelRecord, ...]
    email: str = ""


class RateRecord(Record):
    external_id: str = ""  # the service's rate id, to buy it
    shipment_ref: str = ""  # the service's shipment the rate belongs to, if it has one
    carrier: str
    service: str
    amount: Decimal
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    estimated_days: int | None = None


class LabelRequest(Record):
    shipment: ShipmentRequest
    rate: RateRecord
    label_format: str = "PDF"


class LabelRecord(Record):
    external_id: str = ""
    carrier: str
    service: str = ""
    tracking_number: str
    tracking_url: str = ""
    cost: Decimal
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    label_url: str = ""
    label_data: str = ""  # base64, for a service that sends the file itself
    label_format: str = "PDF"


class TrackingRecord(Record):
    status: TrackingStatus
    raw_status: str = ""
    message: str = ""
    location: str = ""
    occurred_at: dt.datetime


class TaxLine(Record):
    id: str  # Tradewind's order line id
    quantity: int
    unit_price: Decimal
    discount: Decimal = Decimal("0")
    sku: str = ""


class TaxRequest(Record):
    reference: str  # the order's number (a tax transaction's id when committed)
    ship_from: AddressRecord
    ship_to: AddressRecord
    currency: str
    shipping: Decimal = Decimal("0")
    lines: tuple[TaxLine, ...]
    placed_at: dt.datetime | None = None  # the sale's date, for a committed transaction


class TaxRecord(Record):
    amount: Decimal
    shipping_tax: Decimal = Decimal("0")
    rate: Decimal = Decimal("0")
    lines: dict[str, Decimal] = Field(default_factory=dict)  # line id → tax


class TaxRefundLine(Record):
    id: str  # Tradewind's order line id
    quantity: int  # the units returned
    unit_price: Decimal
    tax: Decimal  # the returned units' part of the line's tax
    sku: str = ""


class TaxRefundRequest(Record):
    """Units of a committed sale that came back: ``reference`` is the refund's own id,
    ``sale`` the committed sale's transaction id. Amounts are positive (what goes back);
    a service that books refunds as negative numbers turns them."""

    reference: str
    sale: str
    ship_from: AddressRecord
    ship_to: AddressRecord
    currency: str
    refunded_at: dt.datetime
    tax: Decimal
    lines: tuple[TaxRefundLine, ...]


@runtime_checkable
class QuotesRates(Protocol):
    def get_rates(self, request: ShipmentRequest) -> Sequence[RateRecord]: ...


@runtime_checkable
class BuysLabels(Protocol):
    def buy_label(self, request: LabelRequest) -> LabelRecord:
        """Buy the label of ``request.rate``. Bought twice for one shipment, the service
        refuses the second (or answers the first): never a second label."""


@runtime_checkable
class VoidsLabels(Protocol):
    def void_label(self, label: LabelRecord) -> None: ...


@runtime_checkable
class TracksParcels(Protocol):
    def track(self, carrier: str, tracking_number: str) -> Sequence[TrackingRecord]: ...


@runtime_checkable
class CalculatesTax(Protocol):
    def calculate_tax(self, request: TaxRequest) -> TaxRecord: ...


@runtime_checkable
class CommitsTax(Protocol):
    def commit_tax(self, request: TaxRequest, tax: TaxRecord) -> str:
        """Record the sale with the service; returns its transaction id."""


@runtime_checkable
class RefundsTax(Protocol):
    """What the plugin that committed a sale does when units of it come back: it is part
    of that plugin's ``commit_tax`` (a refund belongs with its sale), not a capability a
    channel names apart."""

    def refund_tax(self, request: TaxRefundRequest) -> str:
        """Record the returned units with the service; returns the refund's transaction
        id. Sent twice, the service keeps one refund."""


class FulfilmentLine(Record):
    id: str  # Tradewind's order line id
    sku: str = ""
    title: str = ""
    quantity: int
    unit_price: Decimal = Decimal("0")
    tax: Decimal = Decimal("0")


class FulfilmentOrder(Record):
    """An order handed to a fulfilment tool (ShipStation-style) to be picked, packed and
    shipped there. ``reference`` is the key Tradewind gives it (the tool's order key), the
    same every time the order is sent again: the tool updates rather than duplicates."""

    reference: str
    number: str
    status: str  # awaiting_payment, awaiting_shipment, on_hold or cancelled
    placed_at: dt.datetime
    paid_at: dt.datetime | None = None
    currency: str
    email: str = ""
    bill_to: AddressRecord
    ship_to: AddressRecord
    shipping: Decimal = Decimal("0")
    tax: Decimal = Decimal("0")
    total: Decimal = Decimal("0")
    note: str = ""
    lines: tuple[FulfilmentLine, ...]


class ShippedItem(Record):
    sku: str
    quantity: int = Field(gt=0)


class ShippedRecord(Record):
    """A shipment a fulfilment tool made for an order Tradewind handed it: ``order_ref``
    is the ``reference`` it was given. Without ``items`` it shipped what was left."""

    external_id: str
    order_ref: str
    carrier: str = ""
    service: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    cost: Decimal | None = None
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    shipped_at: dt.datetime | None = None
    voided: bool = False
    items: tuple[ShippedItem, ...] = ()


@runtime_checkable
class PushesForFulfilment(Protocol):
    def push_order_for_fulfilment(self, order: FulfilmentOrder) -> str:
        """Create or update the order in the tool; returns the tool's id of it."""


@runtime_checkable
class ReportsShipments(Protocol):
    def shipments_at(self, webhook: str, resource: str) -> Page[ShippedRecord]:
        """The shipments a thin ``webhook`` delivery points to (its ``resource`` URL),
        read from the tool with the plugin's credentials; ``skipped`` names those that
        could not be read, with why."""


@runtime_checkable
class ListsShipments(Protocol):
    def shipments_of(self, reference: str, external_id: str) -> Page[ShippedRecord]:
        """The shipments the tool made for one order it was handed (``reference``, and
        ``external_id`` its own id of it): the safety net under a lost notification."""
