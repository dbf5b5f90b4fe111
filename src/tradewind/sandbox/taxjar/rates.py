"""The sandbox's rate table: which state a ZIP code belongs to, the rates of each state,
ZIP code and Canadian province, and the sourcing and freight rules. Pure data and lookups;
the README lists every number. The table is the sandbox's, chosen so that the TaxJar
documentation's examples come out to the cent; it is not tax law.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

D = Decimal
NONE = Decimal(0)


@dataclass(frozen=True)
class StateRule:
    name: str
    rate: Decimal
    freight_taxable: bool = True
    # Intrastate sales are taxed at the seller's address (TaxJar's tax_source "origin").
    origin_sourced: bool = False
    # Product tax codes exempt from the state's own share (local shares still apply),
    # for items whose unit price is below ``exempt_below``.
    state_exempt_codes: frozenset[str] = frozenset()
    exempt_below: Decimal | None = None


@dataclass(frozen=True)
class ZipArea:
    county: str
    city: str
    county_rate: Decimal = NONE
    city_rate: Decimal = NONE
    special_rate: Decimal = NONE


@dataclass(frozen=True)
class Province:
    name: str
    gst: Decimal
    pst: Decimal = NONE
    qst: Decimal = NONE
    postal_letters: frozenset[str] = field(default_factory=frozenset)


CLOTHING = "20010"

US_STATES: dict[str, StateRule] = {
    "AL": StateRule("Alabama", D("0.04"), freight_taxable=False),
    "AK": StateRule("Alaska", D(0), freight_taxable=False),
    "AZ": StateRule("Arizona", D("0.056"), freight_taxable=False, origin_sourced=True),
    "AR": StateRule("Arkansas", D("0.065")),
    "CA": StateRule("California", D("0.0625"), freight_taxable=False),
    "CO": StateRule("Colorado", D("0.029"), freight_taxable=False),
    "CT": StateRule("Connecticut", D("0.0635")),
    "DE": StateRule("Delaware", D(0), freight_taxable=False),
    "DC": StateRule("District of Columbia", D("0.06")),
    "FL": StateRule("Florida", D("0.06"), freight_taxable=False),
    "GA": StateRule("Georgia", D("0.04")),
    "HI": StateRule("Hawaii", D("0.04")),
    "ID": StateRule("Idaho", D("0.06"), freight_taxable=False),
    "IL": StateRule("Illinois", D("0.0625"), freight_taxable=False, origin_sourced=True),
    "IN": StateRule("Indiana", D("0.07")),
    "IA": StateRule("Iowa", D("0.06"), freight_taxable=False),
    "KS": StateRule("Kansas", D("0.065")),
    "KY": StateRule("Kentucky", D("0.06")),
    "LA": StateRule("Louisiana", D("0.05"), freight_taxable=False),
    "ME": StateRule("Maine", D("0.055"), freight_taxable=False),
    "MD": StateRule("Maryland", D("0.06"), freight_taxable=False),
    "MA": StateRule("Massachusetts", D("0.0625"), freight_taxable=False),
    "MI": StateRule("Michigan", D("0.06")),
    "MN": StateRule("Minnesota", D("0.06875")),
    "MS": StateRule("Mississippi", D("0.07"), origin_sourced=True),
    "MO": StateRule("Missouri", D("0.04225"), freight_taxable=False, origin_sourced=True),
    "MT": StateRule("Montana", D(0), freight_taxable=False),
    "NE": StateRule("Nebraska", D("0.055")),
    "NV": StateRule("Nevada", D("0.0685"), freight_taxable=False),
    "NH": StateRule("New Hampshire", D(0), freight_taxable=False),
    "NJ": StateRule("New Jersey", D("0.06625")),
    "NM": StateRule("New Mexico", D("0.04875"), origin_sourced=True),
    "NY": StateRule(
        "New York",
        D("0.04"),
        state_exempt_codes=frozenset({CLOTHING}),
        exempt_below=D(110),
    ),
    "NC": StateRule("North Carolina", D("0.0475")),
    "ND": StateRule("North Dakota", D("0.05")),
    "OH": StateRule("Ohio", D("0.0575"), origin_sourced=True),
    "OK": StateRule("Oklahoma", D("0.045"), freight_taxable=False),
    "OR": StateRule("Oregon", D(0), freight_taxable=False),
    "PA": StateRule("Pennsylvania", D("0.06"), origin_sourced=True),
    "RI": StateRule("Rhode Island", D("0.07")),
    "SC": StateRule("South Carolina", D("0.06")),
    "SD": StateRule("South Dakota", D("0.042")),
    "TN": StateRule("Tennessee", D("0.07"), origin_sourced=True),
    "TX": StateRule("Texas", D("0.0625"), origin_sourced=True),
    "UT": StateRule("Utah", D("0.0485"), freight_taxable=False, origin_sourced=True),
    "VT": StateRule("Vermont", D("0.06")),
    "VA": StateRule("Virginia", D("0.053"), freight_taxable=False, origin_sourced=True),
    "WA": StateRule("Washington", D("0.065")),
    "WV": StateRule("West Virginia", D("0.06")),
    "WI": StateRule("Wisconsin", D("0.05")),
    "WY": StateRule("Wyoming", D("0.04"), freight_taxable=False),
    "PR": StateRule("Puerto Rico", D(0), freight_taxable=False),
}

# Local shares of the ZIP codes the sandbox knows; any other ZIP of a state gets the state
# share alone.
ZIP_AREAS: dict[str, ZipArea] = {
    "90002": ZipArea(
        "LOS ANGELES", "LOS ANGELES", county_rate=D("0.0025"), special_rate=D("0.025")
    ),
    "92093": ZipArea("SAN DIEGO", "LA JOLLA", county_rate=D("0.0025"), special_rate=D("0.0075")),
    "10541": ZipArea("PUTNAM", "MAHOPAC", county_rate=D("0.04"), special_rate=D("0.00375")),
    "10001": ZipArea("NEW YORK", "NEW YORK", city_rate=D("0.045"), special_rate=D("0.00375")),
    "01608": ZipArea("WORCESTER", "WORCESTER"),
    "02110": ZipArea("SUFFOLK", "BOSTON"),
    "78701": ZipArea("TRAVIS", "AUSTIN", city_rate=D("0.01"), special_rate=D("0.01")),
    "77058": ZipArea("HARRIS", "HOUSTON", city_rate=D("0.01"), special_rate=D("0.01")),
    "97035": ZipArea("CLACKAMAS", "LAKE OSWEGO"),
    "33018": ZipArea("MIAMI-DADE", "HIALEAH", county_rate=D("0.01")),
    "62701": ZipArea("SANGAMON", "SPRINGFIELD", county_rate=D("0.01"), city_rate=D("0.0225")),
    "98101": ZipArea("KING", "SEATTLE", city_rate=D("0.0385")),
}

# Which state each three-digit ZIP prefix belongs to (inclusive ranges, USPS allocation).
ZIP_PREFIXES: tuple[tuple[int, int, str], ...] = (
    (5, 5, "NY"), (6, 7, "PR"), (9, 9, "PR"),
    (10, 27, "MA"), (28, 29, "RI"), (30, 38, "NH"), (39, 49, "ME"), (50, 54, "VT"),
    (55, 55, "MA"), (56, 59, "VT"), (60, 69, "CT"), (70, 89, "NJ"), (100, 149, "NY"),
    (150, 196, "PA"), (197, 199, "DE"), (200, 200, "DC"), (201, 201, "VA"), (202, 205, "DC"),
    (206, 219, "MD"), (220, 246, "VA"), (247, 268, "WV"), (270, 289, "NC"), (290, 299, "SC"),
    (300, 319, "GA"), (320, 349, "FL"), (350, 369, "AL"), (370, 385, "TN"), (386, 397, "MS"),
    (398, 399, "GA"), (400, 427, "KY"), (430, 459, "OH"), (460, 479, "IN"), (480, 499, "MI"),
    (500, 528, "IA"), (530, 549, "WI"), (550, 567, "MN"), (569, 569, "DC"), (570, 577, "SD"),
    (580, 588, "ND"), (590, 599, "MT"), (600, 629, "IL"), (630, 658, "MO"), (660, 679, "KS"),
    (680, 693, "NE"), (700, 714, "LA"), (716, 729, "AR"), (730, 749, "OK"), (750, 799, "TX"),
    (800, 816, "CO"), (820, 831, "WY"), (832, 838, "ID"), (840, 847, "UT"), (850, 865, "AZ"),
    (870, 884, "NM"), (885, 885, "TX"), (889, 898, "NV"), (900, 961, "CA"), (967, 968, "HI"),
    (970, 979, "OR"), (980, 994, "WA"), (995, 999, "AK"),
)  # fmt: skip

CA_PROVINCES: dict[str, Province] = {
    "AB": Province("Alberta", D("0.05"), postal_letters=frozenset("T")),
    "BC": Province("British Columbia", D("0.05"), pst=D("0.07"), postal_letters=frozenset("V")),
    "MB": Province("Manitoba", D("0.05"), pst=D("0.07"), postal_letters=frozenset("R")),
    "NB": Province("New Brunswick", D("0.05"), pst=D("0.10"), postal_letters=frozenset("E")),
    "NL": Province(
        "Newfoundland and Labrador", D("0.05"), pst=D("0.10"), postal_letters=frozenset("A")
    ),
    "NS": Province("Nova Scotia", D("0.05"), pst=D("0.10"), postal_letters=frozenset("B")),
    "NT": Province("Northwest Territories", D("0.05"), postal_letters=frozenset("X")),
    "NU": Province("Nunavut", D("0.05"), postal_letters=frozenset("X")),
    # Ontario's HST is reported as its federal 5 % and provincial 8 % parts, as TaxJar does.
    "ON": Province("Ontario", D("0.05"), pst=D("0.08"), postal_letters=frozenset("KLMNP")),
    "PE": Province("Prince Edward Island", D("0.05"), pst=D("0.10"), postal_letters=frozenset("C")),
    "QC": Province("Quebec", D("0.05"), qst=D("0.09975"), postal_letters=frozenset("GHJ")),
    "SK": Province("Saskatchewan", D("0.05"), pst=D("0.06"), postal_letters=frozenset("S")),
    "YT": Province("Yukon", D("0.05"), postal_letters=frozenset("Y")),
}

COUNTRY_NAMES = {"US": "United States", "CA": "Canada"}

US_ZIP = re.compile(r"^(\d{5})(-\d{4})?$")
CA_POSTAL = re.compile(r"^([A-Z])\d[A-Z] ?\d[A-Z]\d$")


def state_of_zip(zip5: str) -> str | None:
    prefix = int(zip5[:3])
    for low, high, state in ZIP_PREFIXES:
        if low <= prefix <= high:
            return state
    return None


def region_name(country: str, region: str) -> str | None:
    if country == "US" and region in US_STATES:
        return US_STATES[region].name
    if country == "CA" and region in CA_PROVINCES:
        return CA_PROVINCES[region].name
    return None


def address_problem(prefix: str, country: str, zip_code: str, state: str) -> str | None:
    """Why TaxJar would refuse this postal code in this state, or None. ``prefix`` is
    ``to`` or ``from``, as in the parameter names the message quotes."""
    if country == "US":
        match = US_ZIP.match(zip_code)
        if match is None:
            return f"{prefix}_zip {zip_code} isn't a valid postal code for US"
        if state not in US_STATES or state_of_zip(match.group(1)) != state:
            return f"{prefix}_zip {zip_code} is not used within {prefix}_state {state}"
    elif country == "CA":
        match = CA_POSTAL.match(zip_code.upper())
        if match is None:
            return f"{prefix}_zip {zip_code} isn't a valid postal code for CA"
        province = CA_PROVINCES.get(state)
        if province is None or match.group(1) not in province.postal_letters:
            return f"{prefix}_zip {zip_code} is not used within {prefix}_state {state}"
    return None
