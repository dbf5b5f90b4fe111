"""Refunds and their refund lines."""

from __future__ import annotations

from decimal import Decimal

from tradewind.sandbox.shopify.documents.common import dec, gid, money, money_set
from tradewind.sandbox.shopify.state import Doc


def refund_line(ident: int, li: Doc, qty: int, restock: str, loc: int | None, cur: str) -> Doc:
    unit_tax = sum((dec(t["price"]) for t in li["tax_lines"]), Decimal(0)) / max(li["quantity"], 1)
    subtotal = dec(li["price"]) * qty
    tax = unit_tax * qty
    return {
        "id": ident,
        "line_item_id": li["id"],
        "location_id": loc,
        "quantity": qty,
        "restock_type": restock,
        "subtotal": float(money(subtotal)),
        "subtotal_set": money_set(subtotal, cur),
        "total_tax": float(money(tax)),
        "total_tax_set": money_set(tax, cur),
        "line_item": {k: v for k, v in li.items() if not k.startswith("_")},
    }


def refund(
    ident: int, order_id: int, data: Doc, lines: list[Doc], txs: list[Doc], now: str, cur: str
) -> Doc:
    return {
        "id": ident,
        "order_id": order_id,
        "created_at": now,
        "note": data.get("note"),
        "user_id": None,
        "processed_at": data.get("processed_at") or now,
        "duties": [],
        "total_duties_set": money_set(0, cur),
        "return": None,
        "restock": any(li["restock_type"] != "no_restock" for li in lines),
        "additional_fees": [],
        "total_additional_fees_set": money_set(0, cur),
        "refund_shipping_lines": [],
        "admin_graphql_api_id": gid("Refund", ident),
        "order_adjustments": [],
        "refund_line_items": lines,
        "transactions": txs,
    }
