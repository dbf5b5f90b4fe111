"""OAuth as Shopify runs it: authorize (page or automatic), the signed callback, the
token endpoint with JSON and form bodies and every grant, expiring tokens with rotating
refresh tokens, scopes enforced per endpoint, and uninstall."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlsplit

import httpx2
import pytest

from tests.sandbox.shopify.conftest import SHOP, TOKEN, Receiver, subscribe
from tradewind.sandbox.shopify import ShopifySandbox
from tradewind.sandbox.shopify.oauth import query_hmac

KEY, SECRET = "oauth-app", "oauth-secret"
CALLBACK = "https://app.example/auth/callback"


def authorize(sandbox: ShopifySandbox, **extra: str) -> httpx2.Response:
    params = {
        "client_id": KEY,
        "scope": "read_orders,write_inventory",
        "redirect_uri": CALLBACK,
        "state": "nonce-1",
        "grant_options[]": "",
        **extra,
    }
    return httpx2.get(
        f"{sandbox.base_url}/admin/oauth/authorize",
        params=params,
        headers={"Host": f"{SHOP}.myshopify.com"},
    )


def callback_params(response: httpx2.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(CALLBACK + "?")
    return dict(parse_qsl(urlsplit(location).query))


def token_call(
    sandbox: ShopifySandbox, body: dict[str, str], form: bool = False
) -> httpx2.Response:
    url = f"{sandbox.base_url}/admin/oauth/access_token"
    headers = {"Host": f"{SHOP}.myshopify.com"}
    if form:
        return httpx2.post(url, data=body, headers=headers)
    return httpx2.post(url, json=body, headers=headers)


def code_for(sandbox: ShopifySandbox, **extra: str) -> str:
    return callback_params(authorize(sandbox, **extra))["code"]


@pytest.fixture
def app(sandbox: ShopifySandbox) -> None:
    sandbox.create_app(KEY, SECRET, title="Hub", auto_approve=True)


def test_the_approval_page_then_a_signed_callback(sandbox: ShopifySandbox) -> None:
    sandbox.create_app(KEY, SECRET, title="Hub")
    page = authorize(sandbox)
    assert page.status_code == 200
    assert "Install Hub" in page.text and "read_orders" in page.text
    asked = int(time.time())
    approved = httpx2.post(
        f"{sandbox.base_url}/admin/oauth/authorize",
        data={
            "client_id": KEY,
            "scope": "read_orders,write_inventory",
            "redirect_uri": CALLBACK,
            "state": "nonce-1",
            "shop": SHOP,
            "decision": "approve",
        },
    )
    answered = time.time()
    params = callback_params(approved)
    assert set(params) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert params["shop"] == f"{SHOP}.myshopify.com"
    assert params["state"] == "nonce-1"
    assert asked <= int(params["timestamp"]) <= answered  # stamped when approved
    assert params["hmac"] == query_hmac(SECRET, params)


def test_bad_client_and_bad_scope_are_refused(sandbox: ShopifySandbox, app: None) -> None:
    assert authorize(sandbox, client_id="nobody").status_code == 400
    assert authorize(sandbox, scope="read_everything").status_code == 400


@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
def test_code_exchange_gives_an_offline_token(
    sandbox: ShopifySandbox, app: None, form: bool
) -> None:
    code = code_for(sandbox)
    answer = token_call(
        sandbox, {"client_id": KEY, "client_secret": SECRET, "code": code}, form=form
    )
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "scope"}
    assert body["scope"] == "read_orders,write_inventory"
    # A code is good once.
    again = token_call(sandbox, {"client_id": KEY, "client_secret": SECRET, "code": code})
    assert again.status_code == 400
    # Authorizing again with offline access returns the same non-expiring token.
    second = token_call(
        sandbox, {"client_id": KEY, "client_secret": SECRET, "code": code_for(sandbox)}
    ).json()
    assert second["access_token"] == body["access_token"]


def test_wrong_secret_and_unknown_code(sandbox: ShopifySandbox, app: None) -> None:
    code = code_for(sandbox)
    assert (
        token_call(sandbox, {"client_id": KEY, "client_secret": "x", "code": code}).status_code
        == 400
    )
    assert (
        token_call(sandbox, {"client_id": KEY, "client_secret": SECRET, "code": "nope"}).status_code
        == 400
    )


def test_online_token(sandbox: ShopifySandbox, app: None) -> None:
    code = code_for(sandbox, **{"grant_options[]": "per-user"})
    body = token_call(sandbox, {"client_id": KEY, "client_secret": SECRET, "code": code}).json()
    assert 86000 < body["expires_in"] <= 86399
    assert body["associated_user_scope"] == "read_orders,write_inventory"
    assert set(body["associated_user"]) == {
        "id",
        "first_name",
        "last_name",
        "email",
        "email_verified",
        "account_owner",
        "locale",
        "collaborator",
    }


def use(sandbox: ShopifySandbox, token: str) -> int:
    return httpx2.get(
        f"{sandbox.base_url}/admin/api/2025-07/orders.json",
        headers={"X-Shopify-Access-Token": token},
    ).status_code


def test_expiring_offline_tokens_rotate_their_refresh_token(
    sandbox: ShopifySandbox, app: None
) -> None:
    code = code_for(sandbox)
    first = token_call(
        sandbox, {"client_id": KEY, "client_secret": SECRET, "code": code, "expiring": "1"}
    ).json()
    assert 3590 < first["expires_in"] <= 3600
    assert 7776000 - 10 < first["refresh_token_expires_in"] <= 7776000
    assert use(sandbox, first["access_token"]) == 200

    refresh = {"client_id": KEY, "client_secret": SECRET, "grant_type": "refresh_token"}
    second = token_call(sandbox, dict(refresh, refresh_token=first["refresh_token"])).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert use(sandbox, first["access_token"]) == 401  # one active token per app and shop
    # The old refresh token still works until the new access token is used…
    third = token_call(sandbox, dict(refresh, refresh_token=first["refresh_token"])).json()
    assert use(sandbox, third["access_token"]) == 200
    assert use(sandbox, second["access_token"]) == 401
    # …and not after.
    stale = token_call(sandbox, dict(refresh, refresh_token=first["refresh_token"]))
    assert stale.status_code == 400
    assert stale.json()["error"] == "invalid_grant"


def test_client_credentials_grant(sandbox: ShopifySandbox, app: None) -> None:
    token_call(sandbox, {"client_id": KEY, "client_secret": SECRET, "code": code_for(sandbox)})
    body = token_call(
        sandbox,
        {"client_id": KEY, "client_secret": SECRET, "grant_type": "client_credentials"},
    ).json()
    assert set(body) == {"access_token", "scope", "expires_in"}
    assert use(sandbox, body["access_token"]) == 200


def test_token_exchange_migrates_to_an_expiring_token(sandbox: ShopifySandbox, app: None) -> None:
    old = token_call(
        sandbox, {"client_id": KEY, "client_secret": SECRET, "code": code_for(sandbox)}
    ).json()["access_token"]
    body = token_call(
        sandbox,
        {
            "client_id": KEY,
            "client_secret": SECRET,
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": old,
            "subject_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
            "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
            "expiring": "1",
        },
    ).json()
    assert "refresh_token" in body
    assert use(sandbox, old) == 401
    assert use(sandbox, body["access_token"]) == 200


def test_scopes_are_enforced_per_endpoint(sandbox: ShopifySandbox, client: httpx2.Client) -> None:
    narrow = sandbox.issue_token(SHOP, app_key="acme-app", scopes=["read_products"])
    http = httpx2.Client(base_url=sandbox.base_url, headers={"X-Shopify-Access-Token": narrow})
    assert http.get("/admin/api/2025-07/products.json").status_code == 200
    denied = http.get("/admin/api/2025-07/orders.json")
    assert denied.status_code == 403
    assert denied.json() == {
        "errors": "[API] This action requires merchant approval for read_orders scope."
    }
    write = http.post("/admin/api/2025-07/products.json", json={"product": {"title": "X"}})
    assert write.json()["errors"].endswith("write_products scope.")
    scopes = http.get("/admin/oauth/access_scopes.json").json()
    assert scopes == {"access_scopes": [{"handle": "read_products"}]}
    gql = http.post(
        "/admin/api/2025-07/graphql.json", json={"query": "{ orders(first: 1) { nodes { id } } }"}
    )
    error = gql.json()["errors"][0]
    assert error["extensions"]["code"] == "ACCESS_DENIED"
    assert error["path"] == ["orders"]


def test_write_scope_implies_read(sandbox: ShopifySandbox) -> None:
    token = sandbox.issue_token(SHOP, app_key="acme-app", scopes=["write_orders"])
    assert use(sandbox, token) == 200


def test_uninstall_fires_app_uninstalled_then_revokes(
    sandbox: ShopifySandbox, client: httpx2.Client, receiver: Receiver
) -> None:
    subscribe(client, "app/uninstalled", receiver.url)
    subscribe(client, "orders/create", receiver.url)
    sandbox.uninstall(SHOP, "acme-app")
    delivered = receiver.wait_for(1)
    assert [d.headers["x-shopify-topic"] for d in delivered] == ["app/uninstalled"]
    assert use(sandbox, TOKEN) == 401
    assert sandbox.state(SHOP)["webhooks"] == []


def test_an_app_can_uninstall_itself(sandbox: ShopifySandbox, client: httpx2.Client) -> None:
    assert client.delete("/admin/api_permissions/current.json").status_code == 200
    assert use(sandbox, TOKEN) == 401
