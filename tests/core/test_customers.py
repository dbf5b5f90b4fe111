"""Customers: one per email, addresses without duplicates, generic customers."""

from __future__ import annotations

import pytest

from tradewind.core.customers import service as customers
from tradewind.core.customers.schemas import Address, CustomerIn
from tradewind.db import Database
from tradewind.errors import Conflict, Invalid

HOME = Address(first_name="Ada", address1="1 Road", city="London", country_code="gb")


def test_match_by_email_never_creates_a_duplicate(db: Database) -> None:
    with db.unit_of_work() as session:
        first, created = customers.match_or_create(
            session, CustomerIn(email="Ada@Example.com", first_name="Ada", addresses=[HOME])
        )
        assert created
    with db.unit_of_work() as session:
        again, created = customers.match_or_create(
            session,
            CustomerIn(
                email="ada@example.COM",
                last_name="Lovelace",
                first_name="Augusta",
                addresses=[HOME],
            ),
        )
        assert not created and again.id == first.id
        assert again.first_name == "Ada"  # existing data is kept
        assert again.last_name == "Lovelace"  # blanks are filled
        assert len(again.addresses) == 1
        assert again.addresses[0].country_code == "GB"
    with pytest.raises(Conflict), db.unit_of_work() as session:
        customers.create_customer(session, CustomerIn(email="ADA@example.com"))


def test_matching_needs_an_email(db: Database) -> None:
    with pytest.raises(Invalid, match="matched by email"), db.unit_of_work() as session:
        customers.match_or_create(session, CustomerIn(first_name="Nobody"))


def test_generic_customer_is_created_once_per_key(db: Database) -> None:
    with db.unit_of_work() as session:
        a = customers.generic_customer(session, "pos:1", "POS customer")
        b = customers.generic_customer(session, "pos:1", "POS customer")
        c = customers.generic_customer(session, "pos:2", "POS customer (store 2)")
        assert a.id == b.id != c.id
        assert a.display_name == "POS customer"


def test_search_finds_by_email_and_name(db: Database) -> None:
    with db.unit_of_work() as session:
        customers.create_customer(
            session, CustomerIn(email="grace@navy.mil", first_name="Grace", last_name="Hopper")
        )
        customers.create_customer(session, CustomerIn(email="alan@example.com"))
    with db.read() as session:
        assert [c.email for c in customers.list_customers(session, search="hopper")] == [
            "grace@navy.mil"
        ]
        assert len(customers.list_customers(session, search="example")) == 1
