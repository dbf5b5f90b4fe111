"""A shop holding the resources Shopify's REST reference examples talk about, under the
same ids (order 450789469, product 632910392, variant 808950810, location 655441491…),
built through the sandbox's own operations so that every answer the replay compares is
one the sandbox produced itself.

Where an example needs a resource in a given state (a scheduled fulfillment order to
open, a held one to release), the world holds one in that state under the example's id.
"""

from __future__ import annotations

import copy
from typing import Any

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.core import Sandbox
from tradewind.sandbox.shopify.service import ShopOps
from tradewind.sandbox.shopify.state import Subscription, TokenKind

SHOP = "jsmith"
TOKEN = "shpat_fixture_replay"
APP_KEY = "replay-app"
APP_SECRET = "hush"

ORDER = 450789469
AUTHORIZED_ORDER = 1073459969
SHIPPED_ORDER = 1073459970
PRODUCT = 632910392
OTHER_PRODUCT = 921728736
CUSTOMER = 207119551
OTHER_CUSTOMER = 1073339462
PRIMARY, SECOND, THIRD, FOURTH = 655441491, 487838322, 24826418, 844681632
LINES = {"green": 466157049, "red": 518995019, "black": 703073504}

# fulfillment order id -> (status, FO line item id or None)
FULFILLMENT_ORDERS: dict[int, tuple[str, int | None]] = {
    1046000778: ("open", None),
    1046000779: ("open", None),
    1046000781: ("open", None),
    1046000782: ("open", None),
    1046000785: ("scheduled", None),
    1046000786: ("open", 1072503283),
    1046000788: ("open", None),
    1046000790: ("open", None),
    1046000791: ("open", None),
    1046000792: ("open", None),
    1046000793: ("in_progress", None),
    1046000794: ("on_hold", None),
    1046000811: ("open", 1072503316),
    1046000813: ("open", None),
    1046000814: ("open", None),
    1046000815: ("open", None),
    1046000816: ("open", None),
    1046000819: ("open", None),
}
SHIPPED_FULFILLMENTS = (1069019866, 1069019869, 1069019879)
WEBHOOKS = ((4759306, "orders/create"), (901431826, "orders/create"), (1014196360, "orders/create"))


def build(sandbox: Sandbox) -> None:
    sandbox.create_shop(SHOP)
    sandbox.create_app(APP_KEY, APP_SECRET)
    sandbox.issue_token(SHOP, APP_KEY, kind=TokenKind.custom, value=TOKEN)
    sandbox.run(SHOP, _populate)


