"""The REST API over the core: CRUD, filters, cursor pages and problem bodies."""

from __future__ import annotations

import datetime as dt

from tests.api.conftest import Api
from tradewind.api.pagination import encode_cursor
from tradewind.api.problems import MEDIA_TYPE


def problem_of(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith(MEDIA_TYPE)  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status and body["title"] and "type" in body
    return body


def test_channels_pages_and_problems(api: Api) -> None:
    for name in ("A", "B", "C"):
        assert api.post("/channels", json={"name": name}).status_code == 201
    first = api.get("/channels", params={"limit": 2}).json()
    assert [c["name"] for c in first["items"]] == ["A", "B"] and first["next_cursor"]
    second = api.get("/channels", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [c["name"] for c in second["items"]] == ["C"] and second["next_cursor"] is None

    duplicate = problem_of(api.post("/channels", json={"name": "a"}), 409)
    assert duplicate["errors"] == {"name": "already exists"}
    assert "already exists" in str(duplicate["detail"])
    invalid = problem_of(api.post("/channels", json={"name": ""}), 422)
    assert "name" in invalid["errors"]  # type: ignore[operator]
    problem_of(api.get("/channels", params={"cursor": "not-a-cursor"}), 422)
    problem_of(api.get("/channels/999"), 404)
    assert api.delete(f"/channels/{first['items'][0]['id']}").status_code == 204
    problem_of(api.get(f"/channels/{first['items'][0]['id']}"), 404)
    problem_of(api.get("/no-such-thing"), 404)


def test_catalog_stock_and_movements(api: Api) -> None:
    mug = api.post("/products", json={"sku": "MUG", "title": "Mug", "price": "9.5"}).json()
    csv = "sku,title,price\nPLATE,Plate,4\nBOWL,Bowl,x\n"
    report = api.post("/products/import", files={"file": ("p.csv", csv, "text/csv")}).json()
    assert report["created"] == 1 and report["errors"][0]["line"] == 3
    assert [p["sku"] for p in api.get("/products", params={"search": "pla"}).json()["items"]] == [
        "PLATE"
    ]
    assert (
        api.patch(f"/products/{mug['id']}", json={"title": "Big mug"}).json()["title"] == "Big mug"
    )
    problem_of(api.post("/products", json={"sku": "mug", "title": "again"}), 409)

    main = api.post("/warehouses", json={"code": "MAIN"}).json()
    north = api.post("/warehouses", json={"code": "NORTH"}).json()
    assert main["is_default"] is True
    moves = [
        {"kind": "receipt", "warehouse_id": main["id"], "quantity": 10},
        {"kind": "adjustment", "warehouse_id": main["id"], "quantity": -2, "reason": "broken"},
        {
            "kind": "transfer",
            "warehouse_id": main["id"],
            "to_warehouse_id": north["id"],
            "quantity": 3,
        },
        {"kind": "count", "warehouse_id": north["id"], "quantity": 5, "reason": "count"},
    ]
    for move in moves:
        response = api.post("/stock/movements", json={"product_id": mug["id"], **move})
        assert response.status_code == 201, response.text
    levels = {
        row["warehouse_id"]: row
        for row in api.get("/stock", params={"product_id": mug["id"]}).json()
    }
    assert levels[main["id"]]["on_hand"] == 5 and levels[north["id"]]["on_hand"] == 5
    refused = problem_of(
        api.post(
            "/stock/movements",
            json={
                "kind": "pick",
                "product_id": mug["id"],
                "warehouse_id": main["id"],
                "quantity": 99,
            },
        ),
        422,
    )
    assert "only 5 on hand" in str(refused["detail"])
    page = api.get("/stock/movements", params={"product_id": mug["id"], "limit": 3}).json()
    assert len(page["items"]) == 3 and page["items"][0]["id"] > page["items"][1]["id"]
    rest = api.get(
        "/stock/movements", params={"product_id": mug["id"], "cursor": page["next_cursor"]}
    ).json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None


def test_manual_order_timeline_shipping_returns(api: Api) -> None:
    channel = api.post("/channels", json={"name": "Wholesale"}).json()
    api.post("/warehouses", json={"code": "MAIN"})
    mug = api.post("/products", json={"sku": "MUG", "title": "Mug", "price": "10"}).json()
    warehouse = api.get("/warehouses").json()[0]
    api.post(
        "/stock/movements",
        json={
            "kind": "receipt",
            "product_id": mug["id"],
            "warehouse_id": warehouse["id"],
            "quantity": 5,
        },
    )
    address = {"first_name": "Ada", "address1": "1 St", "city": "London", "country_code": "gb"}
    created = api.post(
        "/orders",
        json={
            "channel_id": channel["id"],
            "email": "ada@example.com",
            "lines": [{"sku": "MUG", "quantity": 2}, {"sku": "GHOST", "quantity": 1}],
            "shipping_address": address,
        },
    )
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["source"] == "manual" and order["missing_product"] is True
    assert (
        api.get("/orders", params={"missing_product": "true"}).json()["items"][0]["id"]
        == order["id"]
    )
    assert api.get("/orders", params={"channel_id": channel["id"] + 1}).json()["items"] == []
    notes = api.get("/notifications", params={"kind": "missing_product"}).json()
    assert [n["subject"] for n in notes] == ["SKU GHOST"]

    fixed = api.post(
        "/orders/assign-product", json={"sku": "ghost", "product_id": mug["id"]}
    ).json()
    assert fixed == {"lines": 2}
    assert api.get("/notifications", params={"kind": "missing_product"}).json() == []
    timeline = [a["kind"] for a in api.get(f"/orders/{order['id']}/activities").json()]
    assert timeline[0] == "created" and "line_matched" in timeline

    shipment = api.post(
        f"/orders/{order['id']}/shipments", json={"carrier": "DHL", "tracking_number": "T1"}
    )
    assert shipment.status_code == 201, shipment.text
    assert (
        api.get("/shipments", params={"order_id": order["id"]}).json()["items"][0]["carrier"]
        == "DHL"
    )
    line_id = order["lines"][0]["id"]
    returned = api.post(
        f"/orders/{order['id']}/returns",
        json={"lines": [{"order_line_id": line_id, "quantity": 1}]},
    ).json()
    assert (
        api.post(f"/returns/{returned['id']}/advance", json={"to": "received"}).json()["status"]
        == "received"
    )
    problem_of(api.post(f"/returns/{returned['id']}/advance", json={"to": "requested"}), 422)
    assert (
        api.get("/returns", params={"status": "received"}).json()["items"][0]["id"]
        == returned["id"]
    )
    problem_of(
        api.post("/orders", json={"channel_id": 999, "lines": [{"sku": "X", "quantity": 1}]}), 404
    )


def test_customers_listings_notifications(api: Api) -> None:
    customer = api.post("/customers", json={"email": "Bo@Example.com", "first_name": "Bo"}).json()
    problem_of(api.post("/customers", json={"email": "bo@example.com"}), 409)
    assert (
        api.get("/customers", params={"search": "bo@"}).json()["items"][0]["id"] == customer["id"]
    )
    changed = api.patch(f"/customers/{customer['id']}", json={"last_name": "Lind"}).json()
    assert changed["display_name"] == "Bo Lind"
    channel = api.post("/channels", json={"name": "Web"}).json()
    product = api.post("/products", json={"sku": "MUG", "title": "Mug"}).json()
    listing = api.put(
        f"/listings/{channel['id']}/{product['id']}", json={"title": "The mug", "price": "12"}
    ).json()
    assert listing["title"] == "The mug"
    assert (
        api.get("/listings", params={"channel_id": channel["id"]}).json()["items"][0]["id"]
        == listing["id"]
    )
    problem_of(api.put(f"/listings/{channel['id']}/999", json={}), 404)
    assert api.get("/notifications/count").json() == {"open": 0, "unread": 0}
    assert api.post("/notifications/read", json={}).json() == {"marked": 0}
    assert api.get("/executions").json() == {"items": [], "next_cursor": None}


def test_backfill_dates_need_a_zone(api: Api) -> None:
    naive = dt.datetime(2026, 1, 1).isoformat()
    body = problem_of(api.post("/plugins/1/backfill", json={"start": naive, "end": naive}), 422)
    assert "timezone" in str(body["detail"])
    assert encode_cursor(5) != encode_cursor(6)
