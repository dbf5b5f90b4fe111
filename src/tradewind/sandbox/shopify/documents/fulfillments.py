"""Fulfillment orders (with the actions each status allows), fulfillments, tracking
URLs and fulfillment events.
"""

from __future__ import annotations

from tradewind.sandbox.shopify.documents.common import gid
from tradewind.sandbox.shopify.state import Doc, ShopSettings


def fo_location(loc: Doc | None, location_id: int) -> Doc:
    loc = loc or {}
    return {
        "address1": loc.get("address1"),
        "address2": loc.get("address2"),
        "city": loc.get("city"),
        "country_code": loc.get("country_code"),
        "location_id": location_id,
        "name": loc.get("name"),
        "phone": loc.get("phone"),
        "province": loc.get("province"),
        "zip": loc.get("zip"),
    }


def fulfillment_order_line(ident: int, shop_id: int, fo_id: int, li: Doc, qty: int) -> Doc:
    return {
        "id": ident,
        "shop_id": shop_id,
        "fulfillment_order_id": fo_id,
        "quantity": qty,
        "line_item_id": li["id"],
        "inventory_item_id": li.get("_inventory_item_id"),
        "fulfillable_quantity": qty,
        "variant_id": li.get("variant_id"),
    }


def fulfillment_order(
    settings: ShopSettings, ident: int, order_doc: Doc, location_id: int, loc: Doc | None, now: str
) -> Doc:
    ship = order_doc.get("shipping_address") or {}
    return {
        "id": ident,
        "created_at": now,
        "updated_at": now,
        "shop_id": settings.id,
        "order_id": order_doc["id"],
        "assigned_location_id": location_id,
        "request_status": "unsubmitted",
        "status": "open",
        "fulfill_at": None,
        "fulfill_by": None,
        "supported_actions": [],
        "destination": {
            "id": ident + 1,
            "address1": ship.get("address1"),
            "address2": ship.get("address2"),
            "city": ship.get("city"),
            "company": ship.get("company"),
            "country": ship.get("country"),
            "email": order_doc.get("email"),
            "first_name": ship.get("first_name"),
            "last_name": ship.get("last_name"),
            "phone": ship.get("phone"),
            "province": ship.get("province"),
            "zip": ship.get("zip"),
        }
        if ship
        else None,
        "origin": fo_location(loc, location_id),
        "line_items": [],
        "outgoing_requests": [],
        "international_duties": None,
        "fulfillment_holds": [],
        "delivery_method": None,
        "assigned_location": fo_location(loc, location_id),
        "merchant_requests": [],
    }


FO_ACTIONS: dict[str, list[str]] = {
    "open": ["create_fulfillment", "move", "hold"],
    "in_progress": ["create_fulfillment", "move", "hold"],
    "scheduled": ["mark_as_open"],
    "on_hold": ["release_hold", "hold"],
    "closed": [],
    "cancelled": [],
    "incomplete": [],
}


def fulfillment(
    ident: int, order_doc: Doc, location_id: int | None, data: Doc, lines: list[Doc], now: str
) -> Doc:
    tracking = data.get("tracking_info") or {}
    numbers = list(
        tracking.get("numbers") or ([tracking["number"]] if tracking.get("number") else [])
    )
    urls = list(tracking.get("urls") or ([tracking["url"]] if tracking.get("url") else []))
    company = tracking.get("company")
    if numbers and not urls:
        urls = [tracking_url(company, n) for n in numbers]
    sequence = len(order_doc.get("fulfillments", [])) + 1
    return {
        "id": ident,
        "order_id": order_doc["id"],
        "status": "success",
        "created_at": now,
        "service": "manual",
        "updated_at": now,
        "tracking_company": company,
        "shipment_status": None,
        "location_id": location_id,
        "origin_address": data.get("origin_address"),
        "line_items": lines,
        "tracking_number": numbers[0] if numbers else None,
        "tracking_numbers": numbers,
        "tracking_url": urls[0] if urls else None,
        "tracking_urls": urls,
        "receipt": {},
        "name": f"{order_doc['name']}.{sequence}",
        "admin_graphql_api_id": gid("Fulfillment", ident),
    }


def tracking_url(company: str | None, number: str) -> str:
    base = {
        "UPS": "https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums=",
        "USPS": "https://tools.usps.com/go/TrackConfirmAction_input?qtc_tLabels1=",
        "FedEx": "https://www.fedex.com/fedextrack/?trknbr=",
        "DHL Express": "https://www.dhl.com/en/express/tracking.html?AWB=",
    }.get(company or "", "https://track.sandbox.example/?number=")
    return base + number


def fulfillment_event(ident: int, shop_id: int, fulfillment_doc: Doc, data: Doc, now: str) -> Doc:
    return {
        "id": ident,
        "fulfillment_id": fulfillment_doc["id"],
        "status": data.get("status", "in_transit"),
        "message": data.get("message"),
        "happened_at": data.get("happened_at") or now,
        "city": data.get("city"),
        "province": data.get("province"),
        "country": data.get("country"),
        "zip": data.get("zip"),
        "address1": data.get("address1"),
        "latitude": data.get("latitude"),
        "longitude": data.get("longitude"),
        "shop_id": shop_id,
        "created_at": now,
        "updated_at": now,
        "estimated_delivery_at": data.get("estimated_delivery_at"),
        "order_id": fulfillment_doc["order_id"],
        "admin_graphql_api_id": gid("FulfillmentEvent", ident),
    }
