"""OAuth with Shopify (authorization code grant, offline access, expiring tokens):
the authorize URL, and the callback checked as Shopify's own libraries check it — hex
HMAC-SHA256 over the sorted query, the shop, a recent timestamp — before the code is
exchanged."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from urllib.parse import urlencode

from tradewind.connectors import AuthFailed
from tradewind.integrations.shopify.client import ShopifyClient

MAX_AGE = 24 * 3600  # how old a callback's timestamp may be


def authorize_url(client: ShopifyClient, scopes: list[str], state: str, redirect_uri: str) -> str:
    settings = client.settings
    if not settings.client_id:
        raise AuthFailed("OAuth needs the app's client id and client secret in the settings")
    query = urlencode(
        {
            "client_id": settings.client_id,
            "scope": ",".join(scopes),
            "redirect_uri": redirect_uri,
            "state": state,
            "grant_options[]": "",  # offline access
            "shop": settings.shop,
        }
    )
    base = settings.sandbox_url.rstrip("/") if settings.sandbox_url else settings.store_url
    return f"{base}/admin/oauth/authorize?{query}"


def signature_ok(secret: str, params: Mapping[str, str]) -> bool:
    message = urlencode(sorted((k, v) for k, v in params.items() if k not in ("hmac", "signature")))
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(digest, params.get("hmac", ""))


def complete(client: ShopifyClient, params: Mapping[str, str]) -> None:
    settings = client.settings
    if not settings.client_id or not settings.client_secret:
        raise AuthFailed("OAuth needs the app's client id and client secret in the settings")
    secret = settings.client_secret.get_secret_value()
    if not signature_ok(secret, params):
        raise AuthFailed("the callback's signature is not Shopify's")
    if params.get("shop", "").lower() != settings.shop:
        raise AuthFailed(f"the callback is for {params.get('shop')!r}, not {settings.shop}")
    try:
        age = time.time() - int(params.get("timestamp", "0"))
    except ValueError:
        age = MAX_AGE + 1
    if not -300 <= age <= MAX_AGE:
        raise AuthFailed("the callback is too old")
    code = params.get("code", "")
    if not code:
        raise AuthFailed("the callback carries no authorization code")
    grant = client.token_request(
        {
            "client_id": settings.client_id,
            "client_secret": secret,
            "code": code,
            "expiring": "1",
        }
    )
    client.context.credentials.update(grant)
