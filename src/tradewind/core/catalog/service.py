"""Catalog rules: unique SKUs, lookups by SKU and barcode, and CSV import."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TextIO

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from tradewind.core.catalog.models import Product, sku_key
from tradewind.core.catalog.schemas import ImportReport, ProductIn, RowError
from tradewind.errors import Conflict, Invalid, NotFound
from tradewind.events import ProductCreated, ProductDeleted, ProductUpdated, record

Outcome = Literal["created", "updated", "unchanged"]

_FIELDS = ("sku", "title", "barcode", "price", "weight_grams", "active")


def get_product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(f"no product with id {product_id}")
    return product


def find_by_sku(session: Session, sku: str) -> Product | None:
    return session.scalar(select(Product).where(Product.sku_key == sku_key(sku)))


def find_by_barcode(session: Session, barcode: str) -> list[Product]:
    code = barcode.strip()
    if not code:
        return []
    return list(session.scalars(select(Product).where(Product.barcode == code)))


def product_by_ref(session: Session, ref: str) -> Product:
    """A product by id (``#12`` or ``12``) or by SKU, for the CLI and the API."""
    product = find_by_sku(session, ref)
    if product is None and ref.lstrip("#").isdigit():
        product = session.get(Product, int(ref.lstrip("#")))
    if product is None:
        raise NotFound(f"no product with SKU or id {ref!r}")
    return product


def list_products(
    session: Session, *, search: str | None = None, after_id: int = 0, limit: int = 100
) -> list[Product]:
    query = select(Product).where(Product.id > after_id).order_by(Product.id).limit(limit)
    if search:
        pattern = f"%{search.strip().casefold()}%"
        query = query.where(
            (Product.sku_key.like(pattern)) | (func.lower(Product.title).like(pattern))
        )
    return list(session.scalars(query))


def create_product(session: Session, data: ProductIn) -> Product:
    if find_by_sku(session, data.sku) is not None:
        raise Conflict(f"SKU {data.sku!r} already exists", fields={"sku": "already exists"})
    product = Product(sku_key=sku_key(data.sku), **data.model_dump())
    session.add(product)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"SKU {data.sku!r} already exists", fields={"sku": "already exists"}
        ) from None
    record(session, ProductCreated(product_id=product.id, sku=product.sku))
    return product


def update_product(session: Session, product_id: int, changes: dict[str, Any]) -> Product:
    product = get_product(session, product_id)
    try:
        merged = ProductIn.model_validate(
            {
                **{field: getattr(product, field) for field in _FIELDS},
                "attributes": product.attributes,
                **changes,
            }
        )
    except ValidationError as exc:  # a face's bad input is a clear refusal, never a 500
        fields = {
            ".".join(str(part) for part in error["loc"]) or "product": error["msg"]
            for error in exc.errors()
        }
        raise Invalid(f"invalid product: {_explain(exc)}", fields=fields) from None
    if sku_key(merged.sku) != product.sku_key:
        other = find_by_sku(session, merged.sku)
        if other is not None:
            raise Conflict(f"SKU {merged.sku!r} already exists", fields={"sku": "already exists"})
    _apply(product, merged)
    return product


def delete_product(session: Session, product_id: int) -> None:
    """Remove a product from the catalogue, with its stock, listings and platform links
    (the database cascades them). A product that orders were placed for stays (their
    lines point at it): refused, with deactivating it as the way out."""
    from tradewind.core.orders.models import OrderLine  # orders build on the catalog

    product = get_product(session, product_id)
    ordered = session.scalar(
        select(func.count()).select_from(OrderLine).where(OrderLine.product_id == product.id)
    )
    if ordered:
        raise Conflict(
            f"product {product.sku!r} is on {ordered} order line(s) and cannot be deleted; "
            "set it inactive instead",
            fields={"product": "ordered"},
        )
    sku = product.sku
    session.delete(product)
    session.flush()
    record(session, ProductDeleted(product_id=product_id, sku=sku))


