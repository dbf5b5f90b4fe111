"""What a refused OAuth grant or customer says back: Shopify's error field, never the body
of whatever answered (the outbound policy's rule, #10 item 2)."""

from __future__ import annotations

import httpx2
import pytest

from tradewind.connectors import AuthFailed, CustomerRecord, Rejected
from tradewind.connectors.testing import suite_context
from tradewind.integrations.shopify import customers
from tradewind.integrations.shopify.client import ShopifyClient
from tradewind.integrations.shopify.settings import ShopifySettings

SETTINGS = ShopifySettings(
    store_url="https://acme.myshopify.com",
    access_token="shpat_0123456789abcdef",
    client_id="app",
    client_secret="shpss_0123456789abcdef",
)


def client(status: int, body: bytes, content_type: str) -> ShopifyClient:
    """Every POST answered ``status`` with ``body``; a search finds nothing."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        if request.method == "GET":
            return httpx2.Response(200, json={"customers": []})
        return httpx2.Response(status, content=body, headers={"Content-Type": content_type})

    return ShopifyClient(SETTINGS, suite_context(httpx2.MockTransport(answer)))


def test_a_refused_grant_quotes_the_error_field_not_the_page() -> None:
    page = client(401, b"<html>admin-console-internals</html>", "text/html")
    with pytest.raises(AuthFailed) as refused:
        page.token_request({"code": "x"})
    assert "admin-console-internals" not in str(refused.value)
    said = client(400, b'{"error": "invalid_request", "rows": ["private"]}', "application/json")
    with pytest.raises(AuthFailed) as refused:
        said.token_request({"code": "x"})
    assert "invalid_request" in str(refused.value) and "private" not in str(refused.value)


def test_a_refused_customer_quotes_the_error_field_not_the_page() -> None:
    page = client(
        422, b'{"errors": {"phone": ["is invalid"]}, "debug": "internals"}', "application/json"
    )
    record = CustomerRecord(external_id=None, email="ada@example.com", first_name="Ada")
    with pytest.raises(Rejected) as refused:
        customers.export(page, record)
    assert "is invalid" in str(refused.value) and "internals" not in str(refused.value)
