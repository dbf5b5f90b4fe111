"""Reading request parameters as TaxJar does: numbers may arrive as JSON numbers or as
numeric strings, and a missing required parameter is a 406, a malformed one a 400."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from tradewind.sandbox.taxjar.errors import ApiError, missing

Body = dict[str, Any]


def number(body: Body, name: str, *, required: bool = False) -> Decimal | None:
    value = body.get(name)
    if value is None:
        if required:
            raise missing(name)
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ApiError(400, f"{name} must be a number")
    try:
        parsed = Decimal(str(value))
    except InvalidOperation:
        raise ApiError(400, f"{name} must be a number") from None
    if not parsed.is_finite():
        raise ApiError(400, f"{name} must be a number")
    return parsed


def text(body: Body, name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise missing(name)
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ApiError(400, f"{name} must be a string")
    return str(value).strip()


def required_number(body: Body, name: str) -> Decimal:
    value = number(body, name, required=True)
    if value is None:
        raise missing(name)
    return value


def required_text(body: Body, name: str) -> str:
    value = text(body, name, required=True)
    if value is None:
        raise missing(name)
    return value


def items(body: Body, name: str) -> list[Body] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ApiError(400, f"{name} must be a list of objects")
    return value


def json_number(value: Decimal) -> int | float:
    """A JSON number as TaxJar writes one in a calculation: ``15`` when whole, ``16.5``."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def money_string(value: Decimal | None) -> str | None:
    """Money as TaxJar writes it in a transaction: ``"16.5"``, ``"15.0"``, ``"-0.95"``."""
    if value is None:
        return None
    shown = format(value.normalize(), "f")
    if "." not in shown:
        shown += ".0"
    return shown
