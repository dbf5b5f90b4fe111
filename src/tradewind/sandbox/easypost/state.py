"""What an EasyPost account holds and the rules behind every write: API keys, addresses,
parcels, shipments with their rates and labels, trackers, webhooks and the Events that
changes raise.

Every key has its own store (``Account``); a key's prefix decides its mode (``EZTK…``
test, ``EZAK…`` production) and every object it makes carries that mode. The functions
here return EasyPost's JSON documents and raise ``EasyPostError`` with EasyPost's error
code, message and field errors; the routes only translate HTTP.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

Doc = dict[str, Any]

TEST_PREFIX = "EZTK"
PRODUCTION_PREFIX = "EZAK"


class EasyPostError(Exception):
    """An answer EasyPost gives as ``{"error": {code, message, errors}}``."""

    def __init__(
        self, status: int, code: str, message: str, errors: list[Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors or []

    def body(self) -> Doc:
        return {"error": {"code": self.code, "message": self.message, "errors": self.errors}}


def required(*fields: str) -> EasyPostError:
    """The 422 of a missing parameter, worded as EasyPost words it."""
    return EasyPostError(
        422,
        "PARAMETER.REQUIRED",
        "Missing required parameter.",
        [{"field": f, "message": "cannot be blank"} for f in fields],
    )


def not_found() -> EasyPostError:
    return EasyPostError(404, "NOT_FOUND", "The requested resource could not be found.")


# --- the rate table ---------------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    carrier: str
    service: str
    base: Decimal  # USD
    per_oz: Decimal  # USD per started ounce
    delivery_days: int
    # The lightest parcel (oz) the carrier rates; lighter ones get a rate_error message.
    min_weight_oz: Decimal = Decimal(0)


RATE_TABLE: tuple[Service, ...] = (
    Service("USPS", "GroundAdvantage", Decimal("5.00"), Decimal("0.05"), 3),
    Service("USPS", "Priority", Decimal("7.50"), Decimal("0.06"), 2),
    Service("USPS", "Express", Decimal("25.00"), Decimal("0.40"), 1),
    Service("UPS", "Ground", Decimal("9.00"), Decimal("0.04"), 4),
    Service("UPS", "NextDayAir", Decimal("30.00"), Decimal("0.30"), 1),
    Service("FedEx", "FEDEX_GROUND", Decimal("8.00"), Decimal("0.05"), 3, Decimal(16)),
)
CARRIERS: tuple[str, ...] = ("USPS", "UPS", "FedEx")
RETAIL_MARKUP = Decimal("1.20")  # retail_rate = rate × 1.20, to the cent
INSURANCE_FEE = Decimal("0.005")  # InsuranceFee = 0.5 % of the insured value
CENT = Decimal("0.01")


def price(service: Service, weight_oz: Decimal) -> Decimal:
    """base + per_oz × started ounces, to the cent."""
    ounces = weight_oz.to_integral_value(rounding=ROUND_CEILING)
    return (service.base + service.per_oz * ounces).quantize(CENT, ROUND_HALF_UP)


# --- tracking ---------------------------------------------------------------------------

LADDER: tuple[str, ...] = ("pre_transit", "in_transit", "out_for_delivery", "delivered")

# EasyPost's test tracking codes and the status each one reports.
TEST_CODES: dict[str, str] = {
    "EZ1000000001": "pre_transit",
    "EZ2000000002": "in_transit",
    "EZ3000000003": "out_for_delivery",
    "EZ4000000004": "delivered",
    "EZ5000000005": "return_to_sender",
    "EZ6000000006": "failure",
    "EZ7000000007": "unknown",
}

DETAILS: dict[str, tuple[str, str, str | None, str | None, str | None]] = {
    # status: (message, status_detail, city, state, zip)
    "pre_transit": ("Shipping Label Created", "label_created", "HOUSTON", "TX", "77063"),
    "in_transit": ("Arrived at Facility", "arrived_at_facility", "DALLAS", "TX", "75201"),
    "out_for_delivery": ("Out for Delivery", "out_for_delivery", "CHARLESTON", "SC", "29401"),
    "delivered": ("Delivered", "arrived_at_destination", "CHARLESTON", "SC", "29401"),
    "return_to_sender": ("Returned to Sender", "return", "CHARLESTON", "SC", "29401"),
    "failure": ("Delivery Failed", "unknown", "CHARLESTON", "SC", "29401"),
}


# --- the store --------------------------------------------------------------------------


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"


@dataclass
class Event:
    """A change the webhooks of ``key`` are told about."""

    key: str
    doc: Doc


@dataclass
class Account:
    key: str
    mode: str
    user_id: str
    revoked: bool = False
    addresses: dict[str, Doc] = field(default_factory=dict)
    parcels: dict[str, Doc] = field(default_factory=dict)
    shipments: dict[str, Doc] = field(default_factory=dict)
    rates: dict[str, Doc] = field(default_factory=dict)
    trackers: dict[str, Doc] = field(default_factory=dict)
    webhooks: dict[str, Doc] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # webhook id -> webhook_secret
    events: dict[str, Doc] = field(default_factory=dict)
    carrier_accounts: dict[str, str] = field(default_factory=dict)  # carrier -> ca_…
    labels_bought: int = 0
    labels_refunded: int = 0
    next_tracking: int = 1


def mode_of(key: str) -> str | None:
    if key.startswith(TEST_PREFIX):
        return "test"
    if key.startswith(PRODUCTION_PREFIX):
        return "production"
    return None


class State:
    """Every key's account. Callers hold ``lock`` around each call."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[str, Account] = {}
        self.clock = clock or (lambda: datetime.now(UTC))

    # --- keys -----------------------------------------------------------------------

    def add_key(self, mode: str = "test", key: str | None = None) -> Account:
        prefix = TEST_PREFIX if mode == "test" else PRODUCTION_PREFIX
        value = key or prefix + secrets.token_hex(16)
        found = mode_of(value)
        if found is None:
            raise ValueError(f"an EasyPost key starts with {TEST_PREFIX} or {PRODUCTION_PREFIX}")
        existing = self.accounts.get(value)
        if existing is not None:
            existing.revoked = False
            return existing
        account = Account(value, found, new_id("user"))
        for carrier in CARRIERS:
            account.carrier_accounts[carrier] = new_id("ca")
        self.accounts[value] = account
        return account

    def revoke(self, key: str) -> bool:
        account = self.accounts.get(key)
        if account is None:
            return False
        account.revoked = True
        return True

    def active(self, key: str) -> Account | None:
        account = self.accounts.get(key)
        return None if account is None or account.revoked else account

    def find_tracker(self, tracker_id: str) -> tuple[Account, Doc] | None:
        for account in self.accounts.values():
            tracker = account.trackers.get(tracker_id)
            if tracker is not None:
                return account, tracker
        return None

    # --- time -----------------------------------------------------------------------

    def stamp(self, moment: datetime | None = None) -> str:
        return (moment or self.clock()).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def address_stamp(self) -> str:
        return self.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
