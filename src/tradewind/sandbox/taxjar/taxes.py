"""``POST /v2/taxes``: validate an order as TaxJar does, find its jurisdiction in the rate
table and compute the ``tax`` object with TaxJar's rounding: every amount is the exact
product rounded half-up to the cent, totals are rounded from exact sums (never summed
from rounded parts), and ``rate`` is the exact tax over the taxable amount, to 5 places.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tradewind.sandbox.taxjar import rates
from tradewind.sandbox.taxjar.errors import ApiError, missing
from tradewind.sandbox.taxjar.params import (
    Body,
    items,
    json_number,
    number,
    required_number,
    required_text,
    text,
)

CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.00001")
ZERO = Decimal(0)
EXEMPT_TYPES = ("wholesale", "government", "marketplace", "other")
EXEMPTION_TYPES = (*EXEMPT_TYPES, "non_exempt")

Nexus = frozenset[tuple[str, str]]  # (country code, region code)

# Key names per jurisdiction level, as (taxable amount, rate, tax) in each part of the
# breakdown. TaxJar spells them differently in the totals, a line item and the shipping.
KeyNames = dict[str, tuple[str, str, str]]
US_TOTALS: KeyNames = {
    "state": ("state_taxable_amount", "state_tax_rate", "state_tax_collectable"),
    "county": ("county_taxable_amount", "county_tax_rate", "county_tax_collectable"),
    "city": ("city_taxable_amount", "city_tax_rate", "city_tax_collectable"),
    "special": (
        "special_district_taxable_amount",
        "special_tax_rate",
        "special_district_tax_collectable",
    ),
}
US_LINE: KeyNames = {
    "state": ("state_taxable_amount", "state_sales_tax_rate", "state_amount"),
    "county": ("county_taxable_amount", "county_tax_rate", "county_amount"),
    "city": ("city_taxable_amount", "city_tax_rate", "city_amount"),
    "special": ("special_district_taxable_amount", "special_tax_rate", "special_district_amount"),
}
US_SHIPPING: KeyNames = {
    **US_LINE,
    "special": ("special_taxable_amount", "special_tax_rate", "special_district_amount"),
}
CA_KEYS: KeyNames = {
    level: (f"{level}_taxable_amount", f"{level}_tax_rate", level)
    for level in ("gst", "pst", "qst")
}


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Item:
    amount: Decimal
    id: str | None = None
    code: str | None = None
    unit_price: Decimal = ZERO


@dataclass(frozen=True)
class Place:
    """Where the order is taxed: its levels (name → rate), its jurisdictions and rules."""

    levels: dict[str, Decimal]
    jurisdictions: dict[str, str]
    freight_taxable: bool
    tax_source: str
    totals_keys: KeyNames
    line_keys: KeyNames
    shipping_keys: KeyNames
    state_rule: rates.StateRule | None = None

    def rate_for(self, level: str, item: Item) -> Decimal:
        rule = self.state_rule
        if (
            level == "state"
            and rule is not None
            and item.code in rule.state_exempt_codes
            and (rule.exempt_below is None or item.unit_price < rule.exempt_below)
        ):
            return ZERO
        return self.levels[level]


@dataclass(frozen=True)
class Order:
    to_country: str
    to_zip: str | None
    to_state: str | None
    to_city: str | None
    from_country: str | None
    from_zip: str | None
    from_state: str | None
    from_city: str | None
    shipping: Decimal
    lines: list[Item] | None
    amount: Decimal
    nexus_addresses: Nexus | None
    exemption_type: str | None


def read_order(body: Body) -> Order:
    to_country = required_text(body, "to_country").upper()
    to_zip = text(body, "to_zip", required=to_country == "US")
    to_state = text(body, "to_state", required=to_country in ("US", "CA"))
    shipping = required_number(body, "shipping")
    raw_lines = items(body, "line_items")
    lines = [read_line(line, index) for index, line in enumerate(raw_lines or [], 1)]
    amount = number(body, "amount")
    if not lines and amount is None:
        raise missing("amount or line_items")
    total = sum((line.amount for line in lines), ZERO) if lines else (amount or ZERO)
    exemption = text(body, "exemption_type")
    if exemption is not None and exemption not in EXEMPTION_TYPES:
        raise ApiError(400, f"exemption_type must be one of {', '.join(EXEMPTION_TYPES)}")
    order = Order(
        to_country=to_country,
        to_zip=to_zip,
        to_state=to_state.upper() if to_state else None,
        to_city=text(body, "to_city"),
        from_country=(text(body, "from_country") or "").upper() or None,
        from_zip=text(body, "from_zip"),
        from_state=(text(body, "from_state") or "").upper() or None,
        from_city=text(body, "from_city"),
        shipping=shipping,
        lines=lines or None,
        amount=total,
        nexus_addresses=read_nexus_addresses(body),
        exemption_type=exemption,
    )
    if order.to_zip is not None and order.to_state is not None:
        problem = rates.address_problem("to", order.to_country, order.to_zip, order.to_state)
        if problem:
            raise ApiError(400, problem)
    known: set[str] | None = None
    if order.to_country in ("US", "CA"):
        known = set(rates.US_STATES if order.to_country == "US" else rates.CA_PROVINCES)
    if known is not None and order.to_state not in known:
        raise ApiError(400, f"to_state {order.to_state} isn't a valid state for {order.to_country}")
    return order


def read_line(line: Body, index: int) -> Item:
    quantity = number(line, "quantity")
    quantity = Decimal(1) if quantity is None else quantity
    unit_price = number(line, "unit_price") or ZERO
    discount = number(line, "discount") or ZERO
    return Item(
        amount=max(quantity * unit_price - discount, ZERO),
        id=text(line, "id") or str(index),
        code=text(line, "product_tax_code"),
        unit_price=unit_price,
    )


def read_nexus_addresses(body: Body) -> Nexus | None:
    addresses = items(body, "nexus_addresses")
    if addresses is None:
        return None
    found: set[tuple[str, str]] = set()
    for address in addresses:
        country = required_text(address, "country")
        state = required_text(address, "state")
        found.add((country.upper(), state.upper()))
    return frozenset(found)


def has_nexus(order: Order, nexus: Nexus) -> bool:
    if order.to_country == "US":
        return ("US", order.to_state or "") in nexus
    if order.to_country == "CA":
        # GST/HST registration is federal: nexus anywhere in Canada counts everywhere.
        return any(country == "CA" for country, _ in nexus)
    return False  # the rate table covers the US and Canada only


def place_of(order: Order) -> Place:
    if order.to_country == "CA":
        province = rates.CA_PROVINCES[order.to_state or ""]
        where = {"country": "CA", "state": order.to_state or ""}
        if order.to_city:
            where["city"] = order.to_city.upper()
        return Place(
            levels={"gst": province.gst, "pst": province.pst, "qst": province.qst},
            jurisdictions=where,
            freight_taxable=True,
            tax_source="destination",
            totals_keys=CA_KEYS,
            line_keys=CA_KEYS,
            shipping_keys=CA_KEYS,
        )
    state = order.to_state or ""
    rule = rates.US_STATES[state]
    source, zip_code, city = "destination", order.to_zip or "", order.to_city
    if (
        rule.origin_sourced
        and order.from_country == "US"
        and order.from_state == state
        and order.from_zip
        and rates.address_problem("from", "US", order.from_zip, state) is None
    ):
        source, zip_code, city = "origin", order.from_zip, order.from_city
    area = rates.ZIP_AREAS.get(zip_code[:5])
    where = {"country": "US", "state": state}
    if area is not None:
        where |= {"county": area.county, "city": area.city}
    elif city:
        where["city"] = city.upper()
    return Place(
        levels={
            "state": rule.rate,
            "county": area.county_rate if area else ZERO,
            "city": area.city_rate if area else ZERO,
            "special": area.special_rate if area else ZERO,
        },
        jurisdictions=where,
        freight_taxable=rule.freight_taxable,
        tax_source=source,
        totals_keys=US_TOTALS,
        line_keys=US_LINE,
        shipping_keys=US_SHIPPING,
        state_rule=rule,
    )


@dataclass
class Part:
    """One taxed amount (a line or the shipping): its exact tax per level."""

    item: Item
    rates: dict[str, Decimal]

    @property
    def combined(self) -> Decimal:
        return sum(self.rates.values(), ZERO)

    @property
    def taxable(self) -> Decimal:
        return self.item.amount if self.combined > 0 else ZERO

    def exact(self, level: str | None = None) -> Decimal:
        if level is None:
            return self.item.amount * self.combined
        return self.item.amount * self.rates[level]

    def as_json(self, keys: KeyNames) -> dict[str, Any]:
        shown: dict[str, Any] = {}
        if self.item.id is not None:
            shown["id"] = self.item.id
        shown |= {
            "taxable_amount": json_number(self.taxable),
            "tax_collectable": json_number(cents(self.exact())),
            "combined_tax_rate": json_number(self.combined),
        }
        for level, (taxable_key, rate_key, amount_key) in keys.items():
            rate = self.rates[level]
            shown[taxable_key] = json_number(self.item.amount if rate > 0 else ZERO)
            shown[rate_key] = json_number(rate)
            shown[amount_key] = json_number(cents(self.exact(level)))
        return shown


def calculate(body: Body, account_nexus: Nexus) -> dict[str, Any]:
    """The ``{"tax": …}`` answer for a request body."""
    order = read_order(body)
    nexus = order.nexus_addresses if order.nexus_addresses is not None else account_nexus
    if not has_nexus(order, nexus):
        return {
            "tax": {
                "amount_to_collect": 0,
                "freight_taxable": False,
                "has_nexus": False,
                "rate": 0,
                "tax_source": None,
                "taxable_amount": 0,
            }
        }
    place = place_of(order)
    exempt = order.exemption_type in EXEMPT_TYPES

    def part(item: Item) -> Part:
        return Part(
            item, {level: ZERO if exempt else place.rate_for(level, item) for level in place.levels}
        )

    lines = [part(line) for line in order.lines] if order.lines else [part(Item(order.amount))]
    shipping = part(Item(order.shipping)) if place.freight_taxable else None
    parts = [*lines, *([shipping] if shipping else [])]
    taxable = sum((p.taxable for p in parts), ZERO)
    exact_tax = sum((p.exact() for p in parts), ZERO)
    rate = (exact_tax / taxable).quantize(RATE_PLACES, ROUND_HALF_UP) if taxable else ZERO

    breakdown: dict[str, Any] = {
        "taxable_amount": json_number(taxable),
        "tax_collectable": json_number(cents(exact_tax)),
        "combined_tax_rate": json_number(rate),
    }
    for level, (taxable_key, rate_key, amount_key) in place.totals_keys.items():
        breakdown[taxable_key] = json_number(level_taxable(parts, level))
        breakdown[rate_key] = json_number(ZERO if exempt else place.levels[level])
        breakdown[amount_key] = json_number(cents(sum((p.exact(level) for p in parts), ZERO)))
    if shipping is not None:
        breakdown["shipping"] = shipping.as_json(place.shipping_keys)
    if order.lines:
        breakdown["line_items"] = [line.as_json(place.line_keys) for line in lines]

    tax: dict[str, Any] = {
        "order_total_amount": json_number(order.amount + order.shipping),
        "shipping": json_number(order.shipping),
        "taxable_amount": json_number(taxable),
        "amount_to_collect": json_number(cents(exact_tax)),
        "rate": json_number(rate),
        "has_nexus": True,
        "freight_taxable": place.freight_taxable,
        "tax_source": place.tax_source,
    }
    if order.exemption_type is not None:
        tax["exemption_type"] = order.exemption_type
    tax["jurisdictions"] = place.jurisdictions
    tax["breakdown"] = breakdown
    return {"tax": tax}


def level_taxable(parts: Iterable[Part], level: str) -> Decimal:
    return sum((p.item.amount for p in parts if p.rates[level] > 0), ZERO)
