"""Errors the core raises for input a person or a platform can send.

Each maps to one outcome at every boundary: the API answers a problem body with the
status below, the CLI prints one line and exits 2, the UI shows a form error.
"""

from __future__ import annotations

from collections.abc import Mapping


class TradewindError(Exception):
    """Base of the core's expected errors. ``str(error)`` is the one-line message."""

    status = 400
    title = "Bad request"

    def __init__(self, message: str, *, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})


class NotFound(TradewindError):
    status = 404
    title = "Not found"


class Invalid(TradewindError):
    """The input is malformed or breaks a rule (an adjustment below zero, a bad SKU)."""

    status = 422
    title = "Invalid input"


class Conflict(TradewindError):
    """The input is well formed but clashes with the current state (a duplicate SKU)."""

    status = 409
    title = "Conflict"
