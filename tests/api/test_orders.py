"""Orders through the API: the line limit, and the order lists come newest first."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.api.test_resources import problem_of
from tradewind.core.orders.schemas import MAX_LINES


def test_an_order_of_more_lines_than_the_limit_is_refused_naming_it(api: Api) -> None:
    channel = api.post("/channels", json={"name": "Wholesale"}).json()
    line = {"sku": "MUG", "quantity": 1}
    refused = problem_of(
        api.post("/orders", json={"channel_id": channel["id"], "lines": [line] * (MAX_LINES + 1)}),
        422,
    )
    assert f"at most {MAX_LINES}" in str(refused["errors"]["lines"])  # type: ignore[index]
    assert api.get("/orders").json()["items"] == []
    schema = api.get("/openapi.json").json()["components"]["schemas"]["ManualOrderIn"]
    assert schema["properties"]["lines"]["maxItems"] == MAX_LINES


def _order(api: Api, channel_id: int, placed_at: str) -> int:
    created = api.post(
        "/orders",
        json={
            "channel_id": channel_id,
            "placed_at": placed_at,
            "lines": [{"sku": "MUG", "quantity": 1}],
        },
    )
    assert created.status_code == 201, created.text
    order_id: int = created.json()["id"]
    return order_id


def test_orders_are_listed_newest_first_and_cursor_pages_skip_and_repeat_nothing(
    api: Api,
) -> None:
    channel = api.post("/channels", json={"name": "Wholesale"}).json()["id"]
    first = _order(api, channel, "2026-11-01T10:00:00+00:00")
    second = _order(api, channel, "2026-11-02T10:00:00+00:00")
    same_time = _order(api, channel, "2026-11-02T10:00:00+00:00")
    oldest = _order(api, channel, "2026-10-01T10:00:00+00:00")  # made last, placed first
    assert [o["id"] for o in api.get("/orders").json()["items"]] == [
        same_time,
        second,
        first,
        oldest,
    ]
    page = api.get("/orders", params={"limit": 2}).json()
    assert [o["id"] for o in page["items"]] == [same_time, second]
    newer = _order(api, channel, "2026-12-01T10:00:00+00:00")  # arrives between the pages
    rest = api.get("/orders", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [o["id"] for o in rest["items"]] == [first, oldest]
    assert rest["next_cursor"] is None
    assert api.get("/orders", params={"limit": 1}).json()["items"][0]["id"] == newer


def test_an_order_list_cursor_from_another_list_is_refused(api: Api) -> None:
    from tradewind.api.pagination import encode_cursor

    problem_of(api.get("/orders", params={"cursor": encode_cursor(5)}), 422)
