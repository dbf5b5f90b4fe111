"""The orders list's rules (issue 16, part 1): the merchant's days, every filter, the
search, the sorts and their keyset pages, and the count."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests import factories
from tradewind.core.orders import listing
from tradewind.core.orders import service as orders
from tradewind.core.orders.listing import Flag, OrderFilter, Placed, Sort, SortKey
from tradewind.core.orders.models import FinancialStatus, OrderStatus
from tradewind.db import Database

KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14: its date is never the UTC date at 10:00+


def test_today_is_the_merchants_day_where_the_utc_date_differs() -> None:
    now = dt.datetime(2026, 12, 3, 11, 0, tzinfo=dt.UTC)  # 4 December, 01:00 in Kiritimati
    start, end = listing.placed_range(Placed.TODAY, KIRITIMATI, now)
    assert (start, end) == (
        dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC),
    )
    assert listing.placed_range(Placed.YESTERDAY, KIRITIMATI, now) == (
        start - dt.timedelta(days=1),
        start,
    )
    week = listing.placed_range(Placed.LAST_7_DAYS, KIRITIMATI, now)
    assert week == (start - dt.timedelta(days=6), end)
    assert listing.placed_range(Placed.TODAY, dt.UTC, now)[0] == dt.datetime(
        2026, 12, 3, tzinfo=dt.UTC
    )


def test_a_day_with_a_clock_change_is_that_day_not_24_hours() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    now = dt.datetime(2026, 10, 25, 12, tzinfo=dt.UTC)  # the day clocks go back: 25 hours
    start, end = listing.placed_range(Placed.TODAY, berlin, now)
    assert end - start == dt.timedelta(hours=25)


def test_sort_parses_its_text_and_refuses_what_it_does_not_know() -> None:
    assert Sort.parse("") == Sort(SortKey.PLACED_AT, descending=True)
    assert Sort.parse("total") == Sort(SortKey.TOTAL, descending=False)
    assert str(Sort.parse("-customer")) == "-customer"
    with pytest.raises(ValueError, match="sort by one of"):
        Sort.parse("-colour")
    with pytest.raises(ValueError, match="IANA"):
        listing.zone_named("Mars/Olympus")


@pytest.fixture
def world(db: Database) -> dict[str, int]:
    base = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    with db.unit_of_work() as session:
        wholesale = factories.channel(session, "Wholesale").id
        retail = factories.channel(session, "Retail").id
        factories.product(session, "MUG")
        made = [
            factories.placed_order(
                session,
                wholesale,
                "W-1",
                base,
                price="30",
                email="zoe@example.com",
                name=("Zoe", "Quinn"),
            ),
            factories.placed_order(
                session,
                wholesale,
                "W-2",
                base + dt.timedelta(days=1),
                price="5",
                email="adam@example.com",
                name=("Adam", "Smith"),
                sku="TEAPOT-XL",
            ),
            factories.placed_order(
                session,
                retail,
                "R-1",
                base + dt.timedelta(days=2),
                price="12",
                email="guest@example.com",
                financial_status=FinancialStatus.PAID,
            ),
            factories.placed_order(
                session,
                retail,
                "R-2",
                base + dt.timedelta(days=3),
                price="12",
                email="bea@example.com",
                name=("Bea", "Jones"),
            ),
        ]
        orders.cancel_order(session, made[3].id, "changed mind")
        return {"wholesale": wholesale, "retail": retail, **{o.number: o.id for o in made}}


def _numbers(db: Database, flt: OrderFilter, sort: Sort | None = None) -> list[str]:
    with db.read() as session:
        return [row.order.number for row in listing.find(session, flt, sort)]


def test_each_filter_narrows_the_list_and_the_count_agrees(
    db: Database, world: dict[str, int]
) -> None:
    base = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    cases = {
        OrderFilter(): ["R-2", "R-1", "W-2", "W-1"],
        OrderFilter(channel_id=world["wholesale"]): ["W-2", "W-1"],
        OrderFilter(status=OrderStatus.CANCELLED): ["R-2"],
        OrderFilter(financial_status=FinancialStatus.PAID): ["R-1"],
        OrderFilter(flagged=Flag.MISSING_PRODUCT): ["W-2"],  # TEAPOT-XL matches nothing
        OrderFilter(
            placed_from=base + dt.timedelta(days=1), placed_to=base + dt.timedelta(days=3)
        ): [
            "R-1",
            "W-2",
        ],
        OrderFilter(search="teapot"): ["W-2"],  # a line's SKU
        OrderFilter(search="quinn"): ["W-1"],  # the customer's name
        OrderFilter(search="GUEST@"): ["R-1"],  # the email
        OrderFilter(search="r-"): ["R-2", "R-1"],  # the number
        OrderFilter(search="100%_"): [],  # wildcards are text
    }
    for flt, expected in cases.items():
        assert _numbers(db, flt) == expected, flt
        with db.read() as session:
            assert listing.count(session, flt) == len(expected), flt


def test_flagged_finds_missing_customer_fields(db: Database, world: dict[str, int]) -> None:
    # The manual orders above have no shipping address: each misses customer fields.
    with db.read() as session:
        flagged = listing.count(session, OrderFilter(flagged=Flag.MISSING_CUSTOMER_FIELDS))
        any_flag = listing.count(session, OrderFilter(flagged=Flag.ANY))
        missing = [
            row.order.number
            for row in listing.find(session, OrderFilter())
            if row.order.missing_customer_fields
        ]
    assert flagged == len(missing) > 0
    assert any_flag >= flagged


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("total", ["W-2", "R-1", "R-2", "W-1"]),
        ("-total", ["W-1", "R-2", "R-1", "W-2"]),
        ("number", ["R-1", "R-2", "W-1", "W-2"]),
        ("customer", ["W-2", "R-2", "R-1", "W-1"]),  # Adam, Bea, guest@ (no name), Zoe
        ("placed_at", ["W-1", "W-2", "R-1", "R-2"]),
        ("-status", ["R-1", "W-2", "W-1", "R-2"]),  # open before cancelled, then by id
    ],
)
def test_sorts_and_their_keyset_pages_agree(
    db: Database, world: dict[str, int], sort: str, expected: list[str]
) -> None:
    order_sort = Sort.parse(sort)
    assert _numbers(db, OrderFilter(), order_sort) == expected
    paged: list[str] = []
    after = None
    with db.read() as session:
        while rows := listing.find(session, OrderFilter(), order_sort, limit=1, after=after):
            paged.append(rows[0].order.number)
            after = listing.after_row(order_sort, rows[0])
    assert paged == expected
