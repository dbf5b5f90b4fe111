"""Inventory items and their levels at locations."""

from __future__ import annotations

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.ops.base import Resource, ShopifyError, not_found, unprocessable
from tradewind.sandbox.shopify.state import Doc, Level


class Inventory(Resource):
    """Inventory items and levels: ``available``, the named quantities, connect and disconnect."""

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

    def require_level(self, item_id: int, location_id: int, create: bool = False) -> Level:
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

    def save_level(self, item_id: int, location_id: int, notify: bool = True) -> Doc:
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
        level = self.require_level(item_id, location_id, create=True)
        level.available = int(available)
        return self.save_level(item_id, location_id)

    def adjust_available(self, item_id: int, location_id: int, delta: int) -> Doc:
        level = self.require_level(item_id, location_id)
        level.available += int(delta)
        return self.save_level(item_id, location_id)

    def connect(self, item_id: int, location_id: int) -> Doc:
        self.require_level(item_id, location_id, create=True)
        doc = self.save_level(item_id, location_id, notify=False)
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
        level = self.require_level(item_id, location_id, create=True)
        target = "available" if name == "on_hand" else name
        setattr(level, target, getattr(level, target) + delta)
        self.save_level(item_id, location_id, notify=target == "available")
        return level
