"""Customer rules: one customer per email (matched without regard to case), addresses
added without duplicates, and generic customers for orders without a usable buyer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tradewind.core.customers.models import Customer, CustomerAddress
from tradewind.core.customers.schemas import Address, CustomerIn
from tradewind.db import insert_ignore, utcnow
from tradewind.errors import Conflict, Invalid, NotFound
from tradewind.events import CustomerCreated, CustomerUpdated, record

_PROFILE = ("first_name", "last_name", "company", "phone")


def email_key(email: str | None) -> str | None:
    return email.strip().casefold() if email and email.strip() else None


def get_customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}")
    return customer


def find_by_email(session: Session, email: str) -> Customer | None:
    key = email_key(email)
    if key is None:
        return None
    return session.scalar(select(Customer).where(Customer.email_key == key))


def list_customers(
    session: Session, *, search: str | None = None, after_id: int = 0, limit: int = 100
) -> list[Customer]:
    query = select(Customer).where(Customer.id > after_id).order_by(Customer.id).limit(limit)
    if search:
        pattern = f"%{search.strip().casefold()}%"
        query = query.where(
            or_(
                Customer.email_key.like(pattern),
                func.lower(Customer.first_name + " " + Customer.last_name).like(pattern),
                func.lower(Customer.company).like(pattern),
            )
        )
    return list(session.scalars(query))


def create_customer(session: Session, data: CustomerIn) -> Customer:
    key = email_key(data.email)
    if key is not None and find_by_email(session, key) is not None:
        raise Conflict(
            f"a customer with email {data.email} already exists", fields={"email": "already exists"}
        )
    customer = Customer(
        email=data.email,
        email_key=key,
        note=data.note,
        accepts_marketing=data.accepts_marketing,
        **{field: getattr(data, field) for field in _PROFILE},
    )
    session.add(customer)
    session.flush()
    _add_addresses(customer, data.addresses)
    session.flush()
    record(session, CustomerCreated(customer_id=customer.id))
    return customer


def match_or_create(session: Session, data: CustomerIn) -> tuple[Customer, bool]:
    """The customer with ``data.email``, created if none exists; returns (customer, created).

    An existing customer keeps what it has: only blank profile fields are filled and only
    new addresses are added. Two processes racing on a new email end with one customer.
    """
    key = email_key(data.email)
    if key is None:
        raise Invalid(
            "a customer can only be matched by email, and none was given",
            fields={"email": "required"},
        )
    existing = session.scalar(select(Customer).where(Customer.email_key == key).with_for_update())
    if existing is None:
        inserted = insert_ignore(
            session,
            Customer.__table__,
            [
                {
                    "email": data.email,
                    "email_key": key,
                    **{field: getattr(data, field) for field in _PROFILE},
                    "note": data.note,
                    "accepts_marketing": data.accepts_marketing,
                    "created_at": utcnow(),
                    "updated_at": utcnow(),
                }
            ],
            conflict_columns=["email_key"],
        )
        customer = session.scalar(
            select(Customer)
            .where(Customer.email_key == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert customer is not None
        _add_addresses(customer, data.addresses)
        session.flush()
        if inserted:
            record(session, CustomerCreated(customer_id=customer.id))
            return customer, True
        existing = customer
    changed = False
    for field in _PROFILE:
        if not getattr(existing, field) and getattr(data, field):
            setattr(existing, field, getattr(data, field))
            changed = True
    changed |= _add_addresses(existing, data.addresses)
    session.flush()
    if changed:
        record(session, CustomerUpdated(customer_id=existing.id))
    return existing, False


def update_customer(session: Session, customer_id: int, changes: dict[str, Any]) -> Customer:
    customer = get_customer(session, customer_id)
    data = CustomerIn.model_validate(
        {
            "email": customer.email,
            "note": customer.note,
            "accepts_marketing": customer.accepts_marketing,
            **{field: getattr(customer, field) for field in _PROFILE},
            **changes,
        }
    )
    key = email_key(data.email)
    if key != customer.email_key and key is not None:
        other = find_by_email(session, key)
        if other is not None and other.id != customer.id:
            raise Conflict(
                f"a customer with email {data.email} already exists",
                fields={"email": "already exists"},
            )
    customer.email, customer.email_key = data.email, key
    customer.note, customer.accepts_marketing = data.note, data.accepts_marketing
    for field in _PROFILE:
        setattr(customer, field, getattr(data, field))
    _add_addresses(customer, data.addresses)
    session.flush()
    record(session, CustomerUpdated(customer_id=customer.id))
    return customer


def generic_customer(session: Session, key: str, name: str) -> Customer:
    """The generic customer ``key`` (for example POS sales of one plugin), created once."""
    insert_ignore(
        session,
        Customer.__table__,
        [
            {
                "generic_key": key,
                "company": name,
                "first_name": "",
                "last_name": "",
                "phone": "",
                "note": "Generic customer: collects orders without a usable buyer.",
                "accepts_marketing": False,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
        ],
        conflict_columns=["generic_key"],
    )
    customer = session.scalar(select(Customer).where(Customer.generic_key == key))
    assert customer is not None
    return customer


def _add_addresses(customer: Customer, addresses: list[Address]) -> bool:
    known = {Address.model_validate(existing).key() for existing in customer.addresses}
    added = False
    for address in addresses:
        if address.key() in known or not any(address.model_dump().values()):
            continue
        customer.addresses.append(
            CustomerAddress(**address.model_dump(), is_default=not customer.addresses)
        )
        known.add(address.key())
        added = True
    return added
