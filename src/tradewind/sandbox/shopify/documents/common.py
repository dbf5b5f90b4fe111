"""What every document builder shares: money as two-decimal strings and ``*_set`` bags,
global ids, timestamps in the shop's time zone, tags, handles and cursors.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tradewind.sandbox.shopify.state import Doc, ShopSettings

CENT = Decimal("0.01")


COUNTRIES: dict[str, str] = {
    "US": "United States",
    "CA": "Canada",
    "GB": "United Kingdom",
    "DE": "Germany",
    "FR": "France",
    "NL": "Netherlands",
    "AU": "Australia",
}


def dec(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    return Decimal(str(value))


def money(value: Any) -> str:
    return str(dec(value).quantize(CENT, rounding=ROUND_HALF_UP))


def money_set(value: Any, currency: str) -> Doc:
    amount = money(value)
    return {
        "shop_money": {"amount": amount, "currency_code": currency},
        "presentment_money": {"amount": amount, "currency_code": currency},
    }


def gid(kind: str, ident: int | str) -> str:
    return f"gid://shopify/{kind}/{ident}"


def stamp(settings: ShopSettings, moment: datetime | None = None) -> str:
    """Shopify's timestamp: ISO 8601 in the shop's zone, with its offset, to the second."""
    when = moment or datetime.now(UTC)
    return when.astimezone(ZoneInfo(settings.iana_timezone)).isoformat(timespec="seconds")


def token_hex(seed: str) -> str:
    return hashlib.md5(seed.encode(), usedforsecurity=False).hexdigest()


def handleize(title: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "-" for c in title)
    return "-".join(part for part in out.split("-") if part)


def country_name(code: str | None) -> str | None:
    return COUNTRIES.get(code or "", code)


def normalise_tags(tags: Any) -> str:
    if tags is None:
        return ""
    items = tags if isinstance(tags, list) else str(tags).split(",")
    return ", ".join(sorted({str(t).strip() for t in items if str(t).strip()}))


def page_cursor(payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def read_cursor(cursor: str) -> str:
    padded = cursor + "=" * (-len(cursor) % 4)
    return base64.urlsafe_b64decode(padded.encode()).decode()
