"""An order's lines: merged with what the platform sends again (by external id, else by
position and SKU), and matched to products — the product a line names, else by SKU or
barcode, one query per kind of reference for the whole order."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.orm import Session

from tradewind.core.catalog.models import Product, sku_key
from tradewind.core.catalog.service import match_products, products_by_ids
from tradewind.core.orders.models import Order, OrderLine
from tradewind.core.orders.schemas import ImportOptions, OrderLineIn
from tradewind.errors import NotFound


def merge_lines(
    session: Session, order: Order, incoming: Sequence[OrderLineIn], options: ImportOptions
) -> list[str]:
    by_external = {line.external_id: line for line in order.lines if line.external_id}
    pairs: list[tuple[OrderLineIn, OrderLine | None]] = []
    for position, line_in in enumerate(incoming):
        line = by_external.get(line_in.external_id) if line_in.external_id else None
        if line is None and not line_in.external_id and position < len(order.lines):
            candidate = order.lines[position]
            if candidate.sku_key == sku_key(line_in.sku):
                line = candidate
        pairs.append((line_in, line))
    unmatched = [i for i, (_, line) in enumerate(pairs) if line is None or line.product_id is None]
    products = dict(
        zip(unmatched, match_all(session, [pairs[i][0] for i in unmatched], options), strict=True)
    )
    changes: list[str] = []
    for position, (line_in, line) in enumerate(pairs):
        if line is None:
            order.lines.append(new_line(line_in, products[position]))
            changes.append(f"line {line_in.sku or line_in.barcode} added")
            continue
        if line.quantity != line_in.quantity:
            changes.append(f"line {line.sku} quantity {line.quantity}→{line_in.quantity}")
            line.quantity = max(line_in.quantity, line.shipped_quantity)
        if line.product_id is None:
            product = products[position]
            if product is not None:
                line.product_id = product.id
                changes.append(f"line {line.sku} matched")
    return changes


def new_line(line_in: OrderLineIn, product: Product | None) -> OrderLine:
    return OrderLine(
        external_id=line_in.external_id,
        product_id=product.id if product else None,
        sku=line_in.sku or (product.sku if product else ""),
        sku_key=sku_key(line_in.sku or (product.sku if product else "")),
        barcode=line_in.barcode,
        title=line_in.title or (product.title if product else line_in.sku),
        quantity=line_in.quantity,
        unit_price=unit_price(line_in, product),
        # Set now, not at the flush: a page of new orders is flagged before it is written.
        shipped_quantity=0,
        returned_quantity=0,
    )


def unit_price(line_in: OrderLineIn, product: Product | None) -> Decimal:
    """What one unit costs: the price given, else the product's (an order made without
    prices is priced from the catalog, never at 0 by accident)."""
    if line_in.unit_price is not None:
        return line_in.unit_price
    return product.price if product is not None else Decimal("0")


def match_all(
    session: Session, lines: Sequence[OrderLineIn], options: ImportOptions
) -> list[Product | None]:
    """The product of each line: the one it names, else by SKU or barcode (one query per
    kind of reference for the whole order, never one per line)."""
    named = products_by_ids(session, [line.product_id for line in lines if line.product_id])
    unknown = sorted(
        {line.product_id for line in lines if line.product_id and line.product_id not in named}
    )
    if unknown:
        raise NotFound(f"no product with id {unknown[0]}")
    by_code = iter(
        match_products(
            session,
            [(line.sku, line.barcode) for line in lines if line.product_id is None],
            codes=options.match_by,
        )
    )
    return [
        named[line.product_id] if line.product_id is not None else next(by_code) for line in lines
    ]
