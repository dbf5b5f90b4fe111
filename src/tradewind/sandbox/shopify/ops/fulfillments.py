"""Fulfillments of fulfillment orders, their tracking and their shipment events."""

from __future__ import annotations

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.ops.base import (
    Resource,
    ShopifyError,
    not_found,
    public,
    unprocessable,
)
from tradewind.sandbox.shopify.state import Doc


class Fulfillments(Resource):
    """Fulfillments: shipping lines takes stock out of ``committed`` and rolls the order's
    fulfillment status up."""

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
        order_doc = self.ops.orders.order_doc(order_id)
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
                self.ops.inventory.save_level(item_id, fo["assigned_location_id"], notify=False)
            shown.append(_fulfilled_line(line, qty, self.state.next_id()))
        for fo in {id(fo): fo for fo, _, _ in picked}.values():
            done = all(li["fulfillable_quantity"] == 0 for li in fo["line_items"])
            self.ops.fulfillment_orders.set_fo_status(fo, "closed" if done else "in_progress")
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
            self.ops.orders.save_order(order_doc, topics=(topic,))
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
        order_doc = self.ops.orders.order_doc(doc["order_id"])
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
                    for fo in self.ops.fulfillment_orders.order_fulfillment_orders(order_doc["id"])
                    for fl in fo["line_items"]
                    if fl["line_item_id"] == line["id"]
                ),
                None,
            )
            if fo is not None:
                for fl in fo["line_items"]:
                    if fl["line_item_id"] == line["id"]:
                        fl["fulfillable_quantity"] += shown["quantity"]
                self.ops.fulfillment_orders.set_fo_status(fo, "open")
        self._roll_up(order_doc)
        shown_doc = public(doc)
        self.emit("fulfillments/update", shown_doc)
        self.ops.orders.save_order(order_doc)
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
