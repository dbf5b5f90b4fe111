"""The orders list as merchants search it (issue 16, part 1): the filters, the sort, one
page with its count, and the whole filtered list in keyset batches (the CSV export).

The three faces read orders through this module, so a filter means the same in the UI,
the API and the CLI. A page is one query (the orders with their customer's name, joined)
plus one count; nothing is read per row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    cast,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session, selectinload

from tradewind.core.customers.models import Customer
from tradewind.core.orders.models import (
    FinancialStatus,
    FulfillmentStatus,
    Order,
    OrderLine,
    OrderStatus,
)

MAX_SEARCH = 128


class Placed(StrEnum):
    """The placed-date presets; a day is the merchant's day, in their time zone."""

    TODAY = "today"
    YESTERDAY = "yesterday"
    LAST_7_DAYS = "7d"


class Flag(StrEnum):
    """What a person must fix on an order (the notifications of ``attention``)."""

    ANY = "any"
    MISSING_PRODUCT = "missing_product"
    MISSING_CUSTOMER_FIELDS = "missing_customer_fields"


class SortKey(StrEnum):
    PLACED_AT = "placed_at"
    NUMBER = "number"
    TOTAL = "total"
    CUSTOMER = "customer"
    STATUS = "status"


@dataclass(frozen=True, slots=True)
class Sort:
    key: SortKey = SortKey.PLACED_AT
    descending: bool = True

    @classmethod
    def parse(cls, text: str | None) -> Sort:
        """``-placed_at`` (newest first, the default), ``total``, ``-customer``…"""
        text = (text or "").strip()
        if not text:
            return cls()
        descending = text.startswith("-")
        try:
            key = SortKey(text.lstrip("-+"))
        except ValueError:
            raise ValueError(
                f"sort by one of {', '.join(k.value for k in SortKey)}, "
                "with a leading '-' for descending"
            ) from None
        return cls(key, descending)

    def __str__(self) -> str:
        return f"{'-' if self.descending else ''}{self.key.value}"


def placed_range(
    preset: Placed, zone: dt.tzinfo, now: dt.datetime | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)`` in UTC of a preset: today is from the merchant's midnight to the
    next, whatever the UTC date is then."""
    local_now = (now or dt.datetime.now(dt.UTC)).astimezone(zone)
    today = local_now.date()
    days = {Placed.TODAY: (0, 1), Placed.YESTERDAY: (-1, 0), Placed.LAST_7_DAYS: (-6, 1)}
    first, last = days[preset]

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)

    return midnight(today + dt.timedelta(days=first)), midnight(today + dt.timedelta(days=last))


def zone_named(name: str | None) -> ZoneInfo:
    """The IANA zone ``name`` (UTC when blank); ``ValueError`` for a name that is none."""
    if not name:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        raise ValueError(f"{name!r} is not an IANA time zone such as Europe/Berlin") from None


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """Every filter of the list; ``None`` (or empty) means "any"."""

    channel_id: int | None = None
    plugin_id: int | None = None
    status: OrderStatus | None = None
    financial_status: FinancialStatus | None = None
    fulfillment_status: FulfillmentStatus | None = None
    flagged: Flag | None = None
    missing_product: bool | None = None
    placed_from: dt.datetime | None = None  # inclusive
    placed_to: dt.datetime | None = None  # exclusive
    search: str = ""
    ids: tuple[int, ...] = field(default=())

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.channel_id is not None:
            found.append(Order.channel_id == self.channel_id)
        if self.plugin_id is not None:
            found.append(Order.plugin_id == self.plugin_id)
        if self.status is not None:
            found.append(Order.status == self.status)
        if self.financial_status is not None:
            found.append(Order.financial_status == self.financial_status)
        if self.fulfillment_status is not None:
            found.append(Order.fulfillment_status == self.fulfillment_status)
        if self.missing_product is not None:
            found.append(Order.missing_product.is_(self.missing_product))
        missing_fields = cast(Order.missing_customer_fields, String) != "[]"
        if self.flagged is Flag.MISSING_PRODUCT:
            found.append(Order.missing_product.is_(True))
        elif self.flagged is Flag.MISSING_CUSTOMER_FIELDS:
            found.append(missing_fields)
        elif self.flagged is Flag.ANY:
            found.append(or_(Order.missing_product.is_(True), missing_fields))
        if self.placed_from is not None:
            found.append(Order.placed_at >= utc(self.placed_from))
        if self.placed_to is not None:
            found.append(Order.placed_at < utc(self.placed_to))
        if self.ids:
            found.append(Order.id.in_(self.ids))
        text = self.search.strip()[:MAX_SEARCH]
        if text:
            found.append(_matches(text))
        return found


def utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _matches(text: str) -> ColumnElement[bool]:
    """Number, email, customer name or a line's SKU contains ``text`` (any case). The
    customers and lines that match are found once each (uncorrelated subqueries), not
    looked up again for every order."""
    needle = f"%{_escape(text.lower())}%"

    def like(column: Any) -> ColumnElement[bool]:
        return func.lower(column).like(needle, escape="\\")

    customers = select(Customer.id).where(
        or_(like(Customer.first_name + " " + Customer.last_name), like(Customer.email))
    )
    skus = select(OrderLine.order_id).where(like(OrderLine.sku))
    return or_(
        like(Order.number),
        like(Order.email),
        Order.customer_id.in_(customers.scalar_subquery()),
        Order.id.in_(skus.scalar_subquery()),
    )


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True, slots=True)
class Listed:
    """One row of the list: the order and its customer's name ('' for none)."""

    order: Order
    customer_name: str


def _customer_name() -> ColumnElement[str]:
    return func.trim(
        func.coalesce(Customer.first_name, literal(""))
        + " "
        + func.coalesce(Customer.last_name, "")
    )


