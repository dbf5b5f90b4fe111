"""Refunds: the calculation Shopify offers, and the refund with its restocking."""

from __future__ import annotations

from decimal import Decimal

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.ops.base import Resource, unprocessable
from tradewind.sandbox.shopify.state import Doc


class Refunds(Resource):
    """Refunds of lines, shipping and money; restocking per ``restock_type``."""

    def refund_money(self, doc: Doc, amount: Decimal) -> None:
        parent = next(
            (
                t
                for t in self.ops.payments.order_transactions(doc["id"])
                if t["kind"] in ("sale", "capture") and t["status"] == "success"
            ),
            None,
        )
        if parent is None:
            return
        refund = {
            "parent_id": parent["id"],
            "amount": d.money(amount),
            "gateway": parent["gateway"],
        }
        self.create_refund(doc["id"], {"transactions": [refund]}, announce=False)

    def _refund_lines(self, doc: Doc, specs: list[Doc]) -> list[tuple[Doc, Doc]]:
        lines = {li["id"]: li for li in doc["line_items"]}
        found = []
        for spec in specs:
            line = lines.get(int(spec["line_item_id"]))
            if line is None:
                raise unprocessable("refund_line_items", "line item not found")
            if int(spec.get("quantity", 1)) > line["current_quantity"]:
                raise unprocessable(
                    "refund_line_items.quantity",
                    "cannot refund more items than were purchased",
                )
            found.append((line, spec))
        return found

    def calculate_refund(self, order_id: int, data: Doc) -> Doc:
        doc = self.ops.orders.order_doc(order_id)
        cur = doc["currency"]
        lines = []
        total = Decimal(0)
        for line, spec in self._refund_lines(doc, data.get("refund_line_items", [])):
            qty = int(spec.get("quantity", 1))
            unit_tax = sum((d.dec(t["price"]) for t in line["tax_lines"]), Decimal(0)) / max(
                line["quantity"], 1
            )
            subtotal = d.dec(line["price"]) * qty
            total += subtotal + unit_tax * qty
            lines.append(
                {
                    "quantity": qty,
                    "line_item_id": line["id"],
                    "location_id": spec.get("location_id"),
                    "restock_type": spec.get("restock_type", "no_restock"),
                    "price": line["price"],
                    "subtotal": d.money(subtotal),
                    "total_tax": d.money(unit_tax * qty),
                    "discounted_price": line["price"],
                    "discounted_total_price": d.money(subtotal),
                    "total_cart_discount_amount": "0.00",
                }
            )
        shipping_total = sum((d.dec(s["price"]) for s in doc["shipping_lines"]), Decimal(0))
        ship = data.get("shipping") or {}
        shipping = shipping_total if ship.get("full_refund") else d.dec(ship.get("amount", 0))
        total += shipping
        parent = next(
            (
                t
                for t in self.ops.payments.order_transactions(order_id)
                if t["kind"] in ("sale", "capture")
            ),
            None,
        )
        txs = []
        if parent is not None:
            txs.append(
                {
                    "order_id": order_id,
                    "kind": "suggested_refund",
                    "gateway": parent["gateway"],
                    "parent_id": parent["id"],
                    "amount": d.money(total),
                    "currency": cur,
                    "maximum_refundable": parent["amount"],
                }
            )
        return {
            "duties": [],
            "total_duties_set": d.money_set(0, cur),
            "return": None,
            "shipping": {
                "amount": d.money(shipping),
                "tax": "0.00",
                "maximum_refundable": d.money(shipping_total),
            },
            "additional_fees": [],
            "total_additional_fees_set": d.money_set(0, cur),
            "refund_shipping_lines": [],
            "refund_line_items": lines,
            "transactions": txs,
            "currency": data.get("currency", cur),
        }

    def create_refund(self, order_id: int, data: Doc, announce: bool = True) -> Doc:
        doc = self.ops.orders.order_doc(order_id)
        cur = doc["currency"]
        refund_id = self.state.next_id()
        lines = []
        for line, spec in self._refund_lines(doc, data.get("refund_line_items", [])):
            qty = int(spec.get("quantity", 1))
            restock = spec.get("restock_type", "no_restock")
            location_id = spec.get("location_id") or line.get("_location_id")
            lines.append(d.refund_line(self.state.next_id(), line, qty, restock, location_id, cur))
            line["current_quantity"] -= qty
            line["fulfillable_quantity"] = max(
                0, min(line["fulfillable_quantity"], line["current_quantity"])
            )
            self._restock(line, qty, restock, location_id)
        txs = []
        for spec in data.get("transactions", []):
            parent = self.shop.transactions.get(int(spec.get("parent_id", 0)))
            tx_spec = dict(spec, kind="refund")
            if parent is not None:
                tx_spec.setdefault("authorization", parent["authorization"])
            txs.append(self.ops.payments.add_transaction(doc, tx_spec))
        refund = d.refund(refund_id, order_id, data, lines, txs, self.now(), cur)
        self.shop.refunds.put(refund_id, refund)
        d.set_totals(doc, cur)
        doc["financial_status"] = self.ops.payments.financial_status(doc)
        self.shop.orders.put(order_id, doc)
        self.emit("refunds/create", refund)
        if announce:
            self.ops.orders.save_order(doc)
        return refund

    def _restock(self, line: Doc, qty: int, restock: str, location_id: int | None) -> None:
        item_id = line.get("_inventory_item_id")
        if restock == "no_restock" or item_id is None or location_id is None:
            return
        level = self.shop.levels.get((item_id, int(location_id)))
        if level is None:
            return
        if restock == "cancel":
            moved = min(level.committed, qty)
            level.committed -= moved
        level.available += qty
        self.ops.inventory.save_level(item_id, int(location_id))

    def order_refunds(self, order_id: int) -> list[Doc]:
        self.ops.orders.order_doc(order_id)
        return sorted(
            self.shop.refunds.group(order_id),
            key=lambda r: r["id"],
        )
