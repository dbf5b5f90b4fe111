"""The order list's use cases the faces share: actions on many selected orders (cancel,
retry export, re-run matching), each through the function the single order's action
uses, and the CSV export of a filtered list, streamed in keyset batches."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from tradewind.core.catalog import service as catalog
from tradewind.core.orders import listing
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order, OrderSource, OrderStatus
from tradewind.hub import Hub
from tradewind.sync import triggers

MAX_SELECTED = 500  # orders one bulk action takes


@dataclass
class BulkOutcome:
    """What a bulk action did: the orders it changed, and each it left with why."""

    action: str
    done: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def message(self) -> str:
        said = f"{self.action}: {len(self.done)} order(s)"
        if self.done:
            said += f" ({', '.join(self.done[:10])}{'…' if len(self.done) > 10 else ''})"
        if self.skipped:
            reasons = "; ".join(f"{number}: {why}" for number, why in self.skipped[:10])
            said += f". Left {len(self.skipped)}: {reasons}"
        return said + "."


def _each(
    hub: Hub,
    order_ids: Sequence[int],
    action: str,
    act: Callable[[Session, Order], str | None],
) -> BulkOutcome:
    """``act`` on each order in one transaction; it returns why it left one, or None."""
    outcome = BulkOutcome(action)
    wanted = sorted(set(order_ids))[:MAX_SELECTED]
    with hub.db.unit_of_work() as session:
        found = listing.find(
            session, listing.OrderFilter(ids=tuple(wanted)), limit=len(wanted) or 1
        )
        for row in sorted(found, key=lambda row: row.order.id):
            why = act(session, row.order)
            if why is None:
                outcome.done.append(row.order.number)
            else:
                outcome.skipped.append((row.order.number, why))
    return outcome


def cancel(hub: Hub, order_ids: Sequence[int], reason: str = "") -> BulkOutcome:
    """Cancel each open order (its stock released, its platform told as its rules say),
    as Cancel order on its page does."""

    def act(session: Session, order: Order) -> str | None:
        if order.status is not OrderStatus.OPEN:
            return f"already {order.status.value}"
        orders.cancel_order(session, order.id, reason)
        return None

    return _each(hub, order_ids, "Cancelled", act)


def retry_export(hub: Hub, order_ids: Sequence[int]) -> BulkOutcome:
    """Queue again the creation on its platform of each order made here and not yet
    there (Export Orders), as creating it did."""

    def act(session: Session, order: Order) -> str | None:
        if order.plugin_id is not None and order.exported_at is None:
            return "imported from a platform"
        if order.source is not OrderSource.MANUAL:
            return "not made in Tradewind"
        if order.exported_at is not None:
            return "already on its platform"
        if order.status is OrderStatus.CANCELLED:
            return "cancelled"
        if triggers.enqueue_export(session, order) is None:
            return "no single plugin of its channel has Export Orders on"
        return None

    return _each(hub, order_ids, "Export queued", act)


def rematch(hub: Hub, order_ids: Sequence[int]) -> BulkOutcome:
    """Match each open order's unmatched lines to the catalog by SKU or barcode, as a
    product created with that SKU does (``orders.rematch_lines``: stock reserved, the
    *missing product* flag cleared when nothing is left)."""

    def act(session: Session, order: Order) -> str | None:
        if order.status is not OrderStatus.OPEN:
            return f"{order.status.value}"
        waiting = [
            line for line in orders.get_order(session, order.id).lines if not line.product_id
        ]
        if not waiting:
            return "every line is matched"
        found = catalog.match_products(session, [(line.sku, line.barcode) for line in waiting])
        products = {product.id for product in found if product is not None}
        if not products:
            return "no product has its SKUs or barcodes yet"
        orders.rematch_lines(session, products)
        return None

    return _each(hub, order_ids, "Matched again", act)


class BulkAction(StrEnum):
    """The actions on many selected orders, as the API's path and the CLI name them."""

    CANCEL = "cancel"
    RETRY_EXPORT = "retry-export"
    REMATCH = "rematch"


def bulk(hub: Hub, action: BulkAction, order_ids: Sequence[int], reason: str = "") -> BulkOutcome:
    """``action`` on the orders (``reason``: why they are cancelled, for cancel only)."""
    if action is BulkAction.CANCEL:
        return cancel(hub, order_ids, reason)
    if action is BulkAction.RETRY_EXPORT:
        return retry_export(hub, order_ids)
    return rematch(hub, order_ids)


CSV_HEADER = (
    "id",
    "number",
    "placed_at_utc",
    "placed_at_local",
    "channel_id",
    "plugin_id",
    "status",
    "financial_status",
    "fulfillment_status",
    "customer",
    "email",
    "currency",
    "subtotal",
    "shipping_total",
    "tax_total",
    "discount_total",
    "total",
    "missing_product",
    "missing_customer_fields",
)


def _csv_row(row: Any, zone: dt.tzinfo) -> tuple[object, ...]:
    (id_, number, placed_at, channel_id, plugin_id, status, financial, fulfilment, email,
     currency, subtotal, shipping, tax, discount, total, missing_product, missing_fields,
     customer_name, _sort) = row  # fmt: skip
    return (
        id_,
        number,
        placed_at.astimezone(dt.UTC).isoformat(),
        placed_at.astimezone(zone).isoformat(),
        channel_id,
        plugin_id or "",
        status,
        financial,
        fulfilment,
        customer_name or "",
        email,
        currency,
        subtotal,
        shipping,
        tax,
        discount,
        total,
        "yes" if missing_product else "",
        " ".join(json.loads(missing_fields)) if missing_fields not in (None, "[]") else "",
    )


def export_csv(
    hub: Hub,
    flt: listing.OrderFilter,
    sort: listing.Sort | None = None,
    *,
    zone: dt.tzinfo = dt.UTC,
    batch: int = 2000,
) -> Iterator[str]:
    """The filtered list as CSV, every page of it: the header, then one chunk of text per
    keyset batch. Each batch is its own short read (a streamed answer is iterated from
    worker threads, and a long export must not hold the database); the keyset goes on
    from the last row sent, so nothing is repeated or skipped."""
    sort = sort or listing.Sort()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    yield buffer.getvalue()
    after: listing.After | None = None
    while True:
        with hub.db.read() as session:
            rows, following = listing.export_rows(session, flt, sort, limit=batch, after=after)
        if not rows:
            return
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(_csv_row(row, zone) for row in rows)
        yield buffer.getvalue()
        if following is None:
            return
        after = following
