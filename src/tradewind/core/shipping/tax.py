"""Tax of record: an order's tax written with its lines and totals in one go, committed as
a sale once it ships, and a received return of a committed sale refunding its units' tax
once. No network: the tax plugins do the talking."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.core.returns.models import Return, ReturnStatus
from tradewind.core.shipping.models import (
    OrderTax,
    TaxRefund,
)
from tradewind.core.shipping.schemas import TaxIn
from tradewind.core.shipping.service import CENT
from tradewind.db import utcnow
from tradewind.errors import Conflict, Invalid
from tradewind.events import OrderUpdated, record


def record_tax(session: Session, order_id: int, plugin_id: int, data: TaxIn) -> OrderTax:
    """The tax computed for an order: its total, each line's, and the order's totals."""
    order = orders.get_order(session, order_id)
    found = session.scalar(select(OrderTax).where(OrderTax.order_id == order.id))
    if found is not None and found.committed_at is not None:
        raise Conflict(f"the tax of order {order.number} is committed; it no longer changes")
    lines = {line.id: line for line in order.lines}
    unknown = sorted(set(data.lines) - set(lines))
    if unknown:
        raise Invalid(f"lines {unknown} are not lines of order {order.number}")
    for line_id, line in lines.items():
        line.tax_amount = data.lines.get(line_id, Decimal("0"))
    tax = found or OrderTax(order_id=order.id, plugin_id=plugin_id, amount=data.amount)
    tax.plugin_id, tax.amount = plugin_id, data.amount
    tax.shipping_tax, tax.rate, tax.computed_at = data.shipping_tax, data.rate, utcnow()
    _retotal(order, data.amount)
    session.add(tax)
    orders.add_activity(
        session, order, "tax", f"Tax {data.amount} {order.currency} computed (rate {data.rate})."
    )
    session.flush()
    record(session, OrderUpdated(order_id=order.id))  # its totals moved
    return tax


def _retotal(order: Order, tax: Decimal) -> None:
    order.total = order.total - order.tax_total + tax
    order.tax_total = tax


def commit_tax(
    session: Session, order_id: int, external_id: str, plugin_id: int | None = None
) -> OrderTax:
    """The order's tax recorded as a sale (``external_id``) with ``plugin_id``'s service."""
    tax = tax_of(session, order_id)
    if tax is None:
        raise Invalid(f"order {order_id} has no computed tax to commit")
    tax.committed_at = tax.committed_at or utcnow()
    tax.external_id = external_id
    tax.committed_plugin_id = plugin_id
    session.flush()
    return tax


@dataclass(frozen=True)
class RefundLine:
    order_line_id: int
    sku: str
    quantity: int  # returned
    unit_price: Decimal
    tax: Decimal  # the returned units' part of the line's tax


@dataclass(frozen=True)
class RefundDue:
    """What a received return gives back of its order's committed tax."""

    order_id: int
    return_id: int
    sale: str  # the committed sale's transaction id
    plugin_id: int | None  # the plugin the sale was committed with
    lines: tuple[RefundLine, ...]

    @property
    def amount(self) -> Decimal:
        return sum((line.tax for line in self.lines), Decimal("0"))


def refund_due(session: Session, return_id: int) -> RefundDue | None:
    """The tax a received return refunds: each returned unit's share of its line's tax,
    to the cent. None when there is nothing to refund: the return is not received, its
    order's tax was never committed as a sale, or the refund is recorded already."""
    found = session.get(Return, return_id)
    if found is None or found.status is ReturnStatus.REQUESTED:
        return None
    tax = tax_of(session, found.order_id)
    if tax is None or tax.committed_at is None:
        return None
    if session.scalar(select(TaxRefund.id).where(TaxRefund.return_id == return_id)):
        return None
    lines = {line.id: line for line in orders.get_order(session, found.order_id).lines}
    refunded = []
    for item in found.lines:
        line = lines[item.order_line_id]
        share = line.tax_amount * item.quantity / line.quantity if line.quantity else 0
        refunded.append(
            RefundLine(
                order_line_id=line.id,
                sku=line.sku,
                quantity=item.quantity,
                unit_price=line.unit_price,
                tax=Decimal(share).quantize(CENT, rounding=ROUND_HALF_UP),
            )
        )
    return RefundDue(
        order_id=found.order_id,
        return_id=found.id,
        sale=tax.external_id,
        plugin_id=tax.committed_plugin_id,
        lines=tuple(refunded),
    )


def record_tax_refund(
    session: Session, due: RefundDue, plugin_id: int, external_id: str
) -> TaxRefund:
    """The service recorded the refund ``due``: kept once per return, added to the
    order's refunded tax, and said on its timeline."""
    tax = tax_of(session, due.order_id)
    if tax is None:
        raise Invalid(f"order {due.order_id} has no tax to refund")
    refund = TaxRefund(
        order_id=due.order_id,
        return_id=due.return_id,
        plugin_id=plugin_id,
        amount=due.amount,
        external_id=external_id,
    )
    try:
        with session.begin_nested():
            session.add(refund)
            session.flush()
    except IntegrityError:
        raise Conflict(f"the tax of return #{due.return_id} is refunded already") from None
    tax.refunded = tax.refunded + due.amount
    order = orders.get_order(session, due.order_id)
    orders.add_activity(
        session,
        order,
        "tax_refunded",
        f"Tax {due.amount} {order.currency} of return #{due.return_id} refunded "
        f"(refund {external_id} of sale {due.sale}).",
    )
    session.flush()
    return refund


def tax_refunds(session: Session, order_id: int) -> list[TaxRefund]:
    return list(
        session.scalars(
            select(TaxRefund).where(TaxRefund.order_id == order_id).order_by(TaxRefund.id)
        )
    )


def tax_of(session: Session, order_id: int) -> OrderTax | None:
    return session.scalar(select(OrderTax).where(OrderTax.order_id == order_id))
