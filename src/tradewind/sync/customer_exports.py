"""Export all customers (the database side): what a run would send, its pages of
customers, and what the platform answered written back as links and counts.

Export Customers sends a customer when it is made or changed here; a store being seeded
with the customer base that existed before needs every customer once. A customer the
store already has (same email) is linked, not created again and not overwritten; a
generic customer or one without an email is not sent (it could never be found again by
email). Each page is written with the links it made before the next is read, so a run
stopped anywhere resumes where it got to, and a customer created just before a crash is
found by email on the way back, not created twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from tradewind.connectors.records import CustomerRecord
from tradewind.core.customers.models import Customer
from tradewind.core.links import service as links
from tradewind.core.links.models import CustomerLink
from tradewind.db import utcnow
from tradewind.sync import exports
from tradewind.sync.models import BackfillState, CustomerExport

PAGE = 100

Outcome = Literal["created", "matched", "already_linked", "failed"]


@dataclass(frozen=True)
class Preview:
    """The dry run: how many customers a run would go through, and how many of them
    have no email and are skipped."""

    customers: int  # every customer but the generic ones
    no_email: int
    already_linked: int  # known to the store already: counted, nothing is sent

    @property
    def to_export(self) -> int:
        return self.customers - self.no_email

    def sentence(self) -> str:
        return (
            f"{self.to_export} customer(s) would be exported"
            f" ({self.already_linked} of them already linked to the store); "
            f"{self.no_email} have no email and are skipped."
        )


def preview(session: Session, plugin_id: int) -> Preview:
    named = select(func.count()).select_from(Customer).where(Customer.generic_key.is_(None))
    customers = int(session.scalar(named) or 0)
    no_email = int(session.scalar(named.where(Customer.email_key.is_(None))) or 0)
    linked = int(
        session.scalar(
            select(func.count())
            .select_from(CustomerLink)
            .join(Customer, Customer.id == CustomerLink.customer_id)
            .where(
                CustomerLink.plugin_id == plugin_id,
                Customer.generic_key.is_(None),
                Customer.email_key.is_not(None),
            )
        )
        or 0
    )
    return Preview(customers=customers, no_email=no_email, already_linked=linked)


def running(session: Session, plugin_id: int) -> CustomerExport | None:
    return session.scalar(
        select(CustomerExport).where(
            CustomerExport.plugin_id == plugin_id,
            CustomerExport.state == BackfillState.RUNNING,
        )
    )


def start(session: Session, plugin_id: int) -> tuple[CustomerExport, bool]:
    """The plugin's running export, or a new one counted now (and whether it is new)."""
    found = running(session, plugin_id)
    if found is not None:
        return found, False
    counted = preview(session, plugin_id)
    run = CustomerExport(plugin_id=plugin_id, total=counted.to_export, no_email=counted.no_email)
    session.add(run)
    session.flush()
    return run, True


@dataclass(frozen=True)
class Pending:
    """A customer of a page: as it would be sent, and whether the store knows it."""

    customer_id: int
    record: CustomerRecord
    linked: bool

    @property
    def email_key(self) -> str:
        return self.record.email.strip().casefold()


def next_page(session: Session, plugin_id: int, after: int, limit: int = PAGE) -> list[Pending]:
    """The next customers to go through, in id order after ``after``."""
    found = session.scalars(
        select(Customer)
        .options(selectinload(Customer.addresses))
        .where(
            Customer.id > after,
            Customer.generic_key.is_(None),
            Customer.email_key.is_not(None),
        )
        .order_by(Customer.id)
        .limit(limit)
    ).all()
    known = set(
        session.scalars(
            select(CustomerLink.customer_id).where(
                CustomerLink.plugin_id == plugin_id,
                CustomerLink.customer_id.in_([c.id for c in found]),
            )
        )
    )
    return [
        Pending(customer.id, exports.customer_record(customer), customer.id in known)
        for customer in found
    ]


@dataclass(frozen=True)
class Done:
    """What became of one customer of a page."""

    pending: Pending
    outcome: Outcome
    answer: CustomerRecord | None = None  # the store's customer, when linked now
    reason: str = ""


def apply(
    session: Session, run_id: int, done: Sequence[Done], *, finished: bool
) -> CustomerExport | None:
    """Link what the platform holds now, count it, and move the run's cursor past it;
    ``finished``: this was the last page. ``None`` when the run was stopped meanwhile."""
    run = session.get(CustomerExport, run_id)
    if run is None or run.state is not BackfillState.RUNNING:
        return None
    failures = list(run.failures)
    for each in done:
        answer = each.answer
        if (
            answer is not None
            and answer.external_id
            and session.get(Customer, each.pending.customer_id) is not None
        ):
            # Linked with what the store holds: a later change here goes out.
            sent = each.pending.record if each.outcome == "created" else answer
            links.link_customer(
                session,
                run.plugin_id,
                each.pending.customer_id,
                answer.external_id,
                synced_hash=exports.customer_digest(sent),
            )
        if each.outcome == "created":
            run.created += 1
        elif each.outcome == "matched":
            run.matched += 1
        elif each.outcome == "already_linked":
            run.already_linked += 1
        else:
            run.failed += 1
            failures.append({"id": str(each.pending.customer_id), "reason": each.reason})
    run.failures = failures[-200:]  # the latest reasons; the count keeps the rest
    if done:
        run.cursor = str(done[-1].pending.customer_id)
        run.pages += 1
    if finished:
        run.state = BackfillState.DONE
        run.finished_at = utcnow()
    session.flush()
    return run
