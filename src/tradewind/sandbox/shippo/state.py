"""What a Shippo account holds and the tables behind it: API tokens, addresses, parcels,
shipments with their rates, transactions (labels), tracks and webhooks.

Every token has its own store (``Account``); its prefix decides the mode (``shippo_test_…``
test, ``shippo_live_…`` live) and every object it makes carries ``"test"`` accordingly.
Time comes from one injectable clock (epoch seconds), so rate expiry and the rate-limit
windows can be driven by a test.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

Doc = dict[str, Any]

TEST_PREFIX = "shippo_test_"
LIVE_PREFIX = "shippo_live_"


class ShippoError(Exception):
    """An answer Shippo gives with a DRF-style body: ``{"detail": …}`` or field errors."""

    def __init__(self, status: int, body: Doc) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = body


def detail(status: int, text: str) -> ShippoError:
    return ShippoError(status, {"detail": text})


def not_found() -> ShippoError:
    return detail(404, "Not found.")


def field_errors(errors: dict[str, Any]) -> ShippoError:
    return ShippoError(400, errors)


REQUIRED = "This field is required."

# --- the rate table ---------------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    provider: str
    name: str
    token: str
    base: Decimal  # USD
    per_lb: Decimal  # USD per started pound
    days: int
    terms: str


RATE_TABLE: tuple[Service, ...] = (
    Service(
        "USPS",
        "Ground Advantage",
        "usps_ground_advantage",
        Decimal("4.75"),
        Decimal("0.55"),
        5,
        "Delivery in 2 to 5 business days.",
    ),
    Service(
        "USPS",
        "Priority Mail",
        "usps_priority",
        Decimal("7.90"),
        Decimal("0.85"),
        2,
        "Delivery in 1 to 3 business days.",
    ),
    Service(
        "USPS",
        "Priority Mail Express",
        "usps_priority_express",
        Decimal("26.35"),
        Decimal("2.10"),
        1,
        "Overnight delivery to most U.S. locations.",
    ),
    Service(
        "UPS",
        "Ground",
        "ups_ground",
        Decimal("9.10"),
        Decimal("0.60"),
        4,
        "Delivery times vary. Delivered by the end of the day.",
    ),
    Service(
        "FedEx",
        "2 Day",
        "fedex_2_day",
        Decimal("19.80"),
        Decimal("1.40"),
        2,
        "Delivery by the end of the second business day.",
    ),
)
# GET /shipments/{id}/rates/{currency}: USD → currency, fixed so amounts are reproducible.
EXCHANGE: dict[str, Decimal] = {
    "USD": Decimal(1),
    "EUR": Decimal("0.92"),
    "GBP": Decimal("0.79"),
    "CAD": Decimal("1.36"),
}
POUNDS_PER: dict[str, Decimal] = {
    "lb": Decimal(1),
    "oz": Decimal(1) / Decimal(16),
    "kg": Decimal("2.20462"),
    "g": Decimal("0.00220462"),
}
DISTANCE_UNITS = frozenset({"cm", "in", "ft", "m", "mm", "yd"})
CENT = Decimal("0.01")
RATE_BUY_SECONDS = 7 * 86400  # a rate older than this cannot be bought
RATE_KEEP_SECONDS = 390 * 86400  # a rate older than this is no longer returned


def price(service: Service, weight_lb: Decimal) -> Decimal:
    """base + per_lb × started pounds (at least one), to the cent."""
    pounds = max(Decimal(1), weight_lb.to_integral_value(rounding=ROUND_CEILING))
    return (service.base + service.per_lb * pounds).quantize(CENT, ROUND_HALF_UP)


# --- tracking ---------------------------------------------------------------------------

TRACK_STATUSES = ("UNKNOWN", "PRE_TRANSIT", "TRANSIT", "DELIVERED", "RETURNED", "FAILURE")
LADDER: tuple[str, ...] = ("UNKNOWN", "PRE_TRANSIT", "TRANSIT", "DELIVERED")
# The test carrier ``shippo``: each predefined number reports its status.
TEST_CARRIER = "shippo"
TEST_NUMBERS: dict[str, str] = {f"SHIPPO_{s}": s for s in TRACK_STATUSES}
CARRIERS = frozenset({"usps", "ups", "fedex", TEST_CARRIER})
STATUS_DETAILS: dict[str, tuple[str, str, str, str]] = {
    # status: (status_details, city, state, zip)
    "UNKNOWN": ("The carrier has received the electronic shipment information.", "", "", ""),
    "PRE_TRANSIT": ("The shipping label has been created.", "San Francisco", "CA", "94117"),
    "TRANSIT": ("Your shipment has departed the carrier facility.", "Oakland", "CA", "94615"),
    "DELIVERED": ("Your shipment has been delivered.", "Berkeley", "CA", "94705"),
    "RETURNED": ("Your shipment has been returned to the sender.", "San Francisco", "CA", "94117"),
    "FAILURE": ("The carrier could not deliver your shipment.", "Berkeley", "CA", "94705"),
}
TRACKING_URLS: dict[str, str] = {
    "usps": "https://tools.usps.com/go/TrackConfirmAction_input?origTrackNum={n}",
    "ups": "https://www.ups.com/track?tracknum={n}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={n}",
}


# --- the store --------------------------------------------------------------------------


def new_id() -> str:
    return secrets.token_hex(16)


@dataclass
class Event:
    """A change the webhooks of ``token`` are told about."""

    token: str
    event: str
    test: bool
    data: Doc


@dataclass
class Account:
    token: str
    test: bool
    owner: str
    revoked: bool = False
    addresses: dict[str, Doc] = field(default_factory=dict)
    parcels: dict[str, Doc] = field(default_factory=dict)
    shipments: dict[str, Doc] = field(default_factory=dict)
    rates: dict[str, Doc] = field(default_factory=dict)
    transactions: dict[str, Doc] = field(default_factory=dict)
    refunds: dict[str, Doc] = field(default_factory=dict)
    tracks: dict[tuple[str, str], Doc] = field(default_factory=dict)  # (carrier, number)
    webhooks: dict[str, Doc] = field(default_factory=dict)
    polls_left: dict[str, int] = field(default_factory=dict)  # queued object id -> polls
    bought: dict[str, str] = field(default_factory=dict)  # rate id -> transaction id
    labels: int = 0
    next_tracking: int = 1


def is_test(token: str) -> bool | None:
    if token.startswith(TEST_PREFIX):
        return True
    if token.startswith(LIVE_PREFIX):
        return False
    return None


class State:
    """Every token's account. Callers hold ``lock`` around each call."""

    def __init__(self, clock: Callable[[], float] | None = None, polls: int = 2) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[str, Account] = {}
        self.clock = clock or time.time
        self.polls = polls  # GETs a QUEUED shipment or transaction needs before it is done

    def add_token(self, test: bool = True, token: str | None = None) -> Account:
        value = token or (TEST_PREFIX if test else LIVE_PREFIX) + secrets.token_hex(20)
        mode = is_test(value)
        if mode is None:
            raise ValueError(f"a Shippo token starts with {TEST_PREFIX} or {LIVE_PREFIX}")
        existing = self.accounts.get(value)
        if existing is not None:
            existing.revoked = False
            return existing
        account = Account(value, mode, f"merchant-{secrets.token_hex(4)}@sandbox.invalid")
        self.accounts[value] = account
        return account

    def revoke(self, token: str) -> bool:
        account = self.accounts.get(token)
        if account is None:
            return False
        account.revoked = True
        return True

    def active(self, token: str) -> Account | None:
        account = self.accounts.get(token)
        return None if account is None or account.revoked else account

    def find_track(self, carrier: str, number: str) -> Account | None:
        for account in self.accounts.values():
            if (carrier, number) in account.tracks:
                return account
        return None

    def stamp(self, at: float | None = None) -> str:
        moment = datetime.fromtimestamp(self.clock() if at is None else at, UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