def upsert_product(session: Session, data: ProductIn) -> tuple[Product, Outcome]:
    product = find_by_sku(session, data.sku)
    if product is None:
        return create_product(session, data), "created"
    changed = _apply(product, data)
    return product, "updated" if changed else "unchanged"


def _apply(product: Product, data: ProductIn) -> bool:
    values = data.model_dump()
    changed = False
    for field, value in values.items():
        if getattr(product, field) != value:
            setattr(product, field, value)
            changed = True
    if changed:
        product.sku_key = sku_key(product.sku)
        session = object_session(product)
        assert session is not None, "products are always loaded through a session"
        session.flush()
        record(session, ProductUpdated(product_id=product.id))
    return changed


# ---------------------------------------------------------------------------- CSV import

CSV_COLUMNS = ("sku", "title", "barcode", "price", "weight_grams", "active")
_REQUIRED = ("sku", "title")
_ATTRIBUTE_PREFIX = "attr."
_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off"}


def import_csv(session: Session, stream: TextIO) -> ImportReport:
    """Create or update products from CSV. Each bad row is reported with its line number;
    the good rows are imported regardless.

    Columns: ``sku`` and ``title`` (required), ``barcode``, ``price``, ``weight_grams``,
    ``active``, and any ``attr.<name>`` column, which becomes attribute ``<name>``. One
    product per line: a line break inside a quoted cell is not supported, so a quote left
    open is reported on its own line instead of swallowing the lines after it.
    """
    report = ImportReport()
    sample = stream.read(4096)
    stream.seek(0)
    try:
        dialect: Any = csv.Sniffer().sniff(sample.splitlines()[0] if sample else ",", ",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = _rows(stream, dialect)
    first = next(rows, None)
    if first is None:
        report.errors.append(RowError(line=1, sku=None, message="the file is empty"))
        return report
    _, header = first
    if isinstance(header, str):
        report.errors.append(RowError(line=1, sku=None, message=header))
        return report
    columns = [name.strip().lstrip("\ufeff").casefold() for name in header]
    problem = _check_header(columns)
    if problem:
        report.errors.append(RowError(line=1, sku=None, message=problem))
        return report

    seen: dict[str, int] = {}
    for line, row in rows:
        if isinstance(row, str):
            report.errors.append(RowError(line=line, sku=None, message=row))
            continue
        if not any(cell.strip() for cell in row):
            continue
        raw = dict(zip(columns, row, strict=False))
        sku = raw.get("sku", "").strip() or None
        if len(row) != len(columns):
            report.errors.append(
                RowError(
                    line=line,
                    sku=sku,
                    message=f"expected {len(columns)} columns, found {len(row)}",
                )
            )
            continue
        try:
            data = _row_to_product(raw)
        except (ValidationError, Invalid) as exc:
            report.errors.append(RowError(line=line, sku=sku, message=_explain(exc)))
            continue
        key = sku_key(data.sku)
        if key in seen:
            report.errors.append(
                RowError(
                    line=line,
                    sku=data.sku,
                    message=f"SKU {data.sku!r} already appears on line {seen[key]}",
                )
            )
            continue
        seen[key] = line
        try:
            with session.begin_nested():
                _, outcome = upsert_product(session, data)
        except (Conflict, IntegrityError) as exc:
            report.errors.append(RowError(line=line, sku=data.sku, message=str(exc)))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _rows(stream: TextIO, dialect: Any) -> Iterator[tuple[int, list[str] | str]]:
    """Each line of ``stream`` with its number, as its cells or as why it is not a row.
    Every line is read on its own, so no quoting mistake reaches past its line."""
    for number, text in enumerate(stream, start=1):
        try:
            yield number, next(csv.reader([text], dialect, strict=True), [])
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                yield (
                    number,
                    (
                        "a quote opened on this line is not closed on it (a product takes one "
                        "line; line breaks inside a cell are not supported)"
                    ),
                )
            else:
                yield number, f"not valid CSV: {exc}"


def _check_header(columns: Sequence[str]) -> str | None:
    unknown = [
        name
        for name in columns
        if name not in CSV_COLUMNS and not name.startswith(_ATTRIBUTE_PREFIX)
    ]
    if unknown:
        allowed = ", ".join(CSV_COLUMNS)
        return f"unknown column(s) {', '.join(unknown)}; use {allowed} or attr.<name>"
    missing = [name for name in _REQUIRED if name not in columns]
    if missing:
        return f"missing required column(s): {', '.join(missing)}"
    duplicated = sorted({name for name in columns if columns.count(name) > 1})
    if duplicated:
        return f"column(s) given twice: {', '.join(duplicated)}"
    return None


def _row_to_product(raw: dict[str, str]) -> ProductIn:
    values: dict[str, Any] = {}
    attributes: dict[str, str] = {}
    for name, cell in raw.items():
        cell = cell.strip()
        if name.startswith(_ATTRIBUTE_PREFIX):
            if cell:
                attributes[name[len(_ATTRIBUTE_PREFIX) :]] = cell
        elif name in ("price", "weight_grams"):
            if cell:
                values[name] = _decimal(name, cell)
        elif name == "active":
            if cell:
                values[name] = _boolean(cell)
        else:
            values[name] = cell
    values["attributes"] = attributes
    return ProductIn.model_validate(values)


def _decimal(name: str, cell: str) -> Decimal:
    try:
        return Decimal(cell)
    except InvalidOperation:
        raise Invalid(f"{name}: {cell!r} is not a number (use a dot for decimals)") from None


def _boolean(cell: str) -> bool:
    folded = cell.casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise Invalid(f"active: {cell!r} is not yes/no")


def _explain(exc: ValidationError | Invalid) -> str:
    if isinstance(exc, Invalid):
        return exc.message
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "row"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def products_by_ids(session: Session, ids: Iterable[int]) -> dict[int, Product]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(wanted)))}


