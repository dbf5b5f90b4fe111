"""What a ShipStation account holds and its fixed tables: credentials (API key and
secret), orders, shipments grouped in batches, webhooks and the counts of labels bought
and voided; the label cost table; the error ShipStation answers with.

Every key+secret pair has its own store (``Account``). ShipStation V1 answers errors as
ASP.NET Web API does, ``{"Message": "..."}`` (a 400 of a missing field adds
``ModelState``); ``ShipStationError`` carries the status and that body.
"""

from __future__ import annotations

import base64
import math
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Doc = dict[str, Any]

OPEN_STATUSES = frozenset(
    {"awaiting_payment", "awaiting_shipment", "pending_fulfillment", "on_hold"}
)
ORDER_STATUSES = OPEN_STATUSES | {"shipped", "cancelled"}
EVENTS = frozenset(
    {
        "ORDER_NOTIFY",
        "ITEM_ORDER_NOTIFY",
        "SHIP_NOTIFY",
        "ITEM_SHIP_NOTIFY",
        "FULFILLMENT_SHIPPED",
        "FULFILLMENT_REJECTED",
    }
)
NULL_REFERENCE = "Object reference not set to an instance of an object."
DENIED = "Authorization has been denied for this request."
MANUAL_STORE_ID = 10001
CENT = Decimal("0.01")


class ShipStationError(Exception):
    """An answer ShipStation gives as ``{"Message": ...}`` (plus ``ModelState``)."""

    def __init__(self, status: int, message: str, model_state: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.model_state = model_state

    def body(self) -> Doc:
        body: Doc = {"Message": self.message}
        if self.model_state:
            body["ModelState"] = self.model_state
        return body


def missing(model: str, *fields: str) -> ShipStationError:
    """The 400 of required fields left out, each named as ASP.NET's model binder names it."""
    return ShipStationError(
        400,
        "The request is invalid.",
        {f"{model}.{name}": [f"The {name} field is required."] for name in fields},
    )


def not_found(what: str) -> ShipStationError:
    return ShipStationError(404, f"The requested {what} was not found.")


def stamp(moment: datetime | None = None) -> str:
    """ShipStation's timestamp: seven fractional digits, no offset."""
    moment = moment or datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0"


# --- the label cost table ---------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    carrier: str
    service: str
    base: Decimal  # USD, up to one pound
    per_lb: Decimal  # USD for each started pound beyond the first
    tracking_prefix: str
    tracking_digits: int


LABEL_TABLE: tuple[Service, ...] = (
    Service("fedex", "fedex_ground", Decimal("7.30"), Decimal("0.85"), "", 15),
    Service("fedex", "fedex_2day", Decimal("18.50"), Decimal("2.10"), "", 15),
    Service("fedex", "fedex_priority_overnight", Decimal("41.00"), Decimal("3.90"), "", 15),
    Service("ups", "ups_ground", Decimal("8.10"), Decimal("0.90"), "1Z999AA1", 10),
    Service("ups", "ups_next_day_air", Decimal("32.40"), Decimal("3.60"), "1Z999AA1", 10),
    Service("stamps_com", "usps_first_class_mail", Decimal("4.25"), Decimal("0.60"), "9400", 18),
    Service("stamps_com", "usps_ground_advantage", Decimal("5.10"), Decimal("0.70"), "9400", 18),
    Service("stamps_com", "usps_priority_mail", Decimal("7.95"), Decimal("1.20"), "9405", 18),
)
SERVICE_NAMES: dict[str, str] = {
    "fedex_ground": "FedEx Ground®",
    "fedex_2day": "FedEx 2Day®",
    "fedex_priority_overnight": "FedEx Priority Overnight®",
    "ups_ground": "UPS® Ground",
    "ups_next_day_air": "UPS Next Day Air®",
    "usps_first_class_mail": "USPS First Class Mail",
    "usps_ground_advantage": "USPS Ground Advantage",
    "usps_priority_mail": "USPS Priority Mail",
}
CARRIER_NAMES: dict[str, str] = {"fedex": "FedEx", "ups": "UPS", "stamps_com": "Stamps.com"}
CONFIRMATION_FEES: dict[str | None, Decimal] = {
    None: Decimal(0),
    "none": Decimal(0),
    "delivery": Decimal(0),
    "signature": Decimal("2.70"),
    "adult_signature": Decimal("6.50"),
    "direct_signature": Decimal("3.25"),
}
INSURANCE_RATE = Decimal("0.01")  # insuranceCost = 1 % of insuredValue, to the cent
OUNCES = {"ounces": Decimal(1), "pounds": Decimal(16), "grams": Decimal("0.035274")}


def find_service(carrier: Any, service: Any) -> Service:
    for row in LABEL_TABLE:
        if row.carrier == carrier and row.service == service:
            return row
    if not any(row.carrier == carrier for row in LABEL_TABLE):
        raise ShipStationError(400, f"Carrier '{carrier}' is not connected to this account.")
    raise ShipStationError(400, f"Invalid serviceCode '{service}' for carrier '{carrier}'.")


def weight_oz(weight: Any) -> Decimal:
    if not isinstance(weight, dict) or weight.get("value") is None:
        raise missing("apiShipment", "weight")
    factor = OUNCES.get(str(weight.get("units", "ounces")))
    if factor is None:
        raise ShipStationError(400, f"Invalid weight units '{weight.get('units')}'.")
    return Decimal(str(weight["value"])) * factor


def postage(service: Service, ounces: Decimal) -> Decimal:
    pounds = max(1, math.ceil(ounces / 16))
    return (service.base + service.per_lb * (pounds - 1)).quantize(CENT, ROUND_HALF_UP)


def confirmation_fee(confirmation: Any) -> Decimal:
    fee = CONFIRMATION_FEES.get(confirmation)
    if fee is None:
        raise ShipStationError(400, f"Invalid confirmation '{confirmation}'.")
    return fee


def label_cost(service: Service, ounces: Decimal, confirmation: Any) -> Decimal:
    return postage(service, ounces) + confirmation_fee(confirmation)


def insurance_cost(options: Any) -> Decimal:
    if not isinstance(options, dict) or not options.get("insureShipment"):
        return Decimal(0)
    value = Decimal(str(options.get("insuredValue") or 0))
    return (value * INSURANCE_RATE).quantize(CENT, ROUND_HALF_UP)


def _pdf() -> bytes:
    """A one-page blank 4×6 in PDF: every label the sandbox prints."""
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 288 432]>>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<</Size {len(objects) + 1}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


