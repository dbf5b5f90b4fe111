"""Converters: the shop's REST documents as GraphQL objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.graphql import metafields, storefront
from tradewind.sandbox.shopify.graphql.context import Ctx, connection, parse_gid
from tradewind.sandbox.shopify.graphql.search import LEVEL_SEARCH, search
from tradewind.sandbox.shopify.ops.fulfillment_orders import hold_id
from tradewind.sandbox.shopify.state import QUANTITY_NAMES, Doc, Level, Subscription
from tradewind.sandbox.shopify.webhooks import topic_enum


def money_v2(amount: Any, currency: str) -> Doc:
    return {"amount": d.money(amount), "currencyCode": currency}


def bag(rest_set: Doc | None) -> Doc | None:
    if rest_set is None:
        return None
    return {
        name: {"amount": part["amount"], "currencyCode": part["currency_code"]}
        for name, part in (
            ("shopMoney", rest_set["shop_money"]),
            ("presentmentMoney", rest_set["presentment_money"]),
        )
    }


def mailing(address: Doc | None) -> Doc | None:
    if not address:
        return None
    return {
        "firstName": address.get("first_name"),
        "lastName": address.get("last_name"),
        "name": address.get("name"),
        "company": address.get("company"),
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "province": address.get("province"),
        "provinceCode": address.get("province_code"),
        "country": address.get("country"),
        "countryCodeV2": address.get("country_code"),
        "zip": address.get("zip"),
        "phone": address.get("phone"),
    }


def split_tags(tags: str) -> list[str]:
    return [t.strip() for t in tags.split(",") if t.strip()]


class View:
    """Builds GraphQL objects from a shop's documents, lazily for nested fields."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.ops = ctx.ops
        self.currency = ctx.ops.currency

    def shop(self) -> Doc:
        doc = self.ops.shop_doc()
        return {
            "__typename": "Shop",
            "id": d.gid("Shop", doc["id"]),
            "name": doc["name"],
            "email": doc["email"],
            "myshopifyDomain": doc["myshopify_domain"],
            "currencyCode": doc["currency"],
            "ianaTimezone": doc["iana_timezone"],
            "createdAt": doc["created_at"],
            "plan": {
                "displayName": doc["plan_display_name"],
                "partnerDevelopment": False,
                "shopifyPlus": doc["plan_name"] == "shopify_plus",
            },
            "primaryDomain": {"host": doc["domain"], "url": f"https://{doc['domain']}"},
        }

    def location(self, doc: Doc) -> Doc:
        ident = doc["id"]
        return {
            "__typename": "Location",
            "id": doc["admin_graphql_api_id"],
            "legacyResourceId": str(ident),
            "name": doc["name"],
            "isActive": doc["active"],
            "fulfillsOnlineOrders": True,
            "address": {
                "address1": doc["address1"],
                "address2": doc["address2"],
                "city": doc["city"],
                "zip": doc["zip"],
                "province": doc["province"],
                "provinceCode": doc["province_code"],
                "country": doc["country_name"],
                "countryCode": doc["country_code"],
                "phone": doc["phone"],
            },
            "createdAt": doc["created_at"],
            "updatedAt": doc["updated_at"],
            "inventoryLevel": lambda _info, **args: self._level_by(
                parse_gid(args["inventoryItemId"], "InventoryItem"), ident
            ),
            "inventoryLevels": lambda _info, **args: connection(
                search(
                    self._levels(lambda lv: lv.location_id == ident),
                    args.get("query"),
                    LEVEL_SEARCH,
                ),
                args,
                self.level,
            ),
        }

    def _levels(self, keep: Callable[[Level], bool]) -> list[Doc]:
        found = [lv for lv in self.ops.shop.levels.values() if keep(lv)]
        found.sort(key=lambda lv: (lv.location_id, lv.inventory_item_id))
        # A level is keyed by its item and location (their ids do not fit one 64-bit int).
        return [{"id": f"{lv.inventory_item_id}-{lv.location_id}", "_level": lv} for lv in found]

    def _level_by(self, item_id: int | None, location_id: int | None) -> Doc | None:
        if item_id is None or location_id is None:
            return None
        level = self.ops.inventory.level(item_id, location_id)
        return self.level({"_level": level}) if level else None

    def level(self, wrapped: Doc) -> Doc:
        level: Level = wrapped["_level"]
        doc = d.inventory_level(level)

        def quantities(_info: Any, names: list[str]) -> list[Doc]:
            return [
                {
                    "__typename": "InventoryQuantity",
                    "id": f"gid://shopify/InventoryQuantity/{level.location_id}"
                    f"?inventory_item_id={level.inventory_item_id}&name={name}",
                    "name": name,
                    "quantity": level.quantity(name),
                    "updatedAt": level.updated_at,
                }
                for name in names
                if name in QUANTITY_NAMES
            ]

        return {
            "__typename": "InventoryLevel",
            "id": doc["admin_graphql_api_id"],
            "item": lambda _info: self.inventory_item(
                self.ops.inventory.inventory_item(level.inventory_item_id)
            ),
            "location": lambda _info: self.location(self.ops.locations.location(level.location_id)),
            "quantities": quantities,
            "createdAt": level.updated_at,
            "updatedAt": level.updated_at,
            "canDeactivate": True,
            "deactivationAlert": None,  # only set when deactivating would lose something
        }

    def product(self, doc: Doc) -> Doc:
        ident = doc["id"]
        return {
            "__typename": "Product",
            "id": doc["admin_graphql_api_id"],
            "legacyResourceId": str(ident),
            "title": doc["title"],
            "handle": doc["handle"],
            "status": doc["status"].upper(),
            "vendor": doc["vendor"],
            "productType": doc["product_type"],
            "descriptionHtml": doc["body_html"] or "",
            "tags": split_tags(doc["tags"]),
            **metafields.owner_fields(self.ctx, doc["admin_graphql_api_id"]),
            "createdAt": doc["created_at"],
            "updatedAt": doc["updated_at"],
            "publishedAt": doc["published_at"],
            "totalInventory": lambda _info: sum(
                self.ops.catalog.render_variant(v)["inventory_quantity"]
                for v in self.ops.catalog.product_variants(ident)
            ),
            "tracksInventory": True,
            "options": [
                {
                    "id": d.gid("ProductOption", o["id"]),
                    "name": o["name"],
                    "position": o["position"],
                    "values": o["values"],
                }
                for o in doc["options"]
            ],
            "variants": lambda _info, **args: connection(
                sorted(self.ops.catalog.product_variants(ident), key=lambda v: v["position"]),
                args,
                self.variant,
            ),
            **storefront.product_fields(self, doc),
        }

    def variant(self, doc: Doc) -> Doc:
        product = self.ops.shop.products.get(doc["product_id"]) or {}
        options = [o["name"] for o in product.get("options", [])]
        selected = [
            {"name": options[i] if i < len(options) else "Title", "value": doc[f"option{i + 1}"]}
            for i in range(3)
            if doc[f"option{i + 1}"] is not None
        ]
        return {
            "__typename": "ProductVariant",
            "id": doc["admin_graphql_api_id"],
            "legacyResourceId": str(doc["id"]),
            "title": doc["title"],
            "displayName": f"{product.get('title', '')} - {doc['title']}",
            "sku": doc["sku"],
            "barcode": doc["barcode"],
            "price": doc["price"],
            "compareAtPrice": doc["compare_at_price"],
            "position": doc["position"],
            "inventoryQuantity": lambda _info: self.ops.catalog.render_variant(doc)[
                "inventory_quantity"
            ],
            "inventoryPolicy": doc["inventory_policy"].upper(),
            "taxable": doc["taxable"],
            "selectedOptions": selected,
            "createdAt": doc["created_at"],
            "updatedAt": doc["updated_at"],
            "product": lambda _info: maybe(
                self.ops.shop.products.get(doc["product_id"]), self.product
            ),
            "inventoryItem": lambda _info: self.inventory_item(
                self.ops.inventory.inventory_item(doc["inventory_item_id"])
            ),
        }

    def inventory_item(self, doc: Doc) -> Doc:
        ident = doc["id"]
        variant = next(
            (v for v in self.ops.shop.variants.values() if v["inventory_item_id"] == ident), None
        )
        return {
            "__typename": "InventoryItem",
            "id": doc["admin_graphql_api_id"],
            "legacyResourceId": str(ident),
            "sku": doc["sku"],
            "tracked": doc["tracked"],
            "requiresShipping": doc["requires_shipping"],
            "createdAt": doc["created_at"],
            "updatedAt": doc["updated_at"],
            "unitCost": money_v2(doc["cost"], self.currency) if doc["cost"] else None,
            "countryCodeOfOrigin": doc["country_code_of_origin"],
            "harmonizedSystemCode": doc["harmonized_system_code"],
            "variant": lambda _info: self.variant(variant) if variant else None,
            "inventoryHistoryUrl": f"https://{self.ops.shop_doc()['myshopify_domain']}"
            f"/admin/products/inventory/{ident}/inventory_history",
            "locationsCount": lambda _info: storefront.exact(
                len(self.ops.inventory.levels_of_item(ident))
            ),
            "inventoryLevel": lambda _info, **args: self._level_by(
                ident, parse_gid(args["locationId"], "Location")
            ),
            "inventoryLevels": lambda _info, **args: connection(
                search(
                    self._levels(lambda lv: lv.inventory_item_id == ident),
                    args.get("query"),
                    LEVEL_SEARCH,
                ),
                args,
                self.level,
            ),
        }

    def customer(self, doc: Doc | None) -> Doc | None:
        if doc is None:
            return None
        name = " ".join(p for p in (doc["first_name"], doc["last_name"]) if p)
        return {
            "__typename": "Customer",
            "id": doc["admin_graphql_api_id"],
            "legacyResourceId": str(doc["id"]),
            "firstName": doc["first_name"],
            "lastName": doc["last_name"],
            "displayName": name or doc["email"] or "",
            "email": doc["email"],
            "phone": doc["phone"],
            "note": doc["note"],
            "tags": split_tags(doc["tags"]),
            "numberOfOrders": str(doc["orders_count"]),
            "createdAt": doc["created_at"],
            "updatedAt": doc["updated_at"],
            "defaultAddress": mailing(doc["default_address"]),
        }

    def order(self, stored: Doc) -> Doc:
        doc = self.ops.orders.render_order(stored)
        ident = doc["id"]
        return {
            "__typename": "Order",
            "id": doc["admin_graphql_api_id"],
            "legacyResourceId": str(ident),
            "name": doc["name"],
            "email": doc["email"] or None,
            "phone": doc["phone"],
            "note": doc["note"],
            "tags": split_tags(doc["tags"]),
            "test": doc["test"],
            "sourceName": doc["source_name"],
            "sourceIdentifier": doc.get("source_identifier"),
            "confirmed": doc["confirmed"],
            "closed": doc["closed_at"] is not None,
            "createdAt": doc["created_at"],
            "updatedAt": doc["updated_at"],
            "processedAt": doc["processed_at"],
            "closedAt": doc["closed_at"],
            "cancelledAt": doc["cancelled_at"],
            "cancelReason": doc["cancel_reason"].upper() if doc["cancel_reason"] else None,
            "currencyCode": doc["currency"],
            "displayFinancialStatus": doc["financial_status"].upper(),
            "displayFulfillmentStatus": display_fulfillment(
                doc, self.ops.fulfillment_orders.order_fulfillment_orders(ident)
            ),
            "fullyPaid": doc["financial_status"] in ("paid", "partially_refunded", "refunded"),
            "totalPriceSet": bag(doc["total_price_set"]),
            "subtotalPriceSet": bag(doc["subtotal_price_set"]),
            "totalTaxSet": bag(doc["total_tax_set"]),
            "totalShippingPriceSet": bag(doc["total_shipping_price_set"]),
            "totalDiscountsSet": bag(doc["total_discounts_set"]),
            "currentTotalPriceSet": bag(doc["current_total_price_set"]),
            "customer": self.customer(
                self.ops.shop.customers.get(doc["customer"]["id"]) if doc["customer"] else None
            ),
            "shippingAddress": mailing(doc["shipping_address"]),
            "billingAddress": mailing(doc["billing_address"]),
            "physicalLocation": (
                self.location(self.ops.locations.location(doc["location_id"]))
                if doc["location_id"] in self.ops.shop.locations
                else None
            ),
            "lineItems": lambda _info, **args: connection(
                stored["line_items"], args, lambda li: self.line_item(li, doc["currency"])
            ),
            "fulfillmentOrders": lambda _info, **args: connection(
                self.ops.fulfillment_orders.order_fulfillment_orders(ident),
                args,
                self.fulfillment_order,
            ),
            "fulfillments": lambda _info, first=None: [
                self.fulfillment(f) for f in self.ops.fulfillments.order_fulfillments(ident)[:first]
            ],
            "transactions": lambda _info, first=None: [
                self.transaction(t) for t in self.ops.payments.order_transactions(ident)[:first]
            ],
            "refunds": lambda _info, first=None: [self.refund(r) for r in doc["refunds"][:first]],
        }

    def line_item(self, li: Doc, currency: str) -> Doc:
        variant = self.ops.shop.variants.get(li["variant_id"]) if li["variant_id"] else None
        product = self.ops.shop.products.get(li["product_id"]) if li["product_id"] else None
        return {
            "__typename": "LineItem",
            "id": li["admin_graphql_api_id"],
            "name": li["name"],
            "title": li["title"],
            "variantTitle": li["variant_title"],
            "vendor": li["vendor"],
            "sku": li["sku"],
            "quantity": li["quantity"],
            "currentQuantity": li["current_quantity"],
            "unfulfilledQuantity": li["fulfillable_quantity"],
            "requiresShipping": li["requires_shipping"],
            "taxable": li["taxable"],
            "originalUnitPriceSet": bag(li["price_set"]),
            "variant": self.variant(variant) if variant else None,
            "product": (lambda _info: self.product(product)) if product else None,
        }

    def fulfillment_order(self, fo: Doc) -> Doc:
        order_doc = self.ops.shop.orders.get(fo["order_id"]) or {}
        lines = {li["id"]: li for li in order_doc.get("line_items", [])}
        assigned = fo["assigned_location"] or {}
        location_id = fo["assigned_location_id"]

        def line(fl: Doc) -> Doc:
            li = lines.get(fl["line_item_id"], {})
            variant = self.ops.shop.variants.get(fl["variant_id"]) if fl["variant_id"] else None
            return {
                "__typename": "FulfillmentOrderLineItem",
                "id": d.gid("FulfillmentOrderLineItem", fl["id"]),
                "totalQuantity": fl["quantity"],
                "remainingQuantity": fl["fulfillable_quantity"],
                "sku": li.get("sku"),
                "inventoryItemId": (
                    d.gid("InventoryItem", fl["inventory_item_id"])
                    if fl["inventory_item_id"]
                    else None
                ),
                "lineItem": self.line_item(li, order_doc.get("currency", self.currency))
                if li
                else None,
                "variant": self.variant(variant) if variant else None,
            }

        return {
            "__typename": "FulfillmentOrder",
            "id": d.gid("FulfillmentOrder", fo["id"]),
            "status": fo["status"].upper(),
            "requestStatus": fo["request_status"].upper(),
            "fulfillmentHolds": [
                {
                    "__typename": "FulfillmentHold",
                    "id": d.gid("FulfillmentHold", hold_id(fo["id"], position)),
                    "reason": str(hold["reason"]).upper(),
                    "reasonNotes": hold.get("reason_notes"),
                }
                for position, hold in enumerate(fo["fulfillment_holds"], 1)
            ],
            "createdAt": fo["created_at"],
            "updatedAt": fo["updated_at"],
            "fulfillAt": fo["fulfill_at"],
            "fulfillBy": fo["fulfill_by"],
            "orderId": d.gid("Order", fo["order_id"]),
            "orderName": order_doc.get("name", ""),
            "order": lambda _info: self.order(self.ops.orders.order_doc(fo["order_id"])),
            "assignedLocation": {
                "name": assigned.get("name") or "",
                "address1": assigned.get("address1"),
                "city": assigned.get("city"),
                "countryCode": assigned.get("country_code") or "US",
                "location": (
                    self.location(self.ops.locations.location(location_id))
                    if location_id in self.ops.shop.locations
                    else None
                ),
            },
            "supportedActions": [{"action": a.upper()} for a in fo["supported_actions"]],
            "lineItems": lambda _info, **args: connection(fo["line_items"], args, line),
        }

    def fulfillment(self, doc: Doc) -> Doc:
        tracking = [
            {"company": doc["tracking_company"], "number": n, "url": u}
            for n, u in zip(
                doc["tracking_numbers"],
                doc["tracking_urls"] + [None] * len(doc["tracking_numbers"]),
                strict=False,
            )
        ]
        location_id = doc["location_id"]
        return {
            "__typename": "Fulfillment",
            "id": doc["admin_graphql_api_id"],
            "legacyResourceId": str(doc["id"]),
            "name": doc["name"],
            "status": doc["status"].upper(),
            "createdAt": doc["created_at"],
            "updatedAt": doc["updated_at"],
            "trackingInfo": lambda _info, first=None: tracking[:first],
            "order": lambda _info: self.order(self.ops.orders.order_doc(doc["order_id"])),
            "location": (
                self.location(self.ops.locations.location(location_id))
                if location_id in self.ops.shop.locations
                else None
            ),
            "fulfillmentLineItems": lambda _info, **args: connection(
                doc["line_items"], args, lambda li: self.fulfillment_line(doc, li)
            ),
        }

    def fulfillment_line(self, fulfillment: Doc, li: Doc) -> Doc:
        return {
            "__typename": "FulfillmentLineItem",
            # one line of one fulfillment: Shopify's ids are their own; these are derived
            "id": d.gid("FulfillmentLineItem", fulfillment["id"] * 1000 + int(li["id"]) % 1000),
            "lineItem": self.line_item(li, self.currency),
            "quantity": li["quantity"],
        }

    def transaction(self, tx: Doc) -> Doc:
        parent = self.ops.shop.transactions.get(tx["parent_id"]) if tx["parent_id"] else None
        return {
            "__typename": "OrderTransaction",
            "id": tx["admin_graphql_api_id"],
            "kind": tx["kind"].upper(),
            "status": tx["status"].upper(),
            "gateway": tx["gateway"],
            "test": tx["test"],
            "amountSet": bag(d.money_set(tx["amount"], tx["currency"])),
            "createdAt": tx["created_at"],
            "processedAt": tx["processed_at"],
            "parentTransaction": (lambda _info: self.transaction(parent)) if parent else None,
        }

    def refund(self, doc: Doc) -> Doc:
        total = sum((d.dec(t["amount"]) for t in doc["transactions"]), d.dec(0))
        return {
            "__typename": "Refund",
            "id": doc["admin_graphql_api_id"],
            "legacyResourceId": str(doc["id"]),
            "note": doc["note"],
            "createdAt": doc["created_at"],
            "totalRefundedSet": bag(d.money_set(total, self.currency)),
            "order": lambda _info: self.order(self.ops.orders.order_doc(doc["order_id"])),
            "refundLineItems": lambda _info, **args: connection(
                doc["refund_line_items"], args, self.refund_line
            ),
        }

    def refund_line(self, line: Doc) -> Doc:
        location = line["location_id"]
        return {
            "id": d.gid("RefundLineItem", line["id"]),
            "lineItem": self.line_item(line["line_item"], self.currency),
            "quantity": line["quantity"],
            "restockType": str(line["restock_type"]).upper(),
            "restocked": line["restock_type"] != "no_restock",
            "location": (
                self.location(self.ops.locations.location(int(location)))
                if location is not None and int(location) in self.ops.shop.locations
                else None
            ),
            "subtotalSet": bag(line["subtotal_set"]),
            "totalTaxSet": bag(line["total_tax_set"]),
        }

    def subscription(self, sub: Subscription) -> Doc:
        if sub.address.startswith("pubsub://"):
            project, _, topic = sub.address.removeprefix("pubsub://").partition(":")
            endpoint: Doc = {
                "__typename": "WebhookPubSubEndpoint",
                "pubSubProject": project,
                "pubSubTopic": topic,
            }
        elif sub.address.startswith("arn:"):
            endpoint = {"__typename": "WebhookEventBridgeEndpoint", "arn": sub.address}
        else:
            endpoint = {"__typename": "WebhookHttpEndpoint", "callbackUrl": sub.address}
        return {
            "__typename": "WebhookSubscription",
            "id": d.gid("WebhookSubscription", sub.id),
            "legacyResourceId": str(sub.id),
            "topic": topic_enum(sub.topic),
            "format": sub.format.upper(),
            "uri": sub.address,
            "callbackUrl": sub.address,
            "endpoint": endpoint,
            "includeFields": list(sub.fields),
            "metafieldNamespaces": list(sub.metafield_namespaces),
            "filter": sub.filter,
            "apiVersion": {
                "handle": sub.api_version,
                "displayName": sub.api_version,
                "supported": True,
            },
            "createdAt": sub.created_at,
            "updatedAt": sub.updated_at,
        }


def display_fulfillment(doc: Doc, fulfillment_orders: list[Doc]) -> str:
    status = doc["fulfillment_status"]
    if status == "fulfilled":
        return "FULFILLED"
    if any(fo["status"] == "on_hold" for fo in fulfillment_orders):
        return "ON_HOLD"  # what is left to ship is held
    if status == "partial":
        return "PARTIALLY_FULFILLED"
    return "UNFULFILLED"


def maybe(doc: Doc | None, make: Callable[[Doc], Doc]) -> Doc | None:
    return make(doc) if doc is not None else None
