"""Orders: placing one (lines, totals, customer, stock, payment, fulfillment
orders), editing, closing, cancelling, and how an order is shown."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Literal

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.ops.base import Resource, public, unprocessable
from tradewind.sandbox.shopify.state import Doc

InventoryBehaviour = Literal["bypass", "decrement_ignoring_policy", "decrement_obeying_policy"]


class Orders(Resource):
    """Orders as Shopify keeps them, rendered without the sandbox's bookkeeping keys."""

    def render_order(self, doc: Doc) -> Doc:
        out = dict(doc)
        out["line_items"] = [public(li) for li in doc["line_items"]]
        out["fulfillments"] = [
            self.ops.fulfillments.render_fulfillment(f)
            for f in self.ops.fulfillments.order_fulfillments(doc["id"])
        ]
        out["refunds"] = sorted(self.shop.refunds.group(doc["id"]), key=lambda r: r["id"])
        customer_id = doc.get("_customer_id")
        customer = self.shop.customers.get(customer_id) if customer_id else None
        out["customer"] = d.order_customer(customer) if customer else None
        if self.shop.settings.withhold_customer_data:
            _redact(out)
        return public(out)

    def order_doc(self, ident: int) -> Doc:
        return self._get(self.shop.orders, ident)

    def order(self, ident: int) -> Doc:
        return self.render_order(self.order_doc(ident))

    def create_order(
        self,
        data: Doc,
        ident: int | None = None,
        inventory_behaviour: InventoryBehaviour = "bypass",
        line_ids: list[int] | None = None,
    ) -> Doc:
        """``line_ids`` pins line item ids (seeding a shop with known ids)."""
        if not data.get("line_items"):
            raise unprocessable("line_items", "must have at least one line item")
        ident = self.state.claim_id(ident)
        now = self.now()
        wanted_ids = list(line_ids or [])
        lines = [
            self._order_line(spec, wanted_ids[n] if n < len(wanted_ids) else None)
            for n, spec in enumerate(data["line_items"])
        ]
        number = self.shop.settings.next_order_number
        self.shop.settings.next_order_number += 1
        self.shop.save_settings()
        doc = d.order(self.shop.settings, ident, number, data, lines, now)
        for spec in data.get("shipping_lines", []):
            doc["shipping_lines"].append(
                d.shipping_line(self.state.next_id(), spec, doc["currency"])
            )
        if doc["discount_codes"] and not data.get("total_discounts"):
            doc["total_discounts"] = d.money(
                sum(
                    (d.dec(a["amount"]) for li in lines for a in li["discount_allocations"]),
                    Decimal(0),
                )
            )
        if not doc["tax_lines"] and data.get("total_tax"):
            rate = d.dec(data["total_tax"]) / max(
                sum((d.dec(li["price"]) * li["quantity"] for li in lines), Decimal(0)),
                Decimal(1),
            )
            doc["tax_lines"] = [
                d.tax_line(data["total_tax"], round(rate, 4), "Tax", doc["currency"])
            ]
        d.set_totals(doc, doc["currency"])
        customer = self.ops.customers.customer_for_order(data.get("customer"), data.get("email"))
        doc["_customer_id"] = customer["id"] if customer else None
        if customer and not doc["email"]:
            doc["email"] = customer["email"] or ""
            doc["contact_email"] = customer["email"]
        self.shop.orders.put(ident, doc)
        self.ops.fulfillment_orders.create_fulfillment_orders(doc, now, data.get("location_id"))
        if inventory_behaviour != "bypass":
            self._commit_stock(doc, obey_policy=inventory_behaviour == "decrement_obeying_policy")
        self.ops.payments.record_payment(doc, data)
        if customer:
            self._count_order(customer, doc)
        self.shop.orders.put(ident, doc)
        if data.get("fulfillment_status") == "fulfilled":
            for fo in self.ops.fulfillment_orders.order_fulfillment_orders(ident):
                self.ops.fulfillments.create_fulfillment(
                    {
                        "line_items_by_fulfillment_order": [{"fulfillment_order_id": fo["id"]}],
                        "notify_customer": bool(data.get("send_fulfillment_receipt", False)),
                    },
                    announce_order=False,
                )
        rendered = self.order(ident)
        self.emit("orders/create", rendered)
        if rendered["financial_status"] == "paid":
            self.emit("orders/paid", rendered)
        if rendered["fulfillment_status"] == "fulfilled":
            self.emit("orders/fulfilled", rendered)
        return rendered

    def _order_line(self, spec: Doc, ident: int | None = None) -> Doc:
        data = dict(spec)
        variant_id = data.get("variant_id")
        if variant_id is not None:
            variant = self.shop.variants.get(int(variant_id))
            if variant is None:
                raise unprocessable("line_items", f"variant {variant_id} does not exist")
            product = self.shop.products.get(variant["product_id"]) or {}
            data.setdefault("title", product.get("title"))
            data.setdefault("price", variant["price"])
            data.setdefault("sku", variant["sku"])
            data.setdefault("grams", variant["grams"])
            data.setdefault("vendor", product.get("vendor"))
            data.setdefault("requires_shipping", variant["requires_shipping"])
            data.setdefault("taxable", variant["taxable"])
            data["product_id"] = variant["product_id"]
            data["variant_inventory_management"] = variant["inventory_management"]
            if variant["title"] != "Default Title":
                data.setdefault("variant_title", variant["title"])
        line = d.line_item(self.state.claim_id(ident), data, self.currency)
        line["_inventory_item_id"] = (
            self.shop.variants.get(int(variant_id))["inventory_item_id"]  # type: ignore[index]
            if variant_id is not None
            else None
        )
        return line

    def _commit_stock(self, order_doc: Doc, obey_policy: bool) -> None:
        for line in order_doc["line_items"]:
            item_id = line.get("_inventory_item_id")
            location_id = line.get("_location_id")
            if item_id is None or location_id is None:
                continue
            level = self.shop.levels.get((item_id, location_id))
            if level is None:
                continue
            variant = self.shop.variants.get(line["variant_id"]) or {}
            if (
                obey_policy
                and variant.get("inventory_policy") == "deny"
                and level.available < line["quantity"]
            ):
                raise unprocessable("line_items", f"Unable to reserve inventory for {line['sku']}")
            level.available -= line["quantity"]
            level.committed += line["quantity"]
            self.ops.inventory.save_level(item_id, location_id)

    def _count_order(self, customer: Doc, order_doc: Doc) -> None:
        customer["orders_count"] += 1
        customer["total_spent"] = d.money(
            d.dec(customer["total_spent"]) + d.dec(order_doc["total_price"])
        )
        customer["last_order_id"] = order_doc["id"]
        customer["last_order_name"] = order_doc["name"]
        self.shop.customers.put(customer["id"], customer)

    def update_order(self, ident: int, data: Doc) -> Doc:
        doc = self.order_doc(ident)
        for key in (
            "note",
            "email",
            "phone",
            "buyer_accepts_marketing",
            "note_attributes",
            "po_number",
        ):
            if key in data:
                doc[key] = data[key]
        if "tags" in data:
            doc["tags"] = d.normalise_tags(data["tags"])
        for key in ("shipping_address", "billing_address"):
            if key in data:
                merged = dict(doc.get(key) or {}, **(data[key] or {}))
                doc[key] = d.order_address(merged)
        if "customer" in data and data["customer"] is None:
            doc["_customer_id"] = None
        return self.save_order(doc)

    def save_order(self, doc: Doc, topics: Iterable[str] = ()) -> Doc:
        doc["updated_at"] = self.now()
        self.shop.orders.put(doc["id"], doc)
        rendered = self.render_order(doc)
        for topic in topics:
            self.emit(topic, rendered)
        self.emit("orders/updated", rendered)
        return rendered

    def close_order(self, ident: int) -> Doc:
        doc = self.order_doc(ident)
        doc["closed_at"] = self.now()
        return self.save_order(doc)

    def open_order(self, ident: int) -> Doc:
        doc = self.order_doc(ident)
        doc["closed_at"] = None
        return self.save_order(doc)

    def cancel_order(self, ident: int, data: Doc) -> Doc:
        doc = self.order_doc(ident)
        if doc["cancelled_at"]:
            raise unprocessable("order", "has already been cancelled")
        if any(f["status"] == "success" for f in self.ops.fulfillments.order_fulfillments(ident)):
            raise unprocessable("order", "Cannot cancel an order that has fulfillments")
        now = self.now()
        for fo in self.ops.fulfillment_orders.order_fulfillment_orders(ident):
            if fo["status"] in ("open", "scheduled", "on_hold", "in_progress"):
                fo["status"] = "closed"
                fo["supported_actions"] = []
                self.shop.fulfillment_orders.put(fo["id"], fo)
        if data.get("restock", True):  # GraphQL orderCancel may keep the stock out
            self._release_stock(doc)
        # Money goes back only when asked for, with a refund or an amount (as the REST
        # cancel endpoint documents); otherwise the merchant refunds separately.
        if data.get("refund"):
            self.ops.refunds.create_refund(ident, data["refund"], announce=False)
        elif data.get("amount"):
            self.ops.refunds.refund_money(doc, d.dec(data["amount"]))
        doc = self.order_doc(ident)
        for txn in self.ops.payments.order_transactions(ident):
            if txn["kind"] == "authorization" and doc["financial_status"] == "authorized":
                self.ops.payments.add_transaction(
                    doc, {"kind": "void", "parent_id": txn["id"], "amount": txn["amount"]}
                )
        doc["financial_status"] = self.ops.payments.financial_status(doc)
        doc["cancelled_at"] = now
        doc["closed_at"] = now
        doc["cancel_reason"] = data.get("reason", "other")
        for line in doc["line_items"]:
            line["fulfillable_quantity"] = 0
        self.shop.orders.put(ident, doc)
        return self.save_order(doc, topics=("orders/cancelled",))

    def _release_stock(self, doc: Doc) -> None:
        for line in doc["line_items"]:
            item_id, location_id = line.get("_inventory_item_id"), line.get("_location_id")
            level = self.shop.levels.get((item_id, location_id)) if item_id else None
            if level is None or level.committed <= 0:
                continue
            qty = min(level.committed, line["fulfillable_quantity"])
            level.committed -= qty
            level.available += qty
            self.ops.inventory.save_level(item_id, location_id)

    def delete_order(self, ident: int) -> None:
        self.order_doc(ident)
        self.shop.orders.delete(ident)
        self.emit("orders/delete", {"id": ident})


REDACTED_ORDER_KEYS = ("email", "contact_email", "phone")


def _redact(order_doc: Doc) -> None:
    """Protected customer data withheld (issue 5): no customer, no contact details."""
    order_doc["customer"] = None
    for key in REDACTED_ORDER_KEYS:
        order_doc[key] = "" if key == "email" else None
    order_doc["billing_address"] = None
    ship = order_doc.get("shipping_address")
    if ship:
        order_doc["shipping_address"] = {
            k: (
                None
                if k
                in ("first_name", "last_name", "name", "address1", "address2", "phone", "company")
                else v
            )
            for k, v in ship.items()
        }