def match_product(
    session: Session, *, sku: str = "", barcode: str = "", codes: Sequence[str] = ("sku", "barcode")
) -> Product | None:
    """The product a platform's line or variant refers to, trying ``codes`` in order.

    A barcode shared by several products identifies none of them.
    """
    return match_products(session, [(sku, barcode)], codes=codes)[0]


def match_products(
    session: Session,
    wanted: Sequence[tuple[str, str]],
    *,
    codes: Sequence[str] = ("sku", "barcode"),
) -> list[Product | None]:
    """``match_product`` for many (sku, barcode) pairs at once, one query per code: an
    order of a thousand lines is matched in two statements, not two thousand."""
    found: list[Product | None] = [None] * len(wanted)
    for code in codes:
        todo = [i for i, product in enumerate(found) if product is None]
        if code == "sku":
            by_key = _products_by_sku_key(session, {sku_key(wanted[i][0]) for i in todo})
            for i in todo:
                found[i] = by_key.get(sku_key(wanted[i][0]))
        elif code == "barcode":
            by_code = _products_by_barcode(session, {wanted[i][1].strip() for i in todo})
            for i in todo:
                candidates = by_code.get(wanted[i][1].strip(), [])
                found[i] = candidates[0] if len(candidates) == 1 else None
    return found


def _products_by_sku_key(session: Session, keys: set[str]) -> dict[str, Product]:
    keys.discard("")
    if not keys:
        return {}
    rows = session.scalars(select(Product).where(Product.sku_key.in_(keys)))
    return {product.sku_key: product for product in rows}


def _products_by_barcode(session: Session, barcodes: set[str]) -> dict[str, list[Product]]:
    barcodes.discard("")
    found: dict[str, list[Product]] = {}
    if barcodes:
        rows = session.scalars(select(Product).where(Product.barcode.in_(barcodes)))
        for product in rows:
            found.setdefault(product.barcode or "", []).append(product)
    return found
