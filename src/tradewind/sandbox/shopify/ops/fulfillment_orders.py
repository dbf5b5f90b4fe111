"""Fulfillment orders: one per location an order ships from, and their life cycle
(open, scheduled, on hold, in progress, moved, cancelled, closed)."""

from __future__ import annotations

import copy
from decimal import Decimal

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.ops.base import Resource, unprocessable
from tradewind.sandbox.shopify.state import Doc

# FulfillmentHoldReason, lower-cased as REST writes it.
HOLD_REASONS = frozenset(
    {
        "awaiting_payment",
        "high_risk_of_fraud",
        "incorrect_address",
        "inventory_out_of_stock",
        "unknown_delivery_date",
        "awaiting_return_items",
        "online_store_post_purchase_cross_sell",
        "other",
    }
)


def hold_id(fulfillment_order_id: int, position: int) -> int:
    """A hold's id (REST shows holds without one): its fulfillment order's and place."""
    return fulfillment_order_id * 100 + position


class FulfillmentOrders(Resource):
    """Fulfillment orders and the actions Shopify allows in each status."""

    def _choose_location(self, line: Doc, fixed: int | None) -> int:
        if fixed is not None:
            return int(fixed)
        item_id = line.get("_inventory_item_id")
        primary = self.ops.locations.primary_location_id()
        if item_id is None:
            return primary
        levels = sorted(
            self.ops.inventory.levels_of_item(item_id),
            key=lambda lv: (lv.location_id != primary, lv.location_id),
        )
        for lv in levels:
            if lv.available >= line["quantity"]:
                return lv.location_id
        return levels[0].location_id if levels else primary

    def create_fulfillment_orders(self, order_doc: Doc, now: str, fixed: int | None) -> None:
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

    def set_fo_status(self, fo: Doc, status: str) -> None:
        fo["status"] = status
        fo["supported_actions"] = list(d.FO_ACTIONS.get(status, []))
        fo["updated_at"] = self.now()
        self.shop.fulfillment_orders.put(fo["id"], fo)

    def cancel_fulfillment_order(self, ident: int) -> tuple[Doc, Doc | None]:
        fo = self.fulfillment_order(ident)
        if fo["status"] in ("closed", "cancelled"):
            raise unprocessable("base", "Fulfillment order is not in a cancelable state")
        replacement = self._copy_fulfillment_order(fo, fo["assigned_location_id"], fo["line_items"])
        self.set_fo_status(fo, "closed")
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
        self.set_fo_status(copy_, "open")
        return copy_

    def close_fulfillment_order(self, ident: int, message: str | None) -> Doc:
        fo = self.fulfillment_order(ident)
        self.set_fo_status(fo, "incomplete")
        return fo

    def open_fulfillment_order(self, ident: int) -> Doc:
        fo = self.fulfillment_order(ident)
        if fo["status"] not in ("scheduled", "open"):
            raise unprocessable("base", "Fulfillment order is not in a state that can be opened")
        fo["fulfill_at"] = None
        self.set_fo_status(fo, "open")
        return fo

    def reschedule_fulfillment_order(self, ident: int, new_fulfill_at: str) -> Doc:
        fo = self.fulfillment_order(ident)
        if fo["status"] in ("closed", "cancelled"):
            raise unprocessable("base", "Fulfillment order is closed")
        fo["fulfill_at"] = new_fulfill_at
        self.set_fo_status(fo, "scheduled")
        return fo

    def hold_fulfillment_order(self, ident: int, hold: Doc) -> Doc:
        """Shopify's hold: the fulfillment order goes ``on_hold`` (nothing ships) with
        the hold's reason, and ``fulfillment_orders/placed_on_hold`` fires."""
        fo = self.fulfillment_order(ident)
        if fo["status"] not in ("open", "on_hold", "in_progress"):
            raise unprocessable("base", "Fulfillment order is not in a state that can be held")
        reason = str(hold.get("reason") or "other")
        if reason not in HOLD_REASONS:
            raise unprocessable("reason", f"is not included in the list: {reason}")
        created = {"reason": reason, "reason_notes": hold.get("reason_notes")}
        fo["fulfillment_holds"].append(created)
        self.set_fo_status(fo, "on_hold")
        self.emit(
            "fulfillment_orders/placed_on_hold",
            {
                "fulfillment_order": {"id": d.gid("FulfillmentOrder", ident), "status": "on_hold"},
                "remaining_fulfillment_order": None,
                "held_fulfillment_order_line_items": [
                    {"id": d.gid("FulfillmentOrderLineItem", li["id"]), "quantity": li["quantity"]}
                    for li in fo["line_items"]
                ],
                "created_fulfillment_hold": {
                    "id": d.gid("FulfillmentHold", hold_id(ident, len(fo["fulfillment_holds"]))),
                    "reason": reason.upper(),
                    "reason_notes": created["reason_notes"],
                },
            },
        )
        return fo

    def release_hold(self, ident: int) -> Doc:
        """Every hold released: the fulfillment order is open again and
        ``fulfillment_orders/hold_released`` fires (it names the fulfillment order only;
        the order's own ``updated_at`` does not move)."""
        fo = self.fulfillment_order(ident)
        if fo["status"] != "on_hold":
            raise unprocessable("base", "Fulfillment order is not on hold")
        fo["fulfillment_holds"] = []
        self.set_fo_status(fo, "open")
        self.emit(
            "fulfillment_orders/hold_released",
            {"fulfillment_order": {"id": d.gid("FulfillmentOrder", ident), "status": "open"}},
        )
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
        self.set_fo_status(fo, "closed")
        return fo, moved_fo, remaining_fo

    def set_deadline(self, ids: list[int], deadline: str) -> None:
        for ident in ids:
            fo = self.fulfillment_order(int(ident))
            fo["fulfill_by"] = deadline
            self.shop.fulfillment_orders.put(fo["id"], fo)
