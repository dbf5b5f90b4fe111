"""What an order needs a person for (seed 001): lines whose product is missing and buyer
data an order cannot ship without. Each is a notification that resolves by itself once
the product exists or the data is complete."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradewind.core.customers.schemas import Address
from tradewind.core.orders.models import Order, OrderLine, OrderSource, OrderStatus
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind


def missing_customer_fields(order: Order) -> list[str]:
    shipping = order.shipping_address
    return missing_fields(
        has_customer=order.customer_id is not None,
        source=order.source,
        shipping=Address.model_validate(shipping) if shipping is not None else None,
    )


def missing_fields(
    *, has_customer: bool, source: OrderSource, shipping: Address | None
) -> list[str]:
    """The buyer data an order lacks to ship (also asked of an order not made, by shadow)."""
    missing: list[str] = []
    if not has_customer:
        missing.append("email")
    if source is not OrderSource.POS:
        if shipping is None:
            missing.append("shipping_address")
        else:
            missing += [f"shipping_address.{field}" for field in shipping.missing_for_shipping()]
    return missing


def refresh_notifications(session: Session, order: Order, *, new: bool) -> None:
    """Missing products and customer fields are problems a person must see (seed 001).
    A new order has nothing to resolve: only its own problems are raised (imports of
    thousands of orders skip the queries for matched lines). What still waits is counted
    in one grouped query per order, never one per line."""
    concerned: dict[str, OrderLine] = {}
    for line in order.lines:
        if (line.sku_key or line.barcode) and not (new and line.product_id is not None):
            concerned.setdefault(f"SKU {line.sku or line.barcode}", line)
    waiting = open_unmatched(session, order.plugin_id, concerned.values())
    cleared: list[str] = []
    for subject, line in concerned.items():
        still_missing = waiting.get(code_of(line), 0)
        if not still_missing:  # matched, or its last waiting order was cancelled or closed
            cleared.append(subject)
            continue
        notifications.raise_notification(
            session,
            NotificationKind.MISSING_PRODUCT,
            plugin_id=order.plugin_id,
            subject=subject,
            message=(
                f"Order {order.number} has a line with {subject} that matches no product "
                f"({still_missing} open line(s) wait for it). The order is kept and "
                "reserves nothing for that line. Import or create the product, or map the "
                "SKU; the waiting orders are re-processed by themselves."
            ),
        )
    notifications.resolve_subjects(
        session, NotificationKind.MISSING_PRODUCT, plugin_id=order.plugin_id, subjects=cleared
    )
    subject = f"order {order.number}"
    if order.missing_customer_fields and order.status is OrderStatus.OPEN:
        notifications.raise_notification(
            session,
            NotificationKind.MISSING_CUSTOMER_FIELDS,
            plugin_id=order.plugin_id,
            subject=subject,
            message=(
                f"Order {order.number} is missing buyer data: "
                f"{', '.join(order.missing_customer_fields)}. The order is kept; complete the "
                "customer or the address to ship it."
            ),
        )
    elif not new:
        notifications.resolve(
            session,
            NotificationKind.MISSING_CUSTOMER_FIELDS,
            plugin_id=order.plugin_id,
            subject=subject,
        )


def code_of(line: OrderLine) -> tuple[str, str]:
    """What identifies the product a line waits for: its SKU, else its barcode."""
    return ("sku", line.sku_key) if line.sku_key else ("barcode", line.barcode)


def open_unmatched(
    session: Session, plugin_id: int | None, lines: Iterable[OrderLine]
) -> dict[tuple[str, str], int]:
    """How many unmatched lines of open orders of ``plugin_id`` (None: manual orders)
    carry each SKU or barcode of ``lines``."""
    codes = {code_of(line) for line in lines}
    waiting: dict[tuple[str, str], int] = {}
    for kind, column in (("sku", OrderLine.sku_key), ("barcode", OrderLine.barcode)):
        values = sorted(value for code, value in codes if code == kind)
        if not values:
            continue
        rows = session.execute(
            select(column, func.count())
            .join(Order)
            .where(
                OrderLine.product_id.is_(None),
                column.in_(values),
                Order.status == OrderStatus.OPEN,
                Order.plugin_id.is_(None) if plugin_id is None else Order.plugin_id == plugin_id,
            )
            .group_by(column)
        )
        waiting.update({(kind, value): count for value, count in rows})
    return waiting
