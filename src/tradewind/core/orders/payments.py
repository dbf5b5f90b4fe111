"""Payments recorded in Tradewind: an order imported unpaid (under *Ignore financial
status*, or made here) is paid outside the platform — cash on delivery, a bank transfer —
and the merchant records it. The payments move the order's financial status (partially
paid, then paid); a later copy of the order from the platform that still says pending
does not undo them."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradewind.core.orders import service as orders
from tradewind.core.orders.models import OrderPayment
from tradewind.errors import Conflict, Invalid
from tradewind.events import OrderUpdated, record
from tradewind.vocabulary import FinancialStatus, OrderStatus

# What a payment recorded here can move an order from.
PAYABLE = frozenset(
    {FinancialStatus.PENDING, FinancialStatus.AUTHORIZED, FinancialStatus.PARTIALLY_PAID}
)


class PaymentIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=4)
    currency: str | None = Field(
        default=None, pattern=r"^[A-Z]{3}$", description="The order's when left out."
    )
    method: str = Field(default="", max_length=40, description="cash, bank transfer, …")
    reference: str = Field(default="", max_length=128, description="e.g. the transfer's id")


def paid_here(session: Session, order_id: int) -> Decimal:
    total = session.scalar(
        select(func.coalesce(func.sum(OrderPayment.amount), 0)).where(
            OrderPayment.order_id == order_id
        )
    )
    return Decimal(str(total or 0))


def payments_of(session: Session, order_id: int) -> list[OrderPayment]:
    return list(
        session.scalars(
            select(OrderPayment).where(OrderPayment.order_id == order_id).order_by(OrderPayment.id)
        )
    )


def record_payment(session: Session, order_id: int, data: PaymentIn, by: str) -> OrderPayment:
    """Record a payment of the order; it becomes paid once the payments reach its total."""
    order = orders.lock_order(session, order_id)
    if order.status is OrderStatus.CANCELLED:
        raise Invalid(f"order {order.number} is cancelled; nothing is to be paid")
    if order.financial_status not in PAYABLE:
        raise Conflict(
            f"order {order.number} is {order.financial_status.value.replace('_', ' ')}; "
            "a payment is recorded only for an unpaid or partly paid order"
        )
    currency = data.currency or order.currency
    if currency != order.currency:
        raise Invalid(
            f"order {order.number} is in {order.currency}, not {currency}",
            fields={"currency": f"must be {order.currency}"},
        )
    paid = paid_here(session, order.id) + data.amount
    if paid > order.total:
        left = order.total - (paid - data.amount)
        raise Invalid(
            f"order {order.number} has {left:.2f} {order.currency} left to pay, "
            f"not {data.amount:.2f}",
            fields={"amount": f"at most {left:.2f}"},
        )
    payment = OrderPayment(
        order_id=order.id,
        amount=data.amount,
        currency=currency,
        method=data.method,
        reference=data.reference,
        recorded_by=by[:150],
    )
    session.add(payment)
    order.financial_status = (
        FinancialStatus.PAID if paid >= order.total else FinancialStatus.PARTIALLY_PAID
    )
    how = ", ".join(part for part in (data.method, data.reference) if part)
    orders.add_activity(
        session,
        order,
        "payment",
        f"Payment of {data.amount:.2f} {currency} recorded{f' ({how})' if how else ''} by "
        f"{by}; the order is now {order.financial_status.value.replace('_', ' ')}.",
    )
    session.flush()
    record(session, OrderUpdated(order_id=order.id))
    return payment
