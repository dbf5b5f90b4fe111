"""Order and refund transactions: reading a create or update body as TaxJar validates it,
and writing a transaction back in TaxJar's shape (money as strings, the city upper-cased,
the date as ``2015-05-14T00:00:00Z``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from tradewind.sandbox.taxjar.errors import ApiError, missing
from tradewind.sandbox.taxjar.params import (
    Body,
    items,
    money_string,
    number,
    required_text,
    text,
)

Kind = Literal["order", "refund"]
TRANSACTION_ID = re.compile(r"^[A-Za-z0-9_-]+$")
DATE_FORMATS = ("%Y/%m/%d", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%z")
FROM_FIELDS = ("from_country", "from_zip", "from_state", "from_city", "from_street")
TO_FIELDS = ("to_country", "to_zip", "to_state", "to_city", "to_street")
MONEY_FIELDS = ("amount", "shipping", "sales_tax")
OPTIONAL_TEXT = ("customer_id", "exemption_type")


@dataclass(frozen=True)
class Transaction:
    kind: Kind
    transaction_id: str
    transaction_date: datetime
    provider: str = "api"
    reference_id: str | None = None
    addresses: dict[str, str | None] = field(default_factory=dict)
    money: dict[str, Decimal | None] = field(default_factory=dict)
    extra: dict[str, str | None] = field(default_factory=dict)
    line_items: tuple[dict[str, Any], ...] = ()


def parse_date(value: str) -> datetime:
    for pattern in DATE_FORMATS:
        try:
            parsed = datetime.strptime(value, pattern)
        except ValueError:
            continue
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise ApiError(400, f"transaction_date {value} is not a valid date")


def parse_day(name: str, value: str) -> date:
    try:
        return parse_date(value).date()
    except ApiError:
        raise ApiError(400, f"{name} {value} is not a valid date") from None


def read_create(kind: Kind, body: Body) -> Transaction:
    transaction_id = required_text(body, "transaction_id")
    if not TRANSACTION_ID.match(transaction_id):
        raise ApiError(
            400, "transaction_id may contain only letters, digits, underscores and dashes"
        )
    when = required_text(body, "transaction_date")
    reference = text(body, "transaction_reference_id", required=kind == "refund")
    country = text(body, "to_country", required=True)
    us = (country or "").upper() == "US"
    text(body, "to_zip", required=us)
    text(body, "to_state", required=us)
    for name in MONEY_FIELDS:
        number(body, name, required=True)
    base = Transaction(
        kind=kind,
        transaction_id=transaction_id,
        transaction_date=parse_date(when),
        provider=text(body, "provider") or "api",
        reference_id=reference,
    )
    return read_update(base, body)


def read_update(current: Transaction, body: Body) -> Transaction:
    """``current`` with the fields ``body`` sends; line items are replaced as a whole."""
    sent_id = text(body, "transaction_id")
    if sent_id is not None and sent_id != current.transaction_id:
        raise ApiError(400, "transaction_id does not match the transaction in the URL")
    when = text(body, "transaction_date")
    reference = text(body, "transaction_reference_id")
    addresses = dict(current.addresses)
    for name in (*FROM_FIELDS, *TO_FIELDS):
        if name in body:
            addresses[name] = text(body, name)
    money = dict(current.money)
    for name in MONEY_FIELDS:
        if name in body:
            money[name] = number(body, name)
    extra = dict(current.extra)
    for name in OPTIONAL_TEXT:
        if name in body:
            extra[name] = text(body, name)
    lines = items(body, "line_items")
    return replace(
        current,
        transaction_date=parse_date(when) if when else current.transaction_date,
        reference_id=reference or current.reference_id,
        addresses=addresses,
        money=money,
        extra=extra,
        line_items=current.line_items if lines is None else tuple(read_lines(lines)),
    )


def read_lines(lines: list[Body]) -> list[dict[str, Any]]:
    shown: list[dict[str, Any]] = []
    for index, line in enumerate(lines, 1):
        if line.get("sales_tax") is None:
            raise missing(f"line_items[{index - 1}][sales_tax]")
        quantity = number(line, "quantity")
        quantity = Decimal(1) if quantity is None else quantity
        item: dict[str, Any] = {
            "id": text(line, "id") or str(index),
            "quantity": int(quantity),
            "product_identifier": text(line, "product_identifier"),
            "description": text(line, "description"),
            "unit_price": money_string(number(line, "unit_price") or Decimal(0)),
            "discount": money_string(number(line, "discount") or Decimal(0)),
            "sales_tax": money_string(number(line, "sales_tax")),
        }
        code = text(line, "product_tax_code")
        if code is not None:
            item["product_tax_code"] = code
        shown.append(item)
    return shown


def render(transaction: Transaction, user_id: int) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "transaction_id": transaction.transaction_id,
        "user_id": user_id,
        "transaction_date": transaction.transaction_date.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if transaction.kind == "refund":
        shown["transaction_reference_id"] = transaction.reference_id
    shown["provider"] = transaction.provider
    addresses = transaction.addresses
    if any(addresses.get(name) for name in FROM_FIELDS):
        shown |= {name: addresses.get(name) for name in FROM_FIELDS}
    shown |= {name: addresses.get(name) for name in TO_FIELDS}
    if shown["to_city"]:
        shown["to_city"] = shown["to_city"].upper()
    if shown.get("from_city"):
        shown["from_city"] = shown["from_city"].upper()
    shown |= {name: money_string(transaction.money.get(name)) for name in MONEY_FIELDS}
    shown |= {name: value for name, value in transaction.extra.items() if value is not None}
    shown["line_items"] = [dict(line) for line in transaction.line_items]
    return {transaction.kind: shown}


def render_deleted(transaction: Transaction, user_id: int) -> dict[str, Any]:
    """What TaxJar answers to a DELETE: the id and provider kept, every other field null."""
    shown: dict[str, Any] = {
        "transaction_id": transaction.transaction_id,
        "user_id": user_id,
        "transaction_date": None,
        "transaction_reference_id": None,
        "provider": transaction.provider,
    }
    shown |= dict.fromkeys((*FROM_FIELDS, *TO_FIELDS, *MONEY_FIELDS))
    shown["line_items"] = []
    return {transaction.kind: shown}
