"""A template hook bound to a store event: the subject (an order with its lines, a
shipment, a product, a customer) is read as it is now and handed to the hook as
``input``, ``{"event": …, "<subject>": {…}}``; the hook's calls are the plugin's
executions, and its failures meet the same policy as any work. A subject deleted
since has nothing to send."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from tradewind.connectors.base import RunsHooks
from tradewind.connectors.ratelimit import Priority
from tradewind.core.catalog.models import Product
from tradewind.core.customers.models import Customer
from tradewind.core.orders.models import Order
from tradewind.core.shipments.models import Shipment
from tradewind.sync.batch import Job
from tradewind.sync.handlers.base import Single

SUBJECTS: dict[str, type[Any]] = {
    "order": Order,
    "shipment": Shipment,
    "product": Product,
    "customer": Customer,
}


class RunHook(Single[None]):
    def fetch(self, job: Job) -> None:
        payload = dict(job.row.payload)
        connector = job.capability(RunsHooks)
        subject = str(payload["subject"])
        with job.hub.db.read() as session:
            found = subject_json(session, subject, int(payload["id"]))
        if found is None:
            return
        connector.run_hook(
            str(payload["hook"]),
            {"event": payload["event"], subject: found},
            priority=Priority.BACKGROUND,
        )


def subject_json(session: Session, subject: str, subject_id: int) -> dict[str, Any] | None:
    """A core record as JSON: its columns (money as decimal strings, times in ISO 8601),
    an order with its lines."""
    row = session.get(SUBJECTS[subject], subject_id)
    if row is None:
        return None
    shown = _columns(row)
    if isinstance(row, Order):
        shown["lines"] = [_columns(line) for line in row.lines]
    return shown


def _columns(row: Any) -> dict[str, Any]:
    return {
        column.key: _json(getattr(row, column.key)) for column in inspect(row).mapper.column_attrs
    }


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value
