"""An order's transactions and the financial status they add up to."""

from __future__ import annotations

from decimal import Decimal

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.ops.base import Resource, unprocessable
from tradewind.sandbox.shopify.state import Doc


class Payments(Resource):
    """Transactions (sale, authorization, capture, void, refund) and tender transactions."""

    def record_payment(self, order_doc: Doc, data: Doc) -> None:
        total = order_doc["total_price"]
        wanted = data.get("financial_status")
        specs = data.get("transactions")
        if specs is None:
            kind = {"paid": "sale", "authorized": "authorization", None: "sale"}.get(wanted)
            specs = [{"kind": kind, "status": "success", "amount": total}] if kind else []
        for spec in specs:
            spec = dict(spec)
            spec.setdefault("gateway", (order_doc["payment_gateway_names"] or ["bogus"])[0])
            spec.setdefault("amount", total)
            spec.setdefault("test", order_doc["test"])
            spec.setdefault("source_name", order_doc["source_name"])
            self.add_transaction(order_doc, spec)
        order_doc["financial_status"] = wanted or self.financial_status(order_doc)

    def add_transaction(self, order_doc: Doc, spec: Doc, ident: int | None = None) -> Doc:
        ident = self.state.claim_id(ident)
        tx = d.transaction(ident, order_doc["id"], spec, self.now(), order_doc["currency"])
        self.shop.transactions.put(ident, tx)
        if tx["status"] == "success" and tx["kind"] in ("sale", "capture", "refund"):
            tender_id = self.state.next_id()
            self.shop.tender_transactions.put(tender_id, d.tender_transaction(tender_id, tx))
        return tx

    def order_transactions(self, order_id: int) -> list[Doc]:
        return sorted(
            self.shop.transactions.group(order_id),
            key=lambda t: t["id"],
        )

    def financial_status(self, order_doc: Doc) -> str:
        txs = [t for t in self.order_transactions(order_doc["id"]) if t["status"] == "success"]
        total = d.dec(order_doc["total_price"])
        paid = sum(
            (d.dec(t["amount"]) for t in txs if t["kind"] in ("sale", "capture")), Decimal(0)
        )
        refunded = sum((d.dec(t["amount"]) for t in txs if t["kind"] == "refund"), Decimal(0))
        authorized = any(t["kind"] == "authorization" for t in txs)
        voided = any(t["kind"] == "void" for t in txs)
        if refunded > 0:
            return "refunded" if refunded >= paid else "partially_refunded"
        if paid >= total and paid > 0:
            return "paid"
        if paid > 0:
            return "partially_paid"
        if voided:
            return "voided"
        if authorized:
            return "authorized"
        return "pending"

    def create_transaction(self, order_id: int, data: Doc) -> Doc:
        doc = self.ops.orders.order_doc(order_id)
        spec = dict(data)
        kind = spec.get("kind", "capture")
        parent = None
        if spec.get("parent_id") is not None:
            parent = self.shop.transactions.get(int(spec["parent_id"]))
            if parent is None or parent["order_id"] != order_id:
                raise unprocessable("parent_id", "is invalid")
        elif kind in ("capture", "void") and spec.get("authorization"):
            parent = next(
                (
                    t
                    for t in self.order_transactions(order_id)
                    if t["authorization"] == spec["authorization"]
                ),
                None,
            )
        elif kind in ("capture", "void"):
            parent = next(
                (t for t in self.order_transactions(order_id) if t["kind"] == "authorization"), None
            )
        if kind in ("capture", "void") and parent is None:
            raise unprocessable("base", "No authorized transaction to " + kind)
        if parent is not None:
            spec["parent_id"] = parent["id"]
            spec.setdefault("amount", parent["amount"])
            spec.setdefault("gateway", parent["gateway"])
            spec.setdefault("authorization", parent["authorization"])
        spec.setdefault("amount", doc["total_price"])
        spec.setdefault("source_name", "external")
        before = doc["financial_status"]
        tx = self.add_transaction(doc, spec)
        doc["financial_status"] = self.financial_status(doc)
        topics = ["orders/paid"] if doc["financial_status"] == "paid" != before else []
        self.ops.orders.save_order(doc, topics=topics)
        return tx

    def mark_paid(self, order_id: int) -> Doc:
        """Move an order to paid as its payment provider would (capture or sale)."""
        doc = self.ops.orders.order_doc(order_id)
        if doc["financial_status"] == "paid":
            return self.ops.orders.render_order(doc)
        outstanding = d.dec(doc["total_price"]) - sum(
            (
                d.dec(t["amount"])
                for t in self.order_transactions(order_id)
                if t["kind"] in ("sale", "capture") and t["status"] == "success"
            ),
            Decimal(0),
        )
        kind = "capture" if doc["financial_status"] == "authorized" else "sale"
        self.create_transaction(
            order_id, {"kind": kind, "amount": d.money(outstanding), "source_name": "web"}
        )
        return self.ops.orders.order(order_id)
