"""Products and their variants, options and images."""

from __future__ import annotations

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.ops.base import Resource, not_found, unprocessable
from tradewind.sandbox.shopify.state import Doc

# Since 2024-04 the REST product endpoints write at most 100 variants per product.
REST_VARIANT_LIMIT = 100


class Catalog(Resource):
    """Products and variants: every write re-derives the product's options and fires
    ``products/*``."""

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
        total = sum(
            level.available for level in self.ops.inventory.levels_of_item(doc["inventory_item_id"])
        )
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
            self.ops.inventory.require_level(
                item_id, self.ops.locations.primary_location_id(), create=True
            ).available = int(stock)
            self.ops.inventory.save_level(item_id, self.ops.locations.primary_location_id())
        for location_id, quantity in (data.get("stock") or {}).items():
            self.ops.inventory.require_level(
                item_id, int(location_id), create=True
            ).available = int(quantity)
            self.ops.inventory.save_level(item_id, int(location_id))
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
