"""Draft orders: an order a merchant or an app prepares (lines priced from their variants
or custom, a shipping line, the buyer's addresses), then completes into a real order,
which is placed through the order rules (stock committed, ``orders/create`` fired).

Taxes are not calculated on drafts here: their total is the lines plus shipping.
"""

from __future__ import annotations

from decimal import Decimal

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.documents.common import token_hex
from tradewind.sandbox.shopify.ops.base import Resource, ShopifyError, not_found, unprocessable
from tradewind.sandbox.shopify.state import Doc

SOURCE_NAME = "shopify_draft_order"


class DraftOrders(Resource):
    def draft_order(self, ident: int) -> Doc:
        return self._get(self.shop.draft_orders, ident)

    def create_draft_order(self, data: Doc) -> Doc:
        """``data``: REST-shaped (``line_items`` with ``variant_id`` or ``title`` and
        ``price``, ``shipping_line``, addresses, ``customer_id``…)."""
        lines = [self._line(n, spec) for n, spec in enumerate(data.get("line_items") or [])]
        if not lines:
            raise unprocessable("line_items", "must have at least one line item")
        customer_id = data.get("customer_id")
        if customer_id is not None and self.shop.customers.get(customer_id) is None:
            raise unprocessable("customer", "Customer does not exist")
        ident = self.state.next_id()
        now = self.now()
        currency = self.currency
        shipping = data.get("shipping_line")
        subtotal = sum((d.dec(li["price"]) * li["quantity"] for li in lines), Decimal(0))
        shipping_price = d.dec(shipping["price"]) if shipping else Decimal(0)
        doc: Doc = {
            "id": ident,
            "name": f"#D{len(self.shop.draft_orders) + 1}",  # drafts are never deleted here
            "status": "open",
            "email": data.get("email"),
            "phone": data.get("phone"),
            "note": data.get("note"),
            "tags": ", ".join(data.get("tags") or []),
            "currency": currency,
            "tax_exempt": bool(data.get("tax_exempt", False)),
            "line_items": lines,
            "shipping_line": shipping,
            "shipping_address": data.get("shipping_address"),
            "billing_address": data.get("billing_address"),
            "note_attributes": list(data.get("note_attributes") or []),
            "customer_id": customer_id,
            "source_name": data.get("source_name"),
            "subtotal_price": d.money(subtotal),
            "total_tax": d.money(0),
            "total_price": d.money(subtotal + shipping_price),
            "created_at": now,
            "updated_at": now,
            "completed_at": None,
            "order_id": None,
            "invoice_url": f"https://{self.shop.settings.domain}/{self.shop.settings.id}"
            f"/invoices/{token_hex(f'draft-{ident}')}",
            "admin_graphql_api_id": d.gid("DraftOrder", ident),
        }
        self.shop.draft_orders.put(ident, doc)
        return doc

    def _line(self, index: int, spec: Doc) -> Doc:
        quantity = int(spec.get("quantity", 0))
        if quantity < 1:
            raise unprocessable(
                f"line_items.{index}.quantity", "must be greater than or equal to 1"
            )
        line: Doc = {
            "id": self.state.next_id(),
            "quantity": quantity,
            "variant_id": None,
            "product_id": None,
            "custom": True,
        }
        variant_id = spec.get("variant_id")
        if variant_id is not None:
            variant = self.shop.variants.get(variant_id)
            if variant is None:
                raise unprocessable(f"line_items.{index}.variant_id", "Variant does not exist")
            product = self.shop.products.get(variant["product_id"]) or {}
            line |= {
                "variant_id": variant_id,
                "product_id": variant["product_id"],
                "custom": False,
                "title": product.get("title", ""),
                "variant_title": variant["title"],
                "sku": spec.get("sku") or variant["sku"],
                "price": d.money(spec.get("price") or variant["price"]),
                "taxable": spec.get("taxable", variant["taxable"]),
                "requires_shipping": spec.get("requires_shipping", variant["requires_shipping"]),
            }
            return line
        if not spec.get("title"):
            raise unprocessable(f"line_items.{index}.title", "can't be blank")
        return line | {
            "title": spec["title"],
            "variant_title": None,
            "sku": spec.get("sku"),
            "price": d.money(spec.get("price") or 0),
            "taxable": spec.get("taxable", True),
            "requires_shipping": spec.get("requires_shipping", True),
        }

    def complete(self, ident: int, *, payment_pending: bool, source_name: str | None) -> Doc:
        """The order the draft becomes: paid, unless the payment is pending."""
        draft = self.shop.draft_orders.get(ident)
        if draft is None:
            raise not_found()
        if draft["status"] == "completed":
            raise ShopifyError(422, {"base": ["This draft order has already been completed"]})
        data: Doc = {
            "line_items": [
                {
                    key: line[key]
                    for key in ("quantity", "title", "sku", "price", "taxable", "requires_shipping")
                }
                | ({"variant_id": line["variant_id"]} if line["variant_id"] else {})
                for line in draft["line_items"]
            ],
            "financial_status": "pending" if payment_pending else "paid",
            "source_name": source_name or SOURCE_NAME,
            "note_attributes": draft["note_attributes"],
            "tags": draft["tags"],
        }
        for key in ("email", "phone", "note", "shipping_address", "billing_address"):
            if draft[key]:
                data[key] = draft[key]
        if draft["shipping_line"]:
            data["shipping_lines"] = [draft["shipping_line"]]
        if draft["customer_id"]:
            data["customer"] = {"id": draft["customer_id"]}
        order = self.ops.orders.create_order(data, inventory_behaviour="decrement_ignoring_policy")
        now = self.now()
        draft |= {
            "status": "completed",
            "completed_at": now,
            "updated_at": now,
            "order_id": order["id"],
        }
        self.shop.draft_orders.put(ident, draft)
        return draft
