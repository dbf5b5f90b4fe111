"""No route answers without authentication except health, metrics, platform webhooks, the
OAuth callback, the sign-in page, the favicon and static files: every route of the app is
walked."""

from __future__ import annotations

import re

from fastapi.routing import iter_route_contexts
from starlette.routing import Mount
from starlette.testclient import TestClient

from tradewind.hub import Hub
from tradewind.server import create_app

PUBLIC = {
    ("GET", "/health"),
    ("GET", "/metrics"),  # configurable: TRADEWIND_METRICS_PUBLIC=false (test_metrics)
    ("POST", "/hooks/{plugin_id}/{topic:path}"),  # the platform's signature authenticates
    ("GET", "/oauth/callback"),  # single-use state + the platform's HMAC
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/favicon.ico"),  # asked for by the browser itself, on the sign-in page too
}
# Routes added since, named so that losing one fails here (every route is walked below).
LISTED = {
    ("GET", "/api/v1/plugins/{plugin_id}/go-live-report"),
    ("POST", "/api/v1/plugins/{plugin_id}/go-live"),
    ("POST", "/api/v1/plugins/{plugin_id}/shadow"),
    ("GET", "/plugins/{plugin_id}/go-live-report"),
    ("POST", "/plugins/{plugin_id}/go-live"),
    ("POST", "/plugins/{plugin_id}/shadow"),
}
VALUES = {
    "plugin_id": "1",
    "channel_id": "1",
    "product_id": "1",
    "order_id": "1",
    "order": "1001",
    "return_id": "1",
    "shipment_id": "1",
    "customer_id": "1",
    "warehouse_id": "1",
    "backfill_id": "1",
    "run_id": "1",
    "toggle": "import_orders",
    "external_id": "loc-1",
    "key": "fake",
    "topic": "orders/create",
    "job": "customer-sync",
    "template_id": "rest_storefront",
    "package_id": "1",
    "label_id": "1",
    "day": "2026-01-01",
    "subscription_id": "1",
    "delivery_id": "1",
    "event_id": "evt_1",
    "event_type": "order.created",
    "process_id": "1",
    "notification_id": "1",
    "action": "cancel",
}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: VALUES[m.group(1)], path)


def test_every_route_needs_a_token_or_a_session(hub: Hub) -> None:
    app = create_app(hub)
    walked = 0
    seen: set[tuple[str, str]] = set()
    with TestClient(app) as client:
        for route in iter_route_contexts(app.routes):
            if isinstance(route.original_route, Mount):
                # The stylesheet and htmx, needed to sign in, and the vendored Swagger UI.
                asset = {"/static": "app.css"}
                assert route.path in asset, route.path
                assert client.get(f"{route.path}/{asset[route.path]}").status_code == 200
                continue
            assert route.path and route.methods, route
            for method in sorted(route.methods):
                walked += 1
                seen.add((method, route.path))
                url = concrete(route.path)
                response = client.request(method, url, follow_redirects=False)
                if (method, route.path) in PUBLIC:
                    assert response.status_code not in (401, 403), (method, url)
                    continue
                if route.path.startswith("/api/"):
                    assert response.status_code == 401, (method, url, response.text)
                    assert response.headers["content-type"].startswith("application/problem+json")
                    assert response.headers["www-authenticate"] == "Bearer"
                else:
                    assert response.status_code == 303, (method, url, response.status_code)
                    assert response.headers["location"].startswith("/login")
    assert walked > 100
    assert not LISTED - seen, LISTED - seen


def test_api_documents_need_authentication(hub: Hub) -> None:
    with TestClient(create_app(hub)) as client:
        assert client.get("/api/v1/openapi.json").status_code == 401
        assert client.get("/api/v1/docs", follow_redirects=False).status_code == 401
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/docs").status_code in (303, 404)


def test_the_api_docs_page_loads_swagger_ui_from_this_server(hub: Hub) -> None:
    """No CDN: a self-hosted Tradewind without internet still shows its API docs."""
    from tests.api.conftest import make_token
    from tradewind.auth.models import TokenScope

    token = make_token(hub, TokenScope.READ)
    with TestClient(create_app(hub)) as client:
        page = client.get("/api/v1/docs", headers={"Authorization": f"Bearer {token}"})
        assert page.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert assets and all(url.startswith("/static/swagger-ui-5.") for url in assets), assets
        for url in assets:
            assert client.get(url).status_code == 200, url
