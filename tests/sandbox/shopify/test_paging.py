"""REST cursors mark the last record a page returned, as Shopify's do: a record deleted
or added while a client walks a list neither makes it skip one nor see one twice;
``order=`` sorts every list Shopify sorts, and a cursor keeps the sort and filters."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from tests.sandbox.shopify.conftest import SHOP, catalog
from tradewind.sandbox.shopify import ShopifySandbox

API = "/admin/api/2025-07"


def links(answer: httpx2.Response) -> dict[str, str]:
    found = {}
    for part in answer.headers.get("Link", "").split(", "):
        if part:
            url, rel = part.split("; ")
            found[rel.removeprefix('rel="').rstrip('"')] = url.strip("<>")
    return found


def walk(
    client: httpx2.Client,
    path: str,
    key: str,
    params: dict[str, Any],
    between: Callable[[int], None] = lambda _n: None,
) -> list[int]:
    """Every id the list returns, following rel=next; ``between(n)`` runs after page n."""
    answer = client.get(API + path, params=params)
    seen: list[int] = []
    pages = 0
    while True:
        assert answer.status_code == 200, answer.text
        seen += [item["id"] for item in answer.json()[key]]
        pages += 1
        between(pages)
        following = links(answer).get("next")
        if following is None:
            return seen
        answer = client.get(following)


def place(sandbox: ShopifySandbox, count: int) -> list[int]:
    return [int(sandbox.place_order(SHOP, [("MUG-1", 1)])["id"]) for _ in range(count)]


@pytest.fixture
def stocked(sandbox: ShopifySandbox) -> ShopifySandbox:
    catalog(sandbox)
    return sandbox


def test_deleting_an_earlier_order_mid_walk_neither_skips_nor_repeats(
    stocked: ShopifySandbox, client: httpx2.Client
) -> None:
    ids = place(stocked, 7)
    deleted: list[int] = []

    def delete_first_seen(page: int) -> None:
        if page == 1:
            newest = max(ids)  # newest first: on the first page
            assert client.delete(f"{API}/orders/{newest}.json").status_code == 200
            deleted.append(newest)

    seen = walk(client, "/orders.json", "orders", {"limit": 2, "status": "any"}, delete_first_seen)
    assert len(seen) == len(set(seen)) == 7
    assert seen == sorted(ids, reverse=True)  # Shopify's default: newest first


def test_an_order_added_mid_walk_is_seen_once_when_walking_by_id(
    stocked: ShopifySandbox, client: httpx2.Client
) -> None:
    ids = place(stocked, 5)
    added: list[int] = []

    def add(page: int) -> None:
        if page == 1:
            added.extend(place(stocked, 1))
            assert client.delete(f"{API}/orders/{ids[0]}.json").status_code == 200

    params = {"limit": 2, "status": "any", "order": "id asc"}
    seen = walk(client, "/orders.json", "orders", params, add)
    assert seen == ids + added  # the first page had ids[0] before it went


def test_order_is_honoured_and_kept_by_the_cursor(
    stocked: ShopifySandbox, client: httpx2.Client
) -> None:
    ids = place(stocked, 5)
    touched = ids[1]

    def touch(ops: Any) -> None:  # an update an hour on (wall-clock stamps share a second)
        order = ops.shop.orders.get(touched)
        order["updated_at"] = "2099-01-01T10:00:00-05:00"
        ops.shop.orders.put(touched, order)

    stocked.sandbox.run(SHOP, touch)
    params = {"limit": 2, "status": "any", "order": "updated_at asc"}
    seen = walk(client, "/orders.json", "orders", params)
    assert seen[-1] == touched and sorted(seen) == ids
    assert walk(client, "/orders.json", "orders", {"limit": 2, "order": "id desc"}) == ids[::-1]
    ascending = walk(client, "/orders.json", "orders", {"limit": 3, "order": "created_at asc"})
    assert ascending == ids
    products = walk(client, "/products.json", "products", {"limit": 1, "order": "title desc"})
    titles = [t for t, _ in sorted((p["title"], p["id"]) for p in _products(client))]
    by_title = {p["id"]: p["title"] for p in _products(client)}
    assert [by_title[i] for i in products] == titles[::-1]


def _products(client: httpx2.Client) -> list[Any]:
    answer = client.get(f"{API}/products.json", params={"limit": 250})
    return list(answer.json()["products"])


def test_previous_pages_come_back_in_order(stocked: ShopifySandbox, client: httpx2.Client) -> None:
    ids = place(stocked, 5)
    first = client.get(f"{API}/orders.json", params={"limit": 2, "order": "id asc"})
    assert "previous" not in links(first)
    second = client.get(links(first)["next"])
    third = client.get(links(second)["next"])
    assert [o["id"] for o in third.json()["orders"]] == ids[4:]
    assert "next" not in links(third)
    back = client.get(links(third)["previous"])
    assert [o["id"] for o in back.json()["orders"]] == ids[2:4]
    assert [o["id"] for o in client.get(links(back)["previous"]).json()["orders"]] == ids[:2]


def test_customers_and_inventory_levels_walk_by_cursor(
    stocked: ShopifySandbox, client: httpx2.Client
) -> None:
    for n in range(5):
        made = client.post(f"{API}/customers.json", json={"customer": {"email": f"c{n}@x.io"}})
        assert made.status_code == 201
    customers = walk(client, "/customers.json", "customers", {"limit": 2})
    assert customers == sorted(customers) and len(customers) == 5
    newest_first = walk(client, "/customers.json", "customers", {"limit": 2, "order": "id desc"})
    assert newest_first == customers[::-1]
    location = client.get(f"{API}/locations.json").json()["locations"][0]["id"]
    answer = client.get(f"{API}/inventory_levels.json", params={"location_ids": location})
    everything = answer.json()["inventory_levels"]
    pairs = []
    page = client.get(f"{API}/inventory_levels.json", params={"location_ids": location, "limit": 1})
    while True:
        pairs += [
            (lv["inventory_item_id"], lv["location_id"]) for lv in page.json()["inventory_levels"]
        ]
        if "next" not in links(page):
            break
        page = client.get(links(page)["next"])
    assert pairs == sorted((lv["inventory_item_id"], lv["location_id"]) for lv in everything)
    assert len(pairs) == len(everything) > 1


def _cursor(answer: httpx2.Response) -> str:
    return parse_qs(urlsplit(links(answer)["next"]).query)["page_info"][0]


def test_an_invalid_or_foreign_page_info_is_refused_as_shopify_refuses_it(
    stocked: ShopifySandbox, client: httpx2.Client
) -> None:
    place(stocked, 3)
    orders_cursor = _cursor(client.get(f"{API}/orders.json", params={"limit": 1}))
    payload = json.loads(base64.urlsafe_b64decode(orders_cursor + "=" * (-len(orders_cursor) % 4)))
    assert {"last_id", "last_value", "direction"} <= set(payload)  # as Shopify's cursors
    tampered = base64.urlsafe_b64encode(json.dumps({"direction": "sideways"}).encode()).decode()
    for page_info in ("not-a-cursor", tampered, "e30"):
        refused = client.get(f"{API}/orders.json", params={"page_info": page_info})
        assert refused.status_code == 400
        assert refused.json() == {"errors": {"page_info": "Invalid value."}}
    foreign = client.get(f"{API}/products.json", params={"page_info": orders_cursor})
    assert foreign.status_code == 400
    assert foreign.json() == {"errors": {"page_info": "Invalid value."}}
    assert client.get(f"{API}/orders.json", params={"page_info": orders_cursor}).is_success