def _populate(ops: ShopOps) -> None:
    shop = ops.shop
    # The shop's first location becomes Shopify's example primary location.
    first = shop.settings.primary_location_id
    assert first is not None
    shop.locations.delete(first)
    shop.settings.primary_location_id = None
    ops.locations.add_location(
        {
            "name": "50 Rideau Street",
            "address1": "50 Rideau Street",
            "city": "Ottawa",
            "zip": "K1N 9J7",
            "province": "Ontario",
            "province_code": "ON",
            "country_code": "CA",
        },
        PRIMARY,
    )
    ops.locations.add_location(
        {"name": "Warehouse", "city": "Ottawa", "country_code": "CA"}, SECOND
    )
    ops.locations.add_location({"name": "Apple Api Shipwire", "country_code": "DE"}, THIRD)
    ops.locations.add_location({"name": "Store", "city": "Toronto", "country_code": "CA"}, FOURTH)

    colours = [
        ("Pink", 808950810, "IPOD2008PINK"),
        ("Red", 49148385, "IPOD2008RED"),
        ("Green", 39072856, "IPOD2008GREEN"),
        ("Black", 457924702, "IPOD2008BLACK"),
    ]
    ops.catalog.create_product(
        {
            "title": "IPod Nano - 8GB",
            "body_html": "<p>It's the small iPod with one very big idea: Video.</p>",
            "vendor": "Apple",
            "product_type": "Cult Products",
            "handle": "ipod-nano",
            "tags": "Emotive, Flash Memory, MP3, Music",
            "options": [{"name": "Color"}],
            "variants": [
                {
                    "id": ident,
                    "inventory_item_id": ident,
                    "option1": colour,
                    "sku": sku,
                    "price": "199.00",
                    "grams": 567,
                    "barcode": f"1234_{colour.lower()}",
                    "cost": "25.00",
                    "inventory_quantity": 10,
                    "stock": {SECOND: 5},
                }
                for colour, ident, sku in colours
            ],
            "images": [
                {"src": "https://cdn.shopify.com/s/files/ipod-nano.png"},
                {"src": "https://cdn.shopify.com/s/files/ipod-nano-2.png"},
                {"src": "https://cdn.shopify.com/s/files/ipod-nano-3.png"},
            ],
        },
        PRODUCT,
    )
    product = shop.products.get(PRODUCT)
    assert product is not None
    for image, ident in zip(product["images"], (850703190, 562641783, 378407906), strict=True):
        image["id"] = ident
        image["admin_graphql_api_id"] = d.gid("MediaImage", ident)
    shop.products.put(PRODUCT, product)
    ops.catalog.create_product(
        {
            "title": "IPod Touch 8GB",
            "vendor": "Apple",
            "product_type": "Cult Products",
            "variants": [
                {
                    "id": 447654529,
                    "inventory_item_id": 447654530,
                    "sku": "IPOD2009BLACK",
                    "price": "199.00",
                    "inventory_quantity": 13,
                }
            ],
        },
        OTHER_PRODUCT,
    )
    shop.settings.collects.append([841564295, PRODUCT])
    shop.save_settings()

    ops.customers.create_customer(
        {
            "first_name": "Bob",
            "last_name": "Norman",
            "email": "bob.norman@mail.example.com",
            "phone": "+16136120707",
            "tags": "Léon, Noël",
            "verified_email": True,
            "addresses": [
                {
                    "address1": "Chestnut Street 92",
                    "city": "Louisville",
                    "province": "Kentucky",
                    "province_code": "KY",
                    "zip": "40202",
                    "country_code": "US",
                    "phone": "555-625-1199",
                }
            ],
        },
        CUSTOMER,
    )
    ops.customers.create_customer(
        {
            "first_name": "John",
            "last_name": "Norman",
            "email": "john@doe.ca",
            "tags": "New Customer",
        },
        OTHER_CUSTOMER,
    )

    address = {
        "first_name": "Bob",
        "last_name": "Norman",
        "address1": "Chestnut Street 92",
        "city": "Louisville",
        "province": "Kentucky",
        "province_code": "KY",
        "zip": "40202",
        "country_code": "US",
        "phone": "+1(502)-459-2181",
    }
    ops.orders.create_order(
        {
            "created_at": "2008-01-10T11:00:00-05:00",
            "customer": {"id": CUSTOMER},
            "line_items": [
                {
                    "variant_id": 39072856,
                    "quantity": 1,
                    "tax_lines": [{"price": "3.98", "rate": 0.06, "title": "State Tax"}],
                    "properties": [{"name": "Custom Engraving Front", "value": "Happy Birthday"}],
                },
                {
                    "variant_id": 49148385,
                    "quantity": 1,
                    "tax_lines": [{"price": "3.98", "rate": 0.06, "title": "State Tax"}],
                },
                {
                    "variant_id": 457924702,
                    "quantity": 1,
                    "tax_lines": [{"price": "3.98", "rate": 0.06, "title": "State Tax"}],
                },
            ],
            "shipping_address": address,
            "billing_address": address,
            "shipping_lines": [{"title": "Free Shipping", "price": "0.00"}],
            "discount_codes": [{"code": "TENOFF", "amount": "10.00", "type": "fixed_amount"}],
            "note_attributes": [{"name": "colour", "value": "green"}],
            "transactions": [],
            "browser_ip": "0.0.0.0",  # noqa: S104 - Shopify's example value
        },
        ORDER,
        line_ids=[LINES["green"], LINES["red"], LINES["black"]],
    )
    order = shop.orders.get(ORDER)
    assert order is not None
    auth = ops.payments.add_transaction(
        order,
        {
            "kind": "authorization",
            "amount": "598.94",
            "authorization": "authorization-key",
            "processed_at": "2005-08-01T11:57:11-04:00",
        },
        389404469,
    )
    ops.payments.add_transaction(
        order,
        {
            "kind": "capture",
            "amount": "598.94",
            "parent_id": auth["id"],
            "authorization": "authorization-key",
        },
        801038806,
    )
    ops.payments.add_transaction(
        order, {"kind": "sale", "amount": "100.00", "gateway": "gift_card"}, 1068278486
    )
    order["financial_status"] = "paid"
    shop.orders.put(ORDER, order)
    for ident, when in (
        (1011222836, "2005-08-05T10:22:51-04:00"),
        (1011222837, "2005-08-07T10:22:51-04:00"),
    ):
        shop.tender_transactions.put(
            ident,
            dict(
                d.tender_transaction(ident, shop.transactions.get(801038806) or {}),
                processed_at=when,
            ),
        )
    refund = ops.refunds.create_refund(
        ORDER,
        {
            "note": "it broke during shipping",
            "refund_line_items": [
                {"line_item_id": LINES["black"], "quantity": 1, "restock_type": "no_restock"}
            ],
            "transactions": [{"parent_id": 801038806, "amount": "209.00", "gateway": "bogus"}],
        },
    )
    _rekey(shop.refunds, refund["id"], 509562969)

    auto_fo = ops.fulfillment_orders.order_fulfillment_orders(ORDER)[0]
    shop.fulfillment_orders.delete(auto_fo["id"])
    for ident, (status, line_id) in FULFILLMENT_ORDERS.items():
        fo = copy.deepcopy(auto_fo)
        fo["id"] = ident
        fo["assigned_location_id"] = THIRD
        fo["assigned_location"] = d.fo_location(shop.locations.get(THIRD), THIRD)
        fo["origin"] = fo["assigned_location"]
        fo["line_items"] = [
            dict(li, id=line_id or ident + 26503000, fulfillment_order_id=ident)
            for li in fo["line_items"]
            if li["line_item_id"] == (LINES["green"] if ident == 1046000819 else LINES["red"])
        ]
        fo["status"] = status
        fo["supported_actions"] = list(d.FO_ACTIONS[status])
        if status == "on_hold":
            fo["fulfillment_holds"] = [{"reason": "other", "reason_notes": None}]
        shop.fulfillment_orders.put(ident, fo)

    red = next(li for li in order["line_items"] if li["id"] == LINES["green"])
    failed = d.fulfillment(
        255858046,
        order,
        PRIMARY,
        {"tracking_info": {"number": "1Z1234512345123456", "company": "USPS"}},
        [dict(red)],
        order["created_at"],
    )
    failed["status"] = "failure"
    failed["line_items"] = [
        dict({k: v for k, v in li.items() if not k.startswith("_")}, fulfillment_line_item_id=1)
        for li in failed["line_items"]
    ]
    shop.fulfillments.put(255858046, failed)
    later = dict(
        failed,
        id=1069019864,
        admin_graphql_api_id=d.gid("Fulfillment", 1069019864),
        status="failure",
    )
    shop.fulfillments.put(later["id"], later)
    for event_id in (944956391, 944956393):
        event = ops.fulfillments.create_fulfillment_event(255858046, {"status": "in_transit"})
        _rekey(shop.fulfillment_events, event["id"], event_id)

    ops.orders.create_order(
        {
            "line_items": [{"variant_id": 808950810, "quantity": 1}],
            "customer": {"id": OTHER_CUSTOMER},
            "financial_status": "authorized",
        },
        AUTHORIZED_ORDER,
    )
    ops.orders.create_order(
        {"line_items": [{"variant_id": 808950810, "quantity": 3}], "email": "shipped@example.com"},
        SHIPPED_ORDER,
    )
    shipped_fo = ops.fulfillment_orders.order_fulfillment_orders(SHIPPED_ORDER)[0]
    for ident in SHIPPED_FULFILLMENTS:
        line = shipped_fo["line_items"][0]
        made = ops.fulfillments.create_fulfillment(
            {
                "line_items_by_fulfillment_order": [
                    {
                        "fulfillment_order_id": shipped_fo["id"],
                        "fulfillment_order_line_items": [{"id": line["id"], "quantity": 1}],
                    }
                ]
            }
        )
        _rekey(shop.fulfillments, made["id"], ident)

    now = ops.now()
    for ident, topic in WEBHOOKS:
        shop.subscriptions.put(
            ident,
            Subscription(
                ident,
                SHOP,
                APP_KEY,
                topic,
                f"https://example.org/hooks/{ident}",
                now,
                now,
                "2025-07",
            ),
        )


def _rekey(table: Any, old: int, new: int) -> None:
    doc = table.get(old)
    table.delete(old)
    doc["id"] = new
    if "admin_graphql_api_id" in doc:
        kind = doc["admin_graphql_api_id"].split("/")[3]
        doc["admin_graphql_api_id"] = d.gid(kind, new)
    table.put(new, doc)
