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
