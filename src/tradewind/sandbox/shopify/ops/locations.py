"""The shop's locations; the first one added is the primary location."""

from __future__ import annotations

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.ops.base import Resource
from tradewind.sandbox.shopify.state import Doc


class Locations(Resource):
    """Locations: add, read, and the primary one (created on first need)."""

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
