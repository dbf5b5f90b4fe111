"""What happens in a shop: the rules behind every write, shared by the REST API, the
GraphQL API, the control API and the order generator.

Each operation changes the shop's documents under the state lock and records the
webhook topics Shopify would fire; the caller hands them to the delivery worker.
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.state import (
    PLAN_LIMITS,
    Doc,
    Level,
    SandboxState,
    ShopData,
)


class ShopifyError(Exception):
    """An answer Shopify gives instead of a resource: ``errors`` is its JSON body value."""

    def __init__(self, status: int, errors: object) -> None:
        super().__init__(str(errors))
        self.status = status
        self.errors = errors


def not_found() -> ShopifyError:
    return ShopifyError(404, "Not Found")


def unprocessable(field_name: str, message: str) -> ShopifyError:
    return ShopifyError(422, {field_name: [message]})


@dataclass(frozen=True)
class Event:
    """One webhook-worthy change: the topic and the payload Shopify would send."""

    shop: str
    topic: str
    payload: Doc
    actor: str | None = None  # api_key of the app whose call caused it


# Since 2024-04 the REST product endpoints write at most 100 variants per product.
REST_VARIANT_LIMIT = 100

InventoryBehaviour = Literal["bypass", "decrement_ignoring_policy", "decrement_obeying_policy"]


@dataclass
class ShopOps:
    """The operations of one shop. Construct per call, under ``state.lock``."""

    state: SandboxState
    shop: ShopData
    actor: str | None = None
    events: list[Event] = field(default_factory=list)

    # --- helpers ---------------------------------------------------------------------

    @property
    def currency(self) -> str:
        return str(self.shop.settings.currency)

    def now(self) -> str:
        return d.stamp(self.shop.settings)

    def emit(self, topic: str, payload: Doc) -> None:
        self.events.append(Event(self.shop.settings.name, topic, payload, self.actor))

    def _get(self, table: Any, ident: int) -> Doc:
        doc = table.get(ident)
        if doc is None:
            raise not_found()
        return doc  # type: ignore[no-any-return]

    # --- shop and locations ------------------------------------------------------------

    def shop_doc(self) -> Doc:
        limits = PLAN_LIMITS[self.shop.settings.plan]
        created = d.stamp(self.shop.settings, datetime(2024, 1, 1, tzinfo=UTC))
        return d.shop(self.shop.settings, limits.plan_name, limits.plan_display_name, created)

    def add_location(self, data: Doc, ident: int | None = None) -> Doc:
        ident = self.state.claim_id(ident)
        doc = d.location(self.shop.settings, ident, data, self.now())
        self.shop.locations.put(ident, doc)
        if self.shop.settings.primary_location_id is None:
            self.shop.settings.primary_location_id = ident
            self.shop.save_settings()
        return doc

    def location(self, ident: int) -> Doc:
        return self._get(self.shop.locations, ident)

    def primary_location_id(self) -> int:
        primary = self.shop.settings.primary_location_id
        if primary is None:
            primary = int(self.add_location({"name": "Shop location"})["id"])
        return int(primary)

    # --- catalog -----------------------------------------------------------------------

    def render_product(self, doc: Doc) -> Doc:
        out = dict(doc)
        variants = sorted(
            (self.render_variant(v) for v in self.product_variants(doc["id"])),
            key=lambda v: v["position"],
        )
        out["variants"] = variants
        out["image"] = doc["images"][0] if doc["images"] else None
        return out

    def product_variants(self, product_id: int) -> list[Doc]:
        return self.shop.variants.group(product_id)

    def render_variant(self, doc: Doc) -> Doc:
        out = dict(doc)
        total = sum(level.available for level in self.levels_of_item(doc["inventory_item_id"]))
        out["inventory_quantity"] = total
        out["old_inventory_quantity"] = total
        return out

    def create_product(self, data: Doc, ident: int | None = None) -> Doc:
        ident = self.state.claim_id(ident)
        now = self.now()
        doc = d.product(ident, data, now)
        self.shop.products.put(ident, doc)
        variants = data.get("variants") or [{}]
        for position, vdata in enumerate(variants, start=1):
            self._create_variant(doc, vdata, position, now)
        self._set_options(doc, data.get("options"))
        self._set_images(doc, data.get("images") or [], now)
        self.shop.products.put(ident, doc)
        rendered = self.render_product(doc)
        self.emit("products/create", rendered)
        return rendered

    def _create_variant(self, product: Doc, data: Doc, position: int, now: str) -> Doc:
        ident = self.state.claim_id(data.get("id"))
        item_id = self.state.claim_id(data.get("inventory_item_id"))
        item = d.inventory_item(item_id, data, now)
        self.shop.inventory_items.put(item_id, item)
        doc = d.variant(ident, product["id"], item_id, position, data, now, self.currency)
        self.shop.variants.put(ident, doc)
        stock = data.get("inventory_quantity")
        if stock is not None:
            self._level(item_id, self.primary_location_id(), create=True).available = int(stock)
            self._save_level(item_id, self.primary_location_id())
        for location_id, quantity in (data.get("stock") or {}).items():
            self._level(item_id, int(location_id), create=True).available = int(quantity)
            self._save_level(item_id, int(location_id))
        return doc

    def _set_options(self, product: Doc, declared: list[Doc] | None) -> None:
        variants = sorted(self.product_variants(product["id"]), key=lambda v: v["position"])
        existing = product.get("options") or []
        options = []
        for index in range(3):
            values = []
            for v in variants:
                value = v[f"option{index + 1}"]
                if value is not None and value not in values:
                    values.append(value)
            if not values:
                continue
            name = "Title"
            if declared and index < len(declared):
                name = declared[index].get("name", name)
            elif index < len(existing):
                name = existing[index]["name"]
            ident = existing[index]["id"] if index < len(existing) else self.state.next_id()
            options.append(
                {
                    "id": ident,
                    "product_id": product["id"],
                    "name": name,
                    "position": index + 1,
                    "values": values,
                }
            )
        product["options"] = options

    def _set_images(self, product: Doc, wanted: list[Doc], now: str) -> None:
        current = {img["id"]: img for img in product.get("images", [])}
        images: list[Doc] = []
        for position, spec in enumerate(wanted, start=1):
            if spec.get("id") in current:
                img = dict(current[spec["id"]])
            else:
                img = d.image(self.state.next_id(), product["id"], position, spec, now)
            img["position"] = spec.get("position", position)
            images.append(img)
        images.sort(key=lambda img: img["position"])
        for position, img in enumerate(images, start=1):
            img["position"] = position
        product["images"] = images

    def product(self, ident: int) -> Doc:
        return self.render_product(self._get(self.shop.products, ident))

    def update_product(self, ident: int, data: Doc) -> Doc:
        doc = self._get(self.shop.products, ident)
        now = self.now()
        for key in ("title", "body_html", "vendor", "product_type", "handle", "template_suffix"):
            if key in data:
                doc[key] = data[key]
        if "tags" in data:
            doc["tags"] = d.normalise_tags(data["tags"])
        if "status" in data:
            doc["status"] = data["status"]
        if "published" in data:
            doc["published_at"] = now if data["published"] else None
        if "images" in data:
            self._set_images(doc, data["images"], now)
        if "variants" in data:
            self._replace_variants(doc, data["variants"], now)
        self._set_options(doc, data.get("options"))
        doc["updated_at"] = now
        self.shop.products.put(ident, doc)
        rendered = self.render_product(doc)
        self.emit("products/update", rendered)
        return rendered

    def _replace_variants(self, product: Doc, wanted: list[Doc], now: str) -> None:
        kept: set[int] = set()
        for position, spec in enumerate(wanted, start=1):
            existing = self.shop.variants.get(spec["id"]) if spec.get("id") else None
            if existing is not None and existing["product_id"] == product["id"]:
                self._apply_variant(existing, spec, now)
                existing["position"] = position
                self.shop.variants.put(existing["id"], existing)
                kept.add(existing["id"])
            else:
                kept.add(self._create_variant(product, spec, position, now)["id"])
        for v in self.product_variants(product["id"]):
            if v["id"] not in kept:
                self.shop.variants.delete(v["id"])

    def _apply_variant(self, doc: Doc, data: Doc, now: str) -> None:
        for key in ("price", "compare_at_price"):
            if key in data:
                doc[key] = d.money(data[key]) if data[key] not in (None, "") else None
        for key in (
            "sku",
            "barcode",
            "option1",
            "option2",
            "option3",
            "inventory_policy",
            "taxable",
            "grams",
            "weight",
            "weight_unit",
            "image_id",
            "requires_shipping",
            "tax_code",
            "inventory_management",
        ):
            if key in data:
                doc[key] = data[key]
        if any(f"option{i}" in data for i in (1, 2, 3)):
            doc["title"] = " / ".join(
                str(doc[f"option{i}"]) for i in (1, 2, 3) if doc[f"option{i}"] is not None
            )
        if "price" in data:
            doc["presentment_prices"][0]["price"]["amount"] = doc["price"]
        if "sku" in data:
            item = self.shop.inventory_items.get(doc["inventory_item_id"])
            if item is not None:
                item["sku"] = data["sku"]
                self.shop.inventory_items.put(item["id"], item)
        doc["updated_at"] = now

    def delete_product(self, ident: int) -> None:
        self._get(self.shop.products, ident)
        for v in self.product_variants(ident):
            self.shop.variants.delete(v["id"])
        self.shop.products.delete(ident)
        self.emit("products/delete", {"id": ident})

    def variant(self, ident: int) -> Doc:
        return self.render_variant(self._get(self.shop.variants, ident))

    def variants_by_sku(self, sku: str) -> list[Doc]:
        return [v for v in self.shop.variants.values() if v["sku"] == sku]

    def create_variant(self, product_id: int, data: Doc, ident: int | None = None) -> Doc:
        product = self._get(self.shop.products, product_id)
        siblings = self.product_variants(product_id)
        if len(siblings) >= REST_VARIANT_LIMIT:
            raise unprocessable(
                "base", "The number of variants on this product has reached the limit of 100."
            )
        for v in siblings:
            same = all(v[f"option{i}"] == data.get(f"option{i}") for i in (1, 2, 3))
            if same:
                raise unprocessable("base", f"The variant '{data.get('option1')}' already exists.")
        now = self.now()
        spec = dict(data, id=ident) if ident else data
        doc = self._create_variant(product, spec, len(siblings) + 1, now)
        self._set_options(product, None)
        product["updated_at"] = now
        self.shop.products.put(product_id, product)
        self.emit("products/update", self.render_product(product))
        return self.render_variant(doc)

    def update_variant(self, ident: int, data: Doc) -> Doc:
        doc = self._get(self.shop.variants, ident)
        self._apply_variant(doc, data, self.now())
        self.shop.variants.put(ident, doc)
        product = self.shop.products.get(doc["product_id"])
        if product is not None:
            self._set_options(product, None)
            self.shop.products.put(product["id"], product)
            self.emit("products/update", self.render_product(product))
        return self.render_variant(doc)

    def delete_variant(self, product_id: int, ident: int) -> None:
        doc = self._get(self.shop.variants, ident)
        if doc["product_id"] != product_id:
            raise not_found()
        self.shop.variants.delete(ident)
        product = self._get(self.shop.products, product_id)
        self._set_options(product, None)
        self.shop.products.put(product_id, product)
        self.emit("products/update", self.render_product(product))

    # --- inventory ---------------------------------------------------------------------

    def inventory_item(self, ident: int) -> Doc:
        return self._get(self.shop.inventory_items, ident)

    def update_inventory_item(self, ident: int, data: Doc) -> Doc:
        doc = self._get(self.shop.inventory_items, ident)
        for key in (
            "sku",
            "tracked",
            "requires_shipping",
            "country_code_of_origin",
            "province_code_of_origin",
            "harmonized_system_code",
        ):
            if key in data:
                doc[key] = data[key]
        if "cost" in data:
            doc["cost"] = d.money(data["cost"]) if data["cost"] not in (None, "") else None
        doc["updated_at"] = self.now()
        self.shop.inventory_items.put(ident, doc)
        if "sku" in data:
            for v in self.shop.variants.values():
                if v["inventory_item_id"] == ident:
                    v["sku"] = data["sku"]
                    self.shop.variants.put(v["id"], v)
        self.emit("inventory_items/update", doc)
        return doc

    def levels_of_item(self, item_id: int) -> list[Level]:
        return self.shop.levels.group(item_id)

    def _level(self, item_id: int, location_id: int, create: bool = False) -> Level:
        level = self.shop.levels.get((item_id, location_id))
        if level is None:
            if not create:
                raise unprocessable(
                    "base",
                    "Inventory item does not have inventory tracking enabled or is not "
                    "stocked at this location",
                )
            if item_id not in self.shop.inventory_items:
                raise ShopifyError(422, {"inventory_item_id": ["not found"]})
            if location_id not in self.shop.locations:
                raise ShopifyError(422, {"location_id": ["not found"]})
            level = Level(item_id, location_id, self.now())
            self.shop.levels.put((item_id, location_id), level)
        return level

    def _save_level(self, item_id: int, location_id: int, notify: bool = True) -> Doc:
        level = self.shop.levels.get((item_id, location_id))
        assert level is not None
        level.updated_at = self.now()
        self.shop.levels.put((item_id, location_id), level)
        doc = d.inventory_level(level)
        if notify:
            self.emit("inventory_levels/update", doc)
        return doc

    def levels(self, item_ids: set[int] | None, location_ids: set[int] | None) -> list[Doc]:
        found = [
            lv
            for lv in self.shop.levels.values()
            if (item_ids is None or lv.inventory_item_id in item_ids)
            and (location_ids is None or lv.location_id in location_ids)
        ]
        found.sort(key=lambda lv: (lv.location_id, lv.inventory_item_id))
        return [d.inventory_level(lv) for lv in found]

    def level(self, item_id: int, location_id: int) -> Level | None:
        return self.shop.levels.get((item_id, location_id))

    def set_available(self, item_id: int, location_id: int, available: int) -> Doc:
        level = self._level(item_id, location_id, create=True)
        level.available = int(available)
        return self._save_level(item_id, location_id)

    def adjust_available(self, item_id: int, location_id: int, delta: int) -> Doc:
        level = self._level(item_id, location_id)
        level.available += int(delta)
        return self._save_level(item_id, location_id)

    def connect(self, item_id: int, location_id: int) -> Doc:
        self._level(item_id, location_id, create=True)
        doc = self._save_level(item_id, location_id, notify=False)
        self.emit("inventory_levels/connect", doc)
        return doc

    def disconnect(self, item_id: int, location_id: int) -> None:
        level = self.shop.levels.get((item_id, location_id))
        if level is None:
            raise not_found()
        self.shop.levels.delete((item_id, location_id))
        self.emit(
            "inventory_levels/disconnect",
            {"inventory_item_id": item_id, "location_id": location_id},
        )

    def change_quantity(self, item_id: int, location_id: int, name: str, delta: int) -> Level:
        """GraphQL's named quantities; ``on_hand`` moves ``available`` with it."""
        level = self._level(item_id, location_id, create=True)
        target = "available" if name == "on_hand" else name
        setattr(level, target, getattr(level, target) + delta)
        self._save_level(item_id, location_id, notify=target == "available")
        return level

    # --- customers ---------------------------------------------------------------------

    def _email_taken(self, email: str | None, by: int | None = None) -> bool:
        """Shopify keeps one customer per email, whatever its case."""
        wanted = (email or "").strip().casefold()
        return bool(wanted) and any(
            (c.get("email") or "").strip().casefold() == wanted and c["id"] != by
            for c in self.shop.customers.values()
        )

    def create_customer(self, data: Doc, ident: int | None = None) -> Doc:
        if self._email_taken(data.get("email")):
            raise unprocessable("email", "has already been taken")
        ident = self.state.claim_id(ident)
        doc = d.customer(ident, data, self.now(), self.currency)
        self._set_addresses(doc, data.get("addresses") or [])
        self.shop.customers.put(ident, doc)
        self.emit("customers/create", doc)
        return doc

    def _set_addresses(self, doc: Doc, addresses: list[Doc]) -> None:
        built = [
            d.customer_address(
                a.get("id") or self.state.next_id(), doc["id"], a, default=index == 0
            )
            for index, a in enumerate(addresses)
        ]
        doc["addresses"] = built
        doc["default_address"] = built[0] if built else None

    def customer(self, ident: int) -> Doc:
        return self._get(self.shop.customers, ident)

    def update_customer(self, ident: int, data: Doc) -> Doc:
        doc = self._get(self.shop.customers, ident)
        if "email" in data and self._email_taken(data["email"], by=ident):
            raise unprocessable("email", "has already been taken")
        for key in ("email", "first_name", "last_name", "note", "phone", "verified_email"):
            if key in data:
                doc[key] = data[key]
        if "tags" in data:
            doc["tags"] = d.normalise_tags(data["tags"])
        if "accepts_marketing" in data:
            consent = doc["email_marketing_consent"]
            consent["state"] = "subscribed" if data["accepts_marketing"] else "not_subscribed"
            consent["opt_in_level"] = data.get("marketing_opt_in_level", consent["opt_in_level"])
            consent["consent_updated_at"] = data.get("accepts_marketing_updated_at", self.now())
        if "addresses" in data:
            self._set_addresses(doc, data["addresses"])
        doc["updated_at"] = self.now()
        self.shop.customers.put(ident, doc)
        self.emit("customers/update", doc)
        return doc

    def delete_customer(self, ident: int) -> None:
        self._get(self.shop.customers, ident)
        self.shop.customers.delete(ident)
        self.emit("customers/delete", {"id": ident})

    def search_customers(self, query: str) -> list[Doc]:
        terms = _parse_search(query)
        return [c for c in self.shop.customers.values() if _matches(c, terms)]

    def _customer_for_order(self, data: Doc | None, email: str | None) -> Doc | None:
        if data and data.get("id"):
            found = self.shop.customers.get(int(data["id"]))
            if found is None:
                raise unprocessable("customer", "not found")
            return found
        email = (data or {}).get("email") or email
        if email:
            for c in self.shop.customers.values():
                if (c["email"] or "").casefold() == email.casefold():
                    return c
        if data and (data.get("email") or data.get("first_name") or data.get("last_name")):
            return self.create_customer(data)
        return None

    # --- orders ------------------------------------------------------------------------

    def render_order(self, doc: Doc) -> Doc:
        out = dict(doc)
        out["line_items"] = [public(li) for li in doc["line_items"]]
        out["fulfillments"] = [
            self.render_fulfillment(f) for f in self.order_fulfillments(doc["id"])
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
        customer = self._customer_for_order(data.get("customer"), data.get("email"))
        doc["_customer_id"] = customer["id"] if customer else None
        if customer and not doc["email"]:
            doc["email"] = customer["email"] or ""
            doc["contact_email"] = customer["email"]
        self.shop.orders.put(ident, doc)
        self._create_fulfillment_orders(doc, now, data.get("location_id"))
        if inventory_behaviour != "bypass":
            self._commit_stock(doc, obey_policy=inventory_behaviour == "decrement_obeying_policy")
        self._record_payment(doc, data)
        if customer:
            self._count_order(customer, doc)
        self.shop.orders.put(ident, doc)
        if data.get("fulfillment_status") == "fulfilled":
            for fo in self.order_fulfillment_orders(ident):
                self.create_fulfillment(
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

    def _choose_location(self, line: Doc, fixed: int | None) -> int:
        if fixed is not None:
            return int(fixed)
        item_id = line.get("_inventory_item_id")
        primary = self.primary_location_id()
        if item_id is None:
            return primary
        levels = sorted(
            self.levels_of_item(item_id), key=lambda lv: (lv.location_id != primary, lv.location_id)
        )
        for lv in levels:
            if lv.available >= line["quantity"]:
                return lv.location_id
        return levels[0].location_id if levels else primary

    def _create_fulfillment_orders(self, order_doc: Doc, now: str, fixed: int | None) -> None:
        groups: dict[int, list[Doc]] = {}
        for line in order_doc["line_items"]:
            if line["requires_shipping"] or fixed is not None:
                groups.setdefault(self._choose_location(line, fixed), []).append(line)
        for location_id, lines in groups.items():
            fo_id = self.state.next_id()
            fo = d.fulfillment_order(
                self.shop.settings,
                fo_id,
                order_doc,
                location_id,
                self.shop.locations.get(location_id),
                now,
            )
            fo["line_items"] = [
                d.fulfillment_order_line(
                    self.state.next_id(), self.shop.settings.id, fo_id, li, li["quantity"]
                )
                for li in lines
            ]
            fo["supported_actions"] = list(d.FO_ACTIONS["open"])
            self.shop.fulfillment_orders.put(fo_id, fo)
            for li in lines:
                li["_location_id"] = location_id

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
            self._save_level(item_id, location_id)

    def _record_payment(self, order_doc: Doc, data: Doc) -> None:
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
            self._add_transaction(order_doc, spec)
        order_doc["financial_status"] = wanted or self._financial_status(order_doc)

    def _add_transaction(self, order_doc: Doc, spec: Doc, ident: int | None = None) -> Doc:
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

    def _financial_status(self, order_doc: Doc) -> str:
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
        return self._save_order(doc)

    def _save_order(self, doc: Doc, topics: Iterable[str] = ()) -> Doc:
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
        return self._save_order(doc)

    def open_order(self, ident: int) -> Doc:
        doc = self.order_doc(ident)
        doc["closed_at"] = None
        return self._save_order(doc)

    def cancel_order(self, ident: int, data: Doc) -> Doc:
        doc = self.order_doc(ident)
        if doc["cancelled_at"]:
            raise unprocessable("order", "has already been cancelled")
        if any(f["status"] == "success" for f in self.order_fulfillments(ident)):
            raise unprocessable("order", "Cannot cancel an order that has fulfillments")
        now = self.now()
        for fo in self.order_fulfillment_orders(ident):
            if fo["status"] in ("open", "scheduled", "on_hold", "in_progress"):
                fo["status"] = "closed"
                fo["supported_actions"] = []
                self.shop.fulfillment_orders.put(fo["id"], fo)
        self._release_stock(doc)
        # Money goes back only when asked for, with a refund or an amount (as the REST
        # cancel endpoint documents); otherwise the merchant refunds separately.
        if data.get("refund"):
            self.create_refund(ident, data["refund"], announce=False)
        elif data.get("amount"):
            self._refund_money(doc, d.dec(data["amount"]))
        doc = self.order_doc(ident)
        for txn in self.order_transactions(ident):
            if txn["kind"] == "authorization" and doc["financial_status"] == "authorized":
                self._add_transaction(
                    doc, {"kind": "void", "parent_id": txn["id"], "amount": txn["amount"]}
                )
        doc["financial_status"] = self._financial_status(doc)
        doc["cancelled_at"] = now
        doc["closed_at"] = now
        doc["cancel_reason"] = data.get("reason", "other")
        for line in doc["line_items"]:
            line["fulfillable_quantity"] = 0
        self.shop.orders.put(ident, doc)
        return self._save_order(doc, topics=("orders/cancelled",))

    def _release_stock(self, doc: Doc) -> None:
        for line in doc["line_items"]:
            item_id, location_id = line.get("_inventory_item_id"), line.get("_location_id")
            level = self.shop.levels.get((item_id, location_id)) if item_id else None
            if level is None or level.committed <= 0:
                continue
            qty = min(level.committed, line["fulfillable_quantity"])
            level.committed -= qty
            level.available += qty
            self._save_level(item_id, location_id)

    def _refund_money(self, doc: Doc, amount: Decimal) -> None:
        parent = next(
            (
                t
                for t in self.order_transactions(doc["id"])
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

    def delete_order(self, ident: int) -> None:
        self.order_doc(ident)
        self.shop.orders.delete(ident)
        self.emit("orders/delete", {"id": ident})

    def orders(self) -> list[Doc]:
        return self.shop.orders.values()

    # --- payments ----------------------------------------------------------------------

    def create_transaction(self, order_id: int, data: Doc) -> Doc:
        doc = self.order_doc(order_id)
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
        tx = self._add_transaction(doc, spec)
        doc["financial_status"] = self._financial_status(doc)
        topics = ["orders/paid"] if doc["financial_status"] == "paid" != before else []
        self._save_order(doc, topics=topics)
        return tx

    def mark_paid(self, order_id: int) -> Doc:
        """Move an order to paid as its payment provider would (capture or sale)."""
        doc = self.order_doc(order_id)
        if doc["financial_status"] == "paid":
            return self.render_order(doc)
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
        return self.order(order_id)

    # --- refunds -----------------------------------------------------------------------

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
        doc = self.order_doc(order_id)
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
            (t for t in self.order_transactions(order_id) if t["kind"] in ("sale", "capture")), None
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
        doc = self.order_doc(order_id)
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
            txs.append(self._add_transaction(doc, tx_spec))
        refund = d.refund(refund_id, order_id, data, lines, txs, self.now(), cur)
        self.shop.refunds.put(refund_id, refund)
        d.set_totals(doc, cur)
        doc["financial_status"] = self._financial_status(doc)
        self.shop.orders.put(order_id, doc)
        self.emit("refunds/create", refund)
        if announce:
            self._save_order(doc)
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
        self._save_level(item_id, int(location_id))

    def order_refunds(self, order_id: int) -> list[Doc]:
        self.order_doc(order_id)
        return sorted(
            self.shop.refunds.group(order_id),
            key=lambda r: r["id"],
        )

    # --- fulfillment orders ------------------------------------------------------------

    def order_fulfillment_orders(self, order_id: int) -> list[Doc]:
        return sorted(
            self.shop.fulfillment_orders.group(order_id),
            key=lambda fo: fo["id"],
        )

    def fulfillment_order(self, ident: int) -> Doc:
        return self._get(self.shop.fulfillment_orders, ident)

    def render_fulfillment_order(
        self, fo: Doc, with_order_fields: bool = False, with_financials: bool = False
    ) -> Doc:
        out = dict(fo)
        if with_financials:
            out["line_items"] = [self._with_financials(fo, li) for li in fo["line_items"]]
        if with_order_fields:
            order_doc = self.shop.orders.get(fo["order_id"]) or {}
            out["channel_id"] = None
            out["order_name"] = order_doc.get("name")
            out["order_processed_at"] = order_doc.get("processed_at")
        return out

    def _with_financials(self, fo: Doc, fo_line: Doc) -> Doc:
        order_doc = self.shop.orders.get(fo["order_id"]) or {"line_items": []}
        line = next(
            (li for li in order_doc["line_items"] if li["id"] == fo_line["line_item_id"]), None
        )
        if line is None:
            return dict(fo_line, financial_summaries=[])
        per_unit = sum((d.dec(a["amount"]) for a in line["discount_allocations"]), Decimal(0))
        per_unit /= max(line["quantity"], 1)
        summary = {
            "quantity": fo_line["quantity"],
            "original_unit_price_set": line["price"],
            "approximate_discounted_unit_price_set": d.money(d.dec(line["price"]) - per_unit),
            "discount_allocations": [
                {
                    "amount": a["amount"],
                    "discount_application": {
                        "allocation_method": "across",
                        "target_selection": "all",
                        "target_type": "line_item",
                    },
                }
                for a in line["discount_allocations"]
            ],
        }
        return dict(fo_line, financial_summaries=[summary])

    def _set_fo_status(self, fo: Doc, status: str) -> None:
        fo["status"] = status
        fo["supported_actions"] = list(d.FO_ACTIONS.get(status, []))
        fo["updated_at"] = self.now()
        self.shop.fulfillment_orders.put(fo["id"], fo)

    def cancel_fulfillment_order(self, ident: int) -> tuple[Doc, Doc | None]:
        fo = self.fulfillment_order(ident)
        if fo["status"] in ("closed", "cancelled"):
            raise unprocessable("base", "Fulfillment order is not in a cancelable state")
        replacement = self._copy_fulfillment_order(fo, fo["assigned_location_id"], fo["line_items"])
        self._set_fo_status(fo, "closed")
        fo["line_items"] = []
        self.shop.fulfillment_orders.put(ident, fo)
        return fo, replacement

    def _copy_fulfillment_order(self, fo: Doc, location_id: int, lines: list[Doc]) -> Doc:
        new_id = self.state.next_id()
        copy_ = copy.deepcopy(fo)
        loc = self.shop.locations.get(location_id)
        copy_.update(
            id=new_id,
            created_at=self.now(),
            updated_at=self.now(),
            assigned_location_id=location_id,
            assigned_location=d.fo_location(loc, location_id),
            origin=d.fo_location(loc, location_id),
            request_status="unsubmitted",
            fulfillment_holds=[],
        )
        copy_["line_items"] = [
            dict(li, id=self.state.next_id(), fulfillment_order_id=new_id) for li in lines
        ]
        self._set_fo_status(copy_, "open")
        return copy_

    def close_fulfillment_order(self, ident: int, message: str | None) -> Doc:
        fo = self.fulfillment_order(ident)
        self._set_fo_status(fo, "incomplete")
        return fo

    def open_fulfillment_order(self, ident: int) -> Doc:
        fo = self.fulfillment_order(ident)
        if fo["status"] not in ("scheduled", "open"):
            raise unprocessable("base", "Fulfillment order is not in a state that can be opened")
        fo["fulfill_at"] = None
        self._set_fo_status(fo, "open")
        return fo

    def reschedule_fulfillment_order(self, ident: int, new_fulfill_at: str) -> Doc:
        fo = self.fulfillment_order(ident)
        if fo["status"] in ("closed", "cancelled"):
            raise unprocessable("base", "Fulfillment order is closed")
        fo["fulfill_at"] = new_fulfill_at
        self._set_fo_status(fo, "scheduled")
        return fo

    def hold_fulfillment_order(self, ident: int, hold: Doc) -> Doc:
        fo = self.fulfillment_order(ident)
        if fo["status"] not in ("open", "on_hold", "in_progress"):
            raise unprocessable("base", "Fulfillment order is not in a state that can be held")
        fo["fulfillment_holds"].append(
            {"reason": hold.get("reason", "other"), "reason_notes": hold.get("reason_notes")}
        )
        self._set_fo_status(fo, "on_hold")
        return fo

    def release_hold(self, ident: int) -> Doc:
        fo = self.fulfillment_order(ident)
        if fo["status"] != "on_hold":
            raise unprocessable("base", "Fulfillment order is not on hold")
        fo["fulfillment_holds"] = []
        self._set_fo_status(fo, "open")
        return fo

    def move_fulfillment_order(
        self, ident: int, new_location_id: int, line_specs: list[Doc] | None
    ) -> tuple[Doc, Doc, Doc | None]:
        fo = self.fulfillment_order(ident)
        if new_location_id not in self.shop.locations:
            raise unprocessable("new_location_id", "Location not found")
        if fo["status"] not in ("open", "in_progress"):
            raise unprocessable("base", "Fulfillment order is not in a movable state")
        wanted = {int(s["id"]): int(s["quantity"]) for s in line_specs or []}
        moved, remaining = [], []
        for li in fo["line_items"]:
            qty = (
                wanted.get(li["id"], li["fulfillable_quantity"]) if wanted or not line_specs else 0
            )
            if wanted and li["id"] not in wanted:
                qty = 0
            if qty:
                moved.append(dict(li, quantity=qty, fulfillable_quantity=qty))
            if li["fulfillable_quantity"] - qty > 0:
                left = li["fulfillable_quantity"] - qty
                remaining.append(dict(li, quantity=left, fulfillable_quantity=left))
        moved_fo = self._copy_fulfillment_order(fo, new_location_id, moved)
        remaining_fo = None
        if remaining:
            remaining_fo = self._copy_fulfillment_order(fo, fo["assigned_location_id"], remaining)
        fo["line_items"] = []
        self._set_fo_status(fo, "closed")
        return fo, moved_fo, remaining_fo

    def set_deadline(self, ids: list[int], deadline: str) -> None:
        for ident in ids:
            fo = self.fulfillment_order(int(ident))
            fo["fulfill_by"] = deadline
            self.shop.fulfillment_orders.put(fo["id"], fo)

    # --- fulfillments ------------------------------------------------------------------

    def render_fulfillment(self, doc: Doc) -> Doc:
        return public(doc)

    def order_fulfillments(self, order_id: int) -> list[Doc]:
        return sorted(
            self.shop.fulfillments.group(order_id),
            key=lambda f: f["id"],
        )

    def fulfillment(self, ident: int) -> Doc:
        return self._get(self.shop.fulfillments, ident)

    def create_fulfillment(self, data: Doc, announce_order: bool = True) -> Doc:
        groups = data.get("line_items_by_fulfillment_order") or []
        if not groups:
            raise ShopifyError(
                422, {"fulfillment": ["line_items_by_fulfillment_order is required"]}
            )
        picked: list[tuple[Doc, Doc, int]] = []
        order_id = None
        for group in groups:
            fo = self.shop.fulfillment_orders.get(int(group["fulfillment_order_id"]))
            if fo is None:
                raise not_found()
            if fo["status"] not in ("open", "in_progress"):
                raise unprocessable(
                    "fulfillment_order", "Fulfillment order is not in a fulfillable state"
                )
            if order_id is not None and fo["order_id"] != order_id:
                raise unprocessable(
                    "fulfillment_order", "All fulfillment orders must belong to the same order"
                )
            order_id = fo["order_id"]
            specs = group.get("fulfillment_order_line_items")
            by_id = {li["id"]: li for li in fo["line_items"]}
            if specs:
                for spec in specs:
                    li = by_id.get(int(spec["id"]))
                    if li is None or int(spec["quantity"]) > li["fulfillable_quantity"]:
                        raise unprocessable(
                            "fulfillment_order_line_items",
                            "Invalid fulfillment order line item quantity requested.",
                        )
                    picked.append((fo, li, int(spec["quantity"])))
            else:
                picked.extend(
                    (fo, li, li["fulfillable_quantity"])
                    for li in fo["line_items"]
                    if li["fulfillable_quantity"] > 0
                )
        assert order_id is not None
        order_doc = self.order_doc(order_id)
        if order_doc["cancelled_at"]:
            raise unprocessable("order", "is cancelled")
        lines_by_id = {li["id"]: li for li in order_doc["line_items"]}
        shown: list[Doc] = []
        location_id = picked[0][0]["assigned_location_id"] if picked else None
        for fo, fo_line, qty in picked:
            fo_line["fulfillable_quantity"] -= qty
            line = lines_by_id[fo_line["line_item_id"]]
            line["fulfillable_quantity"] = max(0, line["fulfillable_quantity"] - qty)
            line["fulfillment_status"] = (
                "fulfilled" if line["fulfillable_quantity"] == 0 else "partial"
            )
            item_id = line.get("_inventory_item_id")
            level = self.shop.levels.get((item_id, fo["assigned_location_id"])) if item_id else None
            if level is not None:
                level.committed = max(0, level.committed - qty)
                self._save_level(item_id, fo["assigned_location_id"], notify=False)
            shown.append(_fulfilled_line(line, qty, self.state.next_id()))
        for fo in {id(fo): fo for fo, _, _ in picked}.values():
            done = all(li["fulfillable_quantity"] == 0 for li in fo["line_items"])
            self._set_fo_status(fo, "closed" if done else "in_progress")
        ident = self.state.next_id()
        order_doc["fulfillments"] = self.order_fulfillments(order_id)
        doc = d.fulfillment(ident, order_doc, location_id, data, shown, self.now())
        doc["_notify_customer"] = bool(data.get("notify_customer", False))
        doc["_message"] = data.get("message")
        order_doc["fulfillments"] = []
        self.shop.fulfillments.put(ident, doc)
        self._roll_up(order_doc)
        self.shop.orders.put(order_id, order_doc)
        shown_doc = public(doc)
        self.emit("fulfillments/create", shown_doc)
        if announce_order:
            status = order_doc["fulfillment_status"]
            topic = "orders/fulfilled" if status == "fulfilled" else "orders/partially_fulfilled"
            self._save_order(order_doc, topics=(topic,))
        return shown_doc

    def _roll_up(self, order_doc: Doc) -> None:
        shipping = [li for li in order_doc["line_items"] if li["current_quantity"] > 0]
        done = [li for li in shipping if li["fulfillable_quantity"] == 0]
        if shipping and len(done) == len(shipping):
            order_doc["fulfillment_status"] = "fulfilled"
        elif any(li["fulfillment_status"] for li in order_doc["line_items"]):
            order_doc["fulfillment_status"] = "partial"
        else:
            order_doc["fulfillment_status"] = None

    def update_tracking(self, ident: int, data: Doc) -> Doc:
        doc = self.fulfillment(ident)
        tracking = data.get("tracking_info") or {}
        if "company" in tracking:
            doc["tracking_company"] = tracking["company"]
        number = tracking.get("number")
        if number:
            doc["tracking_number"] = number
            doc["tracking_numbers"] = [number]
            url = tracking.get("url") or d.tracking_url(doc["tracking_company"], number)
            doc["tracking_url"] = url
            doc["tracking_urls"] = [url]
        elif tracking.get("url"):
            doc["tracking_url"] = tracking["url"]
            doc["tracking_urls"] = [tracking["url"]]
        doc["_notify_customer"] = bool(data.get("notify_customer", False))
        doc["updated_at"] = self.now()
        self.shop.fulfillments.put(ident, doc)
        shown_doc = public(doc)
        self.emit("fulfillments/update", shown_doc)
        return shown_doc

    def cancel_fulfillment(self, ident: int) -> Doc:
        doc = self.fulfillment(ident)
        if doc["status"] == "cancelled":
            raise unprocessable("base", "Fulfillment is already cancelled")
        doc["status"] = "cancelled"
        doc["updated_at"] = self.now()
        self.shop.fulfillments.put(ident, doc)
        order_doc = self.order_doc(doc["order_id"])
        lines = {li["id"]: li for li in order_doc["line_items"]}
        for shown in doc["line_items"]:
            line = lines.get(shown["id"])
            if line is None:
                continue
            line["fulfillable_quantity"] += shown["quantity"]
            line["fulfillment_status"] = (
                None if line["fulfillable_quantity"] == line["current_quantity"] else "partial"
            )
            fo = next(
                (
                    fo
                    for fo in self.order_fulfillment_orders(order_doc["id"])
                    for fl in fo["line_items"]
                    if fl["line_item_id"] == line["id"]
                ),
                None,
            )
            if fo is not None:
                for fl in fo["line_items"]:
                    if fl["line_item_id"] == line["id"]:
                        fl["fulfillable_quantity"] += shown["quantity"]
                self._set_fo_status(fo, "open")
        self._roll_up(order_doc)
        shown_doc = public(doc)
        self.emit("fulfillments/update", shown_doc)
        self._save_order(order_doc)
        return shown_doc

    def fulfillment_events(self, fulfillment_id: int) -> list[Doc]:
        return sorted(self.shop.fulfillment_events.group(fulfillment_id), key=lambda e: e["id"])

    def create_fulfillment_event(self, fulfillment_id: int, data: Doc) -> Doc:
        fulfillment = self.fulfillment(fulfillment_id)
        ident = self.state.next_id()
        event = d.fulfillment_event(ident, self.shop.settings.id, fulfillment, data, self.now())
        self.shop.fulfillment_events.put(ident, event)
        fulfillment["shipment_status"] = event["status"]
        self.shop.fulfillments.put(fulfillment_id, fulfillment)
        self.emit("fulfillment_events/create", event)
        self.emit("fulfillments/update", public(fulfillment))
        return event


def _fulfilled_line(line: Doc, qty: int, ident: int) -> Doc:
    """A line as a fulfillment shows it: the order's line, with the quantity shipped."""
    shown = public(line)
    shown["quantity"] = qty
    shown["fulfillment_line_item_id"] = ident
    return shown


def public(doc: Doc) -> Doc:
    """Drop the sandbox's own bookkeeping keys (``_…``) before a document leaves."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


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


def _parse_search(query: str) -> list[tuple[str | None, str]]:
    terms: list[tuple[str | None, str]] = []
    for part in query.split():
        if ":" in part:
            key, value = part.split(":", 1)
            terms.append((key, value))
        elif terms and terms[-1][0] is not None:
            last_key, last_value = terms[-1]
            terms[-1] = (last_key, f"{last_value} {part}")
        else:
            terms.append((None, part))
    return terms


def _matches(doc: Doc, terms: list[tuple[str | None, str]]) -> bool:
    for key, value in terms:
        wanted = value.lower()
        if key is None:
            haystack = " ".join(str(doc.get(k) or "") for k in ("email", "first_name", "last_name"))
            if wanted not in haystack.lower():
                return False
            continue
        if key == "customer_tag" or key == "tag":
            tags = [t.strip().lower() for t in str(doc.get("tags") or "").split(",")]
            if wanted not in tags:
                return False
            continue
        if key == "country":
            address = doc.get("default_address") or {}
            names = {
                str(address.get("country") or "").lower(),
                str(address.get("country_name") or "").lower(),
            }
            if wanted not in names:
                return False
            continue
        actual = doc.get(key)
        text = str(actual).lower() if actual is not None else ""
        if not fnmatch.fnmatch(text, wanted):
            return False
    return True
