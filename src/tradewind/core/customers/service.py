"""Customer rules: one customer per email (matched without regard to case), addresses
added without duplicates, and generic customers for orders without a usable buyer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from tradewind.core.customers.models import Customer, CustomerAddress
from tradewind.core.customers.schemas import Address, CustomerIn
from tradewind.db import dialect_insert, insert_ignore, utcnow
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
    (matched,) = match_or_create_many(session, [data])
    if matched.event is not None:
        record(session, matched.event)
    return matched.customer, matched.created


@dataclass(frozen=True, slots=True)
class Matched:
    """What ``match_or_create`` did for one buyer: the customer, whether it was made, and
    the event to record (``None``: nothing changed)."""

    customer: Customer
    created: bool
    event: CustomerCreated | CustomerUpdated | None


def match_or_create_many(session: Session, datas: Sequence[CustomerIn]) -> list[Matched]:
    """``match_or_create`` for many buyers (the orders of a page) in a few statements:
    the customers of every email read and locked in one query, the missing ones inserted
    in one, and each buyer then applied in turn exactly as one call after the other would
    (the first buyer of a new email creates it, the later ones fill its blanks). The
    events are returned in that order, not recorded: the caller records each where the
    one-by-one import would have."""
    keys: list[str] = []
    for data in datas:
        key = email_key(data.email)
        if key is None:
            raise Invalid(
                "a customer can only be matched by email, and none was given",
                fields={"email": "required"},
            )
        keys.append(key)
    if not keys:
        return []
    found = _locked_by_keys(session, set(keys), fresh=False)
    firsts: dict[str, CustomerIn] = {}
    for key, data in zip(keys, datas, strict=True):
        if key not in found:
            firsts.setdefault(key, data)
    inserted: set[str] = set()
    if firsts:
        now = utcnow()
        rows = [
            {
                "email": data.email,
                "email_key": key,
                **{field: getattr(data, field) for field in _PROFILE},
                "note": data.note,
                "accepts_marketing": data.accepts_marketing,
                "created_at": now,
                "updated_at": now,
            }
            for key, data in firsts.items()
        ]
        statement = dialect_insert(session)(Customer.__table__).values(rows)
        inserted = set(
            session.scalars(
                statement.on_conflict_do_nothing(index_elements=["email_key"]).returning(
                    Customer.__table__.c.email_key
                )
            )
        )
        found.update(_locked_by_keys(session, set(firsts), fresh=True))
    matched: list[Matched] = []
    for key, data in zip(keys, datas, strict=True):
        customer = found[key]
        if key in inserted:  # the first buyer of a new email: made with its profile
            inserted.discard(key)
            _add_addresses(customer, data.addresses)
            matched.append(Matched(customer, True, CustomerCreated(customer_id=customer.id)))
            continue
        changed = False
        for field in _PROFILE:
            if not getattr(customer, field) and getattr(data, field):
                setattr(customer, field, getattr(data, field))
                changed = True
        changed |= _add_addresses(customer, data.addresses)
        event = CustomerUpdated(customer_id=customer.id) if changed else None
        matched.append(Matched(customer, False, event))
    session.flush()
    return matched


def _locked_by_keys(session: Session, keys: set[str], *, fresh: bool) -> dict[str, Customer]:
    query = (
        select(Customer)
        .where(Customer.email_key.in_(sorted(keys)))
        .order_by(Customer.id)
        .options(selectinload(Customer.addresses))
        .with_for_update(of=Customer)
    )
    if fresh:
        query = query.execution_options(populate_existing=True)
    return {customer.email_key or "": customer for customer in session.scalars(query)}


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