def _sort_column(key: SortKey) -> ColumnElement[Any]:
    if key is SortKey.CUSTOMER:
        # The name, else the email (a guest order sorts by the email it carries).
        name = _customer_name()
        return func.lower(func.coalesce(func.nullif(name, ""), Order.email, ""))
    columns: dict[SortKey, Any] = {
        SortKey.PLACED_AT: Order.placed_at,
        SortKey.NUMBER: Order.number,
        SortKey.TOTAL: Order.total,
        SortKey.STATUS: Order.status,
    }
    return columns[key]  # type: ignore[no-any-return]


def _ordering(sort: Sort) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    column = _sort_column(sort.key)
    if sort.descending:
        return column.desc(), Order.id.desc()
    return column.asc(), Order.id.asc()


@dataclass(frozen=True, slots=True)
class After:
    """Where a keyset page ended: the sort value of its last row and that row's id."""

    value: Any
    id: int


def _after(sort: Sort, after: After) -> ColumnElement[bool]:
    column = _sort_column(sort.key)
    if sort.descending:
        return or_(column < after.value, and_(column == after.value, Order.id < after.id))
    return or_(column > after.value, and_(column == after.value, Order.id > after.id))


def sort_value(sort: Sort, row: Listed) -> Any:
    """The value ``sort`` orders ``row`` by (what ``After`` continues from)."""
    order = row.order
    if sort.key is SortKey.CUSTOMER:
        return (row.customer_name or order.email or "").lower()
    values: dict[SortKey, Any] = {
        SortKey.PLACED_AT: order.placed_at,
        SortKey.NUMBER: order.number,
        SortKey.TOTAL: order.total,
        SortKey.STATUS: order.status.value,
    }
    return values[sort.key]


def parse_sort_value(sort: Sort, text: str) -> Any:
    """``sort_value`` back from its text (a cursor); ``ValueError`` when it is not one."""
    if sort.key is SortKey.PLACED_AT:
        return utc(dt.datetime.fromisoformat(text))
    if sort.key is SortKey.TOTAL:
        try:
            return Decimal(text)
        except ArithmeticError:
            raise ValueError(text) from None
    return text


def find(
    session: Session,
    flt: OrderFilter,
    sort: Sort | None = None,
    *,
    offset: int = 0,
    limit: int = 50,
    after: After | None = None,
    with_lines: bool = False,
) -> list[Listed]:
    """One page: ``offset`` rows skipped (numbered pages) or continuing ``after``;
    ``with_lines`` reads the page's lines too, in one more query."""
    sort = sort or Sort()
    query = (
        select(Order, _customer_name())
        .outerjoin(Customer, Customer.id == Order.customer_id)
        .order_by(*_ordering(sort))
    )
    if sort.key in _NARROW_FIRST:
        # The page's ids first, sorted on the key alone, then those orders in full:
        # sorting 10,000 whole order rows to keep 50 was most of the page's time.
        ids = select(Order.id).where(*flt.conditions())
        if after is not None:
            ids = ids.where(_after(sort, after))
        page = ids.order_by(*_ordering(sort)).offset(offset).limit(limit)
        query = query.where(Order.id.in_(page.scalar_subquery()))
    else:  # placed_at, number: an index walk; customer: the join is needed to sort
        query = query.where(*flt.conditions())
        if after is not None:
            query = query.where(_after(sort, after))
        query = query.offset(offset).limit(limit)
    if with_lines:
        query = query.options(selectinload(Order.lines))
    return [Listed(order, name or "") for order, name in session.execute(query)]


# Sorts on a column no index keeps in order (measured in benchmarks/bench_ui.py).
_NARROW_FIRST = frozenset({SortKey.TOTAL, SortKey.STATUS})


def count(session: Session, flt: OrderFilter) -> int:
    conditions = flt.conditions()
    if not conditions:
        return int(session.scalar(select(func.count()).select_from(Order)) or 0)
    return int(session.scalar(select(func.count(Order.id)).where(*conditions)) or 0)


def after_row(sort: Sort, row: Listed) -> After:
    """Where the next keyset page after ``row`` starts."""
    return After(sort_value(sort, row), row.order.id)


# The columns of the CSV export, read as plain rows through Core (no ORM objects) and
# statuses and flags as the text stored: the export is bound by what each value costs.
EXPORT_COLUMNS: tuple[Any, ...] = (
    Order.id,
    Order.number,
    Order.placed_at,
    Order.channel_id,
    Order.plugin_id,
    type_coerce(Order.status, String),
    type_coerce(Order.financial_status, String),
    type_coerce(Order.fulfillment_status, String),
    Order.email,
    Order.currency,
    Order.subtotal,
    Order.shipping_total,
    Order.tax_total,
    Order.discount_total,
    Order.total,
    Order.missing_product,
    cast(Order.missing_customer_fields, String),
)


def export_rows(
    session: Session, flt: OrderFilter, sort: Sort, *, limit: int, after: After | None = None
) -> tuple[list[Any], After | None]:
    """A keyset batch of the export: rows of ``EXPORT_COLUMNS`` plus the customer's name,
    and where the next batch starts (``None`` after the last)."""
    query = (
        select(*EXPORT_COLUMNS, _customer_name(), _sort_column(sort.key))
        .outerjoin(Customer, Customer.id == Order.customer_id)
        .where(*flt.conditions())
    )
    if after is not None:
        query = query.where(_after(sort, after))
    rows = list(session.connection().execute(query.order_by(*_ordering(sort)).limit(limit)))
    following = After(rows[-1][-1], rows[-1][0]) if len(rows) == limit else None
    return rows, following