LABEL_PDF_BASE64 = base64.b64encode(_pdf()).decode()


# --- accounts ---------------------------------------------------------------------------


@dataclass
class Account:
    key: str
    secret: str
    manual_store: bool = True
    revoked: bool = False
    orders: dict[int, Doc] = field(default_factory=dict)
    shipments: dict[int, Doc] = field(default_factory=dict)
    webhooks: dict[int, Doc] = field(default_factory=dict)
    labels_bought: int = 0
    labels_voided: int = 0


@dataclass
class State:
    accounts: dict[str, Account] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _next: dict[str, int] = field(
        default_factory=lambda: {
            "order": 100000000,
            "shipment": 72500000,
            "batch": 100300,
            "webhook": 123000,
            "tracking": 0,
        }
    )

    def next_id(self, kind: str) -> int:
        self._next[kind] += 1
        return self._next[kind]

    def add_account(
        self, key: str | None = None, secret: str | None = None, manual_store: bool = True
    ) -> Account:
        key = key or secrets.token_hex(16)
        secret = secret or secrets.token_hex(16)
        if key in self.accounts and not self.accounts[key].revoked:
            raise ValueError(f"the key {key} exists")
        account = Account(key, secret, manual_store)
        self.accounts[key] = account
        return account

    def authenticate(self, key: str, secret: str) -> Account | None:
        account = self.accounts.get(key)
        if account is None or account.revoked or not secrets.compare_digest(account.secret, secret):
            return None
        return account

    def revoke(self, key: str) -> bool:
        account = self.accounts.get(key)
        if account is None:
            return False
        account.revoked = True
        return True

    def tracking_number(self, service: Service) -> str:
        serial = self.next_id("tracking")
        width = service.tracking_digits
        return service.tracking_prefix + f"{248201115029520 + serial}"[-width:].zfill(width)
