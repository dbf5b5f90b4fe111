"""The order wizard prices a blank line from the catalog, refuses SKUs the catalog does
not know and re-shows what was typed with the reason by the field (#10 item 16)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from tests.web.conftest import Browser
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.hub import Hub


@pytest.fixture
def shop(admin: Browser) -> dict[str, Any]:
    admin.post("/channels", {"name": "Wholesale"})
    admin.post("/warehouses", {"code": "MAIN"})
    admin.post("/products", {"sku": "MUG", "title": "Mug", "price": "12.50"})
    admin.post("/products", {"sku": "PLATE", "title": "Plate", "price": "4"})
    return {
        "channel_id": "1",
        "email": "ada@example.com",
        "first_name": "Ada",
        "line_sku": ["MUG", "PLATE", ""],
        "line_quantity": ["2", "1", "1"],
        "line_price": ["", "3.25", ""],
        "ship_first_name": "Ada",
        "ship_address1": "1 St",
        "ship_city": "London",
        "ship_country_code": "GB",
        "billing_same": "on",
        "note": "Leave at the door",
    }


def _orders(hub: Hub) -> list[Order]:
    with hub.db.read() as session:
        return orders.list_orders(session)


def test_a_blank_unit_price_is_the_products_price(
    admin: Browser, hub: Hub, shop: dict[str, Any]
) -> None:
    made = admin.post("/orders/new", shop)
    assert made.status_code == 303, made.text
    (order,) = _orders(hub)
    with hub.db.read() as session:
        lines = orders.get_order(session, order.id).lines
    assert [(line.sku, line.unit_price) for line in lines] == [
        ("MUG", Decimal("12.5000")),  # blank: the product's 12.50, not 0
        ("PLATE", Decimal("3.2500")),  # given: as given
    ]
    assert order.subtotal == Decimal("28.2500")


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"line_sku": ["MUG", "GHOST", ""]}, "line_sku", "no product with SKU &#39;GHOST&#39;"),
        ({"line_price": ["", "3,25", ""]}, "line_price", "a price such as 12.50"),
        ({"line_price": ["", "-1", ""]}, "line_price", "a price such as 12.50"),
        ({"line_quantity": ["2", "two", "1"]}, "line_quantity", "a whole number, at least 1"),
    ],
    ids=["unknown-sku", "comma-price", "negative-price", "bad-quantity"],
)
def test_a_bad_line_re_shows_the_form_as_filled_in_with_the_reason(
    admin: Browser,
    hub: Hub,
    shop: dict[str, Any],
    change: dict[str, list[str]],
    field: str,
    reason: str,
) -> None:
    refused = admin.post("/orders/new", {**shop, **change})
    assert refused.status_code == 422
    page = refused.text
    assert re.search(rf"{reason}.*?</span>", page)
    assert f'id="{field}_1-error"' in page  # by the second line's field
    # What was typed is still there.
    for typed in ('value="ada@example.com"', 'value="1 St"', ">Leave at the door</textarea>"):
        assert typed in page
    for cell in change[field]:
        assert f'value="{cell}"' in page
    assert _orders(hub) == []


def test_a_missing_channel_is_a_field_error_and_keeps_the_lines(
    admin: Browser,
    hub: Hub,
    shop: dict[str, Any],
) -> None:
    refused = admin.post("/orders/new", {**shop, "channel_id": ""})
    assert refused.status_code == 422
    assert 'id="channel_id-error"' in refused.text
    assert 'value="MUG"' in refused.text and 'value="PLATE"' in refused.text
    assert _orders(hub) == []
