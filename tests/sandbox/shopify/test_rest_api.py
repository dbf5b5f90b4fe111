"""The REST Admin API's behaviour beyond the reference examples: routing by Host or by
token, versions, cursor pagination, order filters, errors, inventory, fulfillment,
refunds, and the switch that withholds customer data (issue 5)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from tests.sandbox.shopify.conftest import SHOP, TOKEN, catalog
from tradewind.sandbox.shopify import ShopifySandbox

API = "/admin/api/2025-07"


def get(client: httpx2.Client, path: str, **params: Any) -> Any:
    answer = client.get(API + path, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_requests_find_their_shop_by_host_or_by_token(sandbox: ShopifySandbox) -> None:
    sandbox.create_shop("other", token="shpat_other")
    url = f"{sandbox.base_url}{API}/shop.json"
    by_token = httpx2.get(url, headers={"X-Shopify-Access-Token": "shpat_other"})
    assert by_token.json()["shop"]["myshopify_domain"] == "other.myshopify.com"
    by_host = httpx2.get(
        url, headers={"X-Shopify-Access-Token": TOKEN, "Host": f"{SHOP}.myshopify.com"}
    )
    assert by_host.json()["shop"]["myshopify_domain"] == f"{SHOP}.myshopify.com"
    wrong_shop = httpx2.get(
        url, headers={"X-Shopify-Access-Token": TOKEN, "Host": "other.myshopify.com"}
    )
    assert wrong_shop.status_code == 401
    unknown = httpx2.get(
        url, headers={"X-Shopify-Access-Token": TOKEN, "Host": "nope.myshopify.com"}
    )
    assert unknown.status_code == 404
    missing = httpx2.get(url)
    assert missing.status_code == 401
    assert missing.json() == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }


@pytest.mark.parametrize(
    ("asked", "served"),
    [
        ("2025-07", "2025-07"),
        ("2025-10", "2025-10"),
        ("2026-01", "2026-01"),
        ("2026-04", "2026-04"),
        ("2026-07", "2026-07"),
        ("2026-10", "2026-10"),
        ("2024-01", "2025-07"),  # no longer supported: falls forward to the oldest
        ("unstable", "unstable"),
    ],
)
def test_versions(client: httpx2.Client, asked: str, served: str) -> None:
    answer = client.get(f"/admin/api/{asked}/shop.json")
    assert answer.status_code == 200
    assert answer.headers["X-Shopify-API-Version"] == served


def test_a_malformed_version_is_not_found(client: httpx2.Client) -> None:
    answer = client.get("/admin/api/latest/shop.json")
    assert answer.status_code == 404
    assert answer.json() == {"errors": "Not Found"}


def test_cursor_pagination_with_link_headers(
    sandbox: ShopifySandbox, client: httpx2.Client
) -> None:
    for n in range(7):
        sandbox.add_product(SHOP, f"Product {n}", [{"sku": f"SKU-{n}", "price": "1.00"}])
    first = client.get(f"{API}/products.json", params={"limit": 3, "fields": "id,title"})
    assert set(first.json()["products"][0]) == {"id", "title"}
    link = first.headers["Link"]
    assert link.startswith(
        f"<{sandbox.base_url}{API}/products.json?limit=3&fields=id,title&page_info="
    )
    assert link.endswith('>; rel="next"')
    seen = [p["id"] for p in first.json()["products"]]
    page, rels = first, []
    while 'rel="next"' in page.headers.get("Link", ""):
        next_url = next(
            part.split(";")[0].strip("<> ")
            for part in page.headers["Link"].split(", ")
            if part.endswith('rel="next"')
        )
        page = client.get(next_url)
        rels.append(page.headers["Link"].count("rel="))
        seen += [p["id"] for p in page.json()["products"]]
    assert len(seen) == 7 == len(set(seen))
    assert rels == [2, 1]  # middle page: previous and next; last page: previous only

    page_info = parse_qs(urlsplit(link.split(";")[0].strip("<>")).query)["page_info"][0]
    refused = client.get(
        f"{API}/products.json", params={"page_info": page_info, "status": "active"}
    )
    assert refused.status_code == 400
    assert refused.json()["errors"]["status"].startswith("status cannot be passed when page_info")
    single = client.get(f"{API}/products.json", params={"limit": 500})
    assert len(single.json()["products"]) == 7
    assert "Link" not in single.headers


def test_order_filters_and_counts(sandbox: ShopifySandbox, client: httpx2.Client) -> None:
    catalog(sandbox, stock=50)
    paid = sandbox.place_order(SHOP, [("MUG-1", 1)])
    unpaid = sandbox.place_order(SHOP, [("MUG-1", 1)], kind="unpaid")
    authorized = sandbox.place_order(SHOP, [("TOTE-1", 1)], kind="authorized")
    closed = sandbox.place_order(SHOP, [("TOTE-1", 1)])
    client.post(f"{API}/orders/{closed['id']}/close.json")
    cancelled = sandbox.place_order(SHOP, [("TOTE-1", 1)])
    client.post(f"{API}/orders/{cancelled['id']}/cancel.json", json={"reason": "customer"})

    def ids(**params: Any) -> set[int]:
        return {o["id"] for o in get(client, "/orders.json", **params)["orders"]}

    assert ids() == {paid["id"], unpaid["id"], authorized["id"]}  # status=open by default
    assert ids(status="closed") == {closed["id"], cancelled["id"]}
    assert ids(status="cancelled") == {cancelled["id"]}
    assert len(ids(status="any")) == 5
    assert ids(financial_status="pending") == {unpaid["id"]}
    assert ids(financial_status="authorized") == {authorized["id"]}
    assert ids(financial_status="unpaid") == {unpaid["id"], authorized["id"]}
    assert ids(status="any", since_id=authorized["id"]) == {closed["id"], cancelled["id"]}
    assert ids(status="any", ids=f"{paid['id']},{closed['id']}") == {paid["id"], closed["id"]}
    assert (
        ids(status="any", created_at_min="2000-01-01T00:00:00Z", created_at_max="2001-01-01")
        == set()
    )
    assert ids(status="any", fulfillment_status="unshipped") == ids(status="any")
    # a cancelled order stays paid until it is refunded
    assert get(client, "/orders/count.json", status="any", financial_status="paid") == {"count": 3}
    order = get(client, f"/orders/{cancelled['id']}.json", fields="id,cancel_reason,name")["order"]
    assert order == {"id": cancelled["id"], "cancel_reason": "customer", "name": cancelled["name"]}


def test_shopify_error_bodies(client: httpx2.Client) -> None:
    missing = client.get(f"{API}/orders/1.json")
    assert (missing.status_code, missing.json()) == (404, {"errors": "Not Found"})
    blank = client.post(f"{API}/products.json", json={"product": {"body_html": "x"}})
    assert (blank.status_code, blank.json()) == (422, {"errors": {"title": ["can't be blank"]}})
    broken = client.post(
        f"{API}/products.json", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert client.get(f"{API}/no_such_thing.json").status_code == 404


def test_orders_older_than_60_days_need_read_all_orders(sandbox: ShopifySandbox) -> None:
    catalog(sandbox)
    old = sandbox.sandbox.run(
        SHOP,
        lambda ops: ops.orders.create_order(
            {
                "line_items": [{"title": "Old", "price": "1.00"}],
                "created_at": "2020-01-01T00:00:00Z",
            }
        ),
    )
    narrow = sandbox.issue_token(SHOP, app_key="acme-app", scopes=["read_orders"])
    full = sandbox.issue_token(SHOP, app_key="acme-app", scopes=["read_orders", "read_all_orders"])
    url = f"{sandbox.base_url}{API}/orders/{old['id']}.json"
    assert httpx2.get(url, headers={"X-Shopify-Access-Token": narrow}).status_code == 404
    assert httpx2.get(url, headers={"X-Shopify-Access-Token": full}).status_code == 200


def test_inventory_levels_set_adjust_connect(
    sandbox: ShopifySandbox, client: httpx2.Client
) -> None:
    mug = catalog(sandbox)
    item = mug["variants"][0]["inventory_item_id"]
    primary = get(client, "/locations.json")["locations"][0]["id"]
    warehouse = sandbox.add_location(SHOP, "Warehouse")["id"]

    def post(path: str, body: dict[str, Any]) -> httpx2.Response:
        return client.post(f"{API}/inventory_levels/{path}.json", json=body)

    assert (
        post("set", {"inventory_item_id": item, "location_id": primary, "available": 7}).json()[
            "inventory_level"
        ]["available"]
        == 7
    )
    assert (
        post(
            "adjust",
            {"inventory_item_id": item, "location_id": primary, "available_adjustment": -2},
        ).json()["inventory_level"]["available"]
        == 5
    )
    unstocked = post(
        "adjust", {"inventory_item_id": item, "location_id": warehouse, "available_adjustment": 1}
    )
    assert unstocked.status_code == 422
    connected = post("connect", {"inventory_item_id": item, "location_id": warehouse})
    assert connected.status_code == 201
    assert connected.json()["inventory_level"]["available"] == 0
    levels = get(client, "/inventory_levels.json", inventory_item_ids=item)["inventory_levels"]
    assert sorted(lv["location_id"] for lv in levels) == sorted([primary, warehouse])
    gone = client.delete(
        f"{API}/inventory_levels.json", params={"inventory_item_id": item, "location_id": warehouse}
    )
    assert gone.status_code == 204
    sandbox.place_order(SHOP, [("MUG-1", 2)])
    assert (
        get(client, f"/variants/{mug['variants'][0]['id']}.json")["variant"]["inventory_quantity"]
        == 3
    )
    state = {
        (lv["location_id"]): lv
        for lv in sandbox.state(SHOP)["inventory_levels"]
        if lv["inventory_item_id"] == item
    }
    assert (
        state[primary]["available"],
        state[primary]["committed"],
        state[primary]["on_hand"],
    ) == (3, 2, 5)


def fulfillment_order(client: httpx2.Client, order_id: int) -> dict[str, Any]:
    fos = get(client, f"/orders/{order_id}/fulfillment_orders.json")["fulfillment_orders"]
    assert len(fos) == 1
    return fos[0]  # type: ignore[no-any-return]


def test_fulfillment_with_tracking_rolls_up_to_the_order(
    sandbox: ShopifySandbox, client: httpx2.Client
) -> None:
    catalog(sandbox)
    order = sandbox.place_order(SHOP, [("MUG-1", 2), ("TOTE-1", 1)])
    fo = fulfillment_order(client, order["id"])
    mug_line = next(li for li in fo["line_items"] if li["quantity"] == 2)
    partial = client.post(
        f"{API}/fulfillments.json",
        json={
            "fulfillment": {
                "notify_customer": True,
                "tracking_info": {"number": "1Z001985YW99744790", "company": "UPS"},
                "line_items_by_fulfillment_order": [
                    {
                        "fulfillment_order_id": fo["id"],
                        "fulfillment_order_line_items": [{"id": mug_line["id"], "quantity": 1}],
                    }
                ],
            }
        },
    )
    assert partial.status_code == 201, partial.text
    shipped = partial.json()["fulfillment"]
    assert (shipped["tracking_company"], shipped["tracking_number"], shipped["status"]) == (
        "UPS",
        "1Z001985YW99744790",
        "success",
    )
    assert shipped["tracking_urls"][0].endswith("1Z001985YW99744790")
    assert shipped["name"] == f"{order['name']}.1"
    assert get(client, f"/orders/{order['id']}.json")["order"]["fulfillment_status"] == "partial"
    assert fulfillment_order(client, order["id"])["status"] == "in_progress"

    rest = client.post(
        f"{API}/fulfillments.json",
        json={
            "fulfillment": {"line_items_by_fulfillment_order": [{"fulfillment_order_id": fo["id"]}]}
        },
    )
    assert rest.status_code == 201
    after = get(client, f"/orders/{order['id']}.json")["order"]
    assert after["fulfillment_status"] == "fulfilled"
    assert len(after["fulfillments"]) == 2
    assert fulfillment_order(client, order["id"])["status"] == "closed"
    again = client.post(
        f"{API}/fulfillments.json",
        json={
            "fulfillment": {"line_items_by_fulfillment_order": [{"fulfillment_order_id": fo["id"]}]}
        },
    )
    assert again.status_code == 422
    levels = [lv for lv in sandbox.state(SHOP)["inventory_levels"] if lv["committed"]]
    assert levels == []  # what shipped left on_hand; nothing stays committed


def test_refund_with_restock(sandbox: ShopifySandbox, client: httpx2.Client) -> None:
    catalog(sandbox)
    order = sandbox.place_order(SHOP, [("MUG-1", 2)])
    line = order["line_items"][0]
    location = get(client, "/locations.json")["locations"][0]["id"]
    parent = get(client, f"/orders/{order['id']}/transactions.json")["transactions"][0]
    refund = client.post(
        f"{API}/orders/{order['id']}/refunds.json",
        json={
            "refund": {
                "refund_line_items": [
                    {
                        "line_item_id": line["id"],
                        "quantity": 1,
                        "restock_type": "cancel",
                        "location_id": location,
                    }
                ],
                "transactions": [
                    {
                        "parent_id": parent["id"],
                        "amount": "12.00",
                        "kind": "refund",
                        "gateway": "bogus",
                    }
                ],
            }
        },
    )
    assert refund.status_code == 201, refund.text
    after = get(client, f"/orders/{order['id']}.json")["order"]
    assert after["financial_status"] == "partially_refunded"
    assert after["line_items"][0]["current_quantity"] == 1
    assert after["current_total_price"] == "12.00"
    assert get(client, f"/variants/{line['variant_id']}.json")["variant"]["inventory_quantity"] == 9


def test_orders_as_customers_place_them(sandbox: ShopifySandbox, client: httpx2.Client) -> None:
    catalog(sandbox)
    store = sandbox.add_location(SHOP, "Store")["id"]
    sandbox.set_stock(SHOP, "TOTE-1", 0)
    sandbox.set_stock(SHOP, "TOTE-1", 4, location_id=store)
    multi = sandbox.place_order(SHOP, [("MUG-1", 1), ("TOTE-1", 1)])
    fos = get(client, f"/orders/{multi['id']}/fulfillment_orders.json")["fulfillment_orders"]
    assert len({fo["assigned_location_id"] for fo in fos}) == 2
    pos = sandbox.place_order(SHOP, [("MUG-1", 1)], kind="pos", location_id=store)
    assert (pos["source_name"], pos["location_id"]) == ("pos", store)
    unknown = sandbox.place_order(SHOP, [("NOPE-9", 1)])
    line = unknown["line_items"][0]
    assert (line["sku"], line["variant_id"], line["product_exists"]) == ("NOPE-9", None, False)
    guest = sandbox.place_order(SHOP, [("MUG-1", 1)], guest=True)
    assert (guest["customer"], guest["email"], guest["shipping_address"]) == (None, "", None)
    test_order = sandbox.place_order(SHOP, [("MUG-1", 1)], kind="test")
    assert test_order["test"] is True


def test_customer_data_can_be_withheld(sandbox: ShopifySandbox, client: httpx2.Client) -> None:
    """Issue 5: shops whose plan withholds protected customer data from apps."""
    catalog(sandbox)
    order = sandbox.place_order(SHOP, [("MUG-1", 1)])
    assert (
        get(client, f"/orders/{order['id']}.json")["order"]["customer"]["email"]
        == "ada@example.com"
    )
    sandbox.withhold_customer_data(SHOP)
    hidden = get(client, f"/orders/{order['id']}.json")["order"]
    assert (hidden["customer"], hidden["email"], hidden["billing_address"]) == (None, "", None)
    assert hidden["shipping_address"]["first_name"] is None
    assert hidden["shipping_address"]["city"] == "Springfield"


def test_one_customer_per_email_whatever_its_case(client: httpx2.Client) -> None:
    made = client.post(f"{API}/customers.json", json={"customer": {"email": "Case@Example.com"}})
    assert made.status_code == 201
    again = client.post(f"{API}/customers.json", json={"customer": {"email": "case@example.COM"}})
    assert again.status_code == 422
    assert again.json() == {"errors": {"email": ["has already been taken"]}}
    other = client.post(f"{API}/customers.json", json={"customer": {"email": "other@example.com"}})
    taken = client.put(
        f"{API}/customers/{other.json()['customer']['id']}.json",
        json={"customer": {"email": "CASE@example.com"}},
    )
    assert taken.status_code == 422
    found = get(client, "/customers/search.json", query="email:case@example.com")["customers"]
    assert [c["id"] for c in found] == [made.json()["customer"]["id"]]


def test_images_given_by_url_are_served_from_the_cdn(client: httpx2.Client) -> None:
    """Shopify downloads an image given by URL and serves its own copy: the URL given is
    not kept (so sending the same URL again uploads a second copy)."""
    made = client.post(
        f"{API}/products.json",
        json={
            "product": {
                "title": "Lamp",
                "images": [{"src": "https://img.example.com/lamp-front.jpg?x=1"}],
                "variants": [{"sku": "LAMP-9", "price": "5.00"}],
            }
        },
    ).json()["product"]
    (image,) = made["images"]
    assert image["src"].startswith("https://cdn.shopify.com/s/files/")
    assert (
        "lamp-front" in image["src"]
        and image["src"] != "https://img.example.com/lamp-front.jpg?x=1"
    )
    kept = client.put(
        f"{API}/products/{made['id']}.json",
        json={"product": {"id": made["id"], "images": [{"id": image["id"]}]}},
    ).json()["product"]
    assert [i["src"] for i in kept["images"]] == [image["src"]]
