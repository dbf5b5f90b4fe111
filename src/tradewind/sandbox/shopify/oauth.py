"""OAuth as Shopify runs it: ``/admin/oauth/authorize`` (an approval page, or automatic
approval), the signed redirect back to the app, and ``/admin/oauth/access_token`` for
the authorization-code, refresh-token, client-credentials and offline-token-exchange
grants, accepting JSON or form bodies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from tradewind.sandbox.shopify.core import AuthCode, Sandbox
from tradewind.sandbox.shopify.state import ALL_SCOPES, SHOP_DOMAIN_SUFFIX, Token, TokenKind

CODE_SECONDS = 600
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 - a URN
OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"  # noqa: S105


def query_message(params: Mapping[str, str], style: str = "urlencoded") -> str:
    """The message Shopify signs for a query string: the parameters other than ``hmac``
    and ``signature`` as ``key=value``, sorted by key, joined by ``&``.

    Shopify's libraries escape reserved characters differently: ``urlencoded`` (Ruby and
    JavaScript: full URL encoding) or ``python`` (ShopifyAPI: only ``%`` and ``&``, and
    ``=`` in keys). The sandbox signs values that contain no such characters, so the
    two agree on what it sends."""
    pairs = sorted((k, v) for k, v in params.items() if k not in ("hmac", "signature"))
    if style == "python":
        return "&".join(f"{_escape(k, key=True)}={_escape(v)}" for k, v in pairs)
    return urlencode(pairs)


def _escape(text: str, key: bool = False) -> str:
    text = text.replace("%", "%25").replace("&", "%26")
    return text.replace("=", "%3D") if key else text


def query_hmac(secret: str, params: Mapping[str, str], style: str = "urlencoded") -> str:
    """Hex HMAC-SHA256 of :func:`query_message` under the app's client secret."""
    message = query_message(params, style)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def host_param(shop: str) -> str:
    """base64 of ``admin.shopify.com/store/{shop}``, without padding so that every
    official library's way of encoding the signed message gives the same string."""
    raw = f"admin.shopify.com/store/{shop}".encode()
    return base64.b64encode(raw).decode().rstrip("=")


def oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><title>{html.escape(title)}</title></head>"
        f"<body style='font-family:sans-serif;max-width:36em;margin:4em auto'>{body}</body>"
        "</html>",
        status,
    )


def _shop_name(sandbox: Sandbox, request: Request, params: Mapping[str, str]) -> str | None:
    named = params.get("shop") or sandbox.shop_for_host(request.headers.get("host"))
    if named:
        return named.removesuffix(SHOP_DOMAIN_SUFFIX)
    shops = list(sandbox.state.shops)
    return shops[0] if len(shops) == 1 else None


async def authorize(sandbox: Sandbox, request: Request) -> Response:
    params = dict(request.query_params)
    if request.method == "POST":
        params.update({k: str(v) for k, v in (await request.form()).items()})
    shop = _shop_name(sandbox, request, params)
    if shop is None or sandbox.state.shop(shop) is None:
        return _page("Shop not found", "<h1>There is no shop here.</h1>", 404)
    app = sandbox.state.apps.get(params.get("client_id", ""))
    if app is None:
        return _page(
            "Oauth error",
            "<h1>Oauth error invalid_request: The api_key provided is not valid.</h1>",
            400,
        )
    scopes = [s.strip() for s in params.get("scope", "").split(",") if s.strip()]
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown:
        return _page(
            "Oauth error",
            f"<h1>Oauth error invalid_scope: {html.escape(', '.join(unknown))}</h1>",
            400,
        )
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri.startswith(("http://", "https://")):
        return _page("Oauth error", "<h1>Oauth error invalid_request: redirect_uri</h1>", 400)
    online = params.get("grant_options[]") == "per-user"
    approved = request.method == "POST" and params.get("decision") == "approve"
    if not (approved or app.auto_approve or sandbox.options.auto_approve):
        return _approval_page(app.title, shop, scopes, params)
    code = secrets.token_hex(16)
    sandbox.codes[code] = AuthCode(shop, app.api_key, scopes, online, time.time())
    callback = {
        "code": code,
        "host": host_param(shop),
        "shop": shop + SHOP_DOMAIN_SUFFIX,
        "state": params.get("state", ""),
        "timestamp": str(int(time.time())),
    }
    callback["hmac"] = query_hmac(app.api_secret, callback)
    joiner = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(redirect_uri + joiner + urlencode(callback), 302)


def _approval_page(title: str, shop: str, scopes: list[str], params: Mapping[str, str]) -> Response:
    hidden = "".join(
        f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(v)}'>"
        for k, v in params.items()
        if k != "decision"
    )
    items = "".join(f"<li>{html.escape(s)}</li>" for s in scopes) or "<li>(no scopes)</li>"
    body = (
        f"<h1>Install {html.escape(title)}</h1>"
        f"<p>on <b>{html.escape(shop)}{SHOP_DOMAIN_SUFFIX}</b> (Tradewind sandbox)</p>"
        f"<p>The app asks for:</p><ul>{items}</ul>"
        f"<form method='post' action='/admin/oauth/authorize'>{hidden}"
        f"<input type='hidden' name='shop' value='{html.escape(shop)}'>"
        "<button name='decision' value='approve' type='submit'>Install app</button></form>"
    )
    return _page("Install app", body)


async def _body(request: Request) -> dict[str, Any]:
    kind = request.headers.get("content-type", "")
    if "json" in kind:
        try:
            data = await request.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    form = await request.form()
    return {k: str(v) for k, v in form.items()}


def _token_body(token: Token, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"access_token": token.value, "scope": ",".join(token.scopes)}
    if token.expires_at is not None:
        body["expires_in"] = max(0, int(token.expires_at - time.time()))
    if token.refresh_token is not None and token.refresh_expires_at is not None:
        body["refresh_token"] = token.refresh_token
        body["refresh_token_expires_in"] = max(0, int(token.refresh_expires_at - time.time()))
    body.update(extra or {})
    return body


def _expiring(data: dict[str, Any]) -> bool:
    return str(data.get("expiring", "0")) == "1"


async def access_token(sandbox: Sandbox, request: Request) -> Response:
    data = await _body(request)
    app = sandbox.state.apps.get(str(data.get("client_id", "")))
    secret = str(data.get("client_secret", ""))
    if app is None or not hmac.compare_digest(app.api_secret, secret):
        return oauth_error(400, "invalid_client", "Client credentials are invalid.")
    grant = str(data.get("grant_type") or ("authorization_code" if "code" in data else ""))
    if grant == "authorization_code":
        return _from_code(sandbox, app.api_key, data)
    if grant == "refresh_token":
        return _refresh(sandbox, app.api_key, str(data.get("refresh_token", "")))
    shop = _shop_name(sandbox, request, {k: str(v) for k, v in data.items()})
    if shop is None or sandbox.state.shop(shop) is None:
        return oauth_error(400, "invalid_request", "Unknown shop.")
    if grant == "client_credentials":
        if app.api_key not in sandbox.state.shops[shop].settings.installed_apps:
            return oauth_error(400, "invalid_request", "The app is not installed on this shop.")
        scopes = _installed_scopes(sandbox, shop, app.api_key)
        token = sandbox.issue_token(shop, app.api_key, scopes, TokenKind.client_credentials)
        return JSONResponse(_token_body(token))
    if grant == TOKEN_EXCHANGE and data.get("subject_token_type") == OFFLINE_TOKEN_TYPE:
        return _migrate(sandbox, app.api_key, shop, str(data.get("subject_token", "")))
    return oauth_error(400, "unsupported_grant_type", f"Unsupported grant type {grant!r}.")


def _installed_scopes(sandbox: Sandbox, shop: str, app_key: str) -> list[str]:
    granted: set[str] = set()
    for token in sandbox.tokens_of(shop, app_key):
        if not token.revoked:
            granted.update(token.scopes)
    return sorted(granted) or list(ALL_SCOPES)


def _from_code(sandbox: Sandbox, app_key: str, data: dict[str, Any]) -> Response:
    code = sandbox.codes.pop(str(data.get("code", "")), None)
    if code is None or code.app_key != app_key or time.time() - code.issued > CODE_SECONDS:
        return oauth_error(
            400, "invalid_request", "The authorization code was not found or was already used."
        )
    if code.online:
        token = sandbox.issue_token(code.shop, app_key, code.scopes, TokenKind.online)
        user = {
            "id": 902541635,
            "first_name": "Sandbox",
            "last_name": "Owner",
            "email": "owner@example.com",
            "email_verified": True,
            "account_owner": True,
            "locale": "en",
            "collaborator": False,
        }
        extra = {"associated_user_scope": ",".join(code.scopes), "associated_user": user}
        return JSONResponse(_token_body(token, extra))
    if _expiring(data):
        return JSONResponse(_token_body(_new_expiring(sandbox, code.shop, app_key, code.scopes)))
    # Authorizing again with offline access returns the same non-expiring token.
    for token in sandbox.tokens_of(code.shop, app_key):
        if token.kind is TokenKind.offline and not token.revoked:
            token.scopes = sorted(set(code.scopes))
            with sandbox.state.lock:
                sandbox.state.save_token(token)
            return JSONResponse(_token_body(token))
    token = sandbox.issue_token(code.shop, app_key, code.scopes, TokenKind.offline)
    return JSONResponse(_token_body(token))


def _new_expiring(sandbox: Sandbox, shop: str, app_key: str, scopes: list[str]) -> Token:
    """Only one expiring offline token is active per app and shop."""
    for token in sandbox.tokens_of(shop, app_key):
        if token.kind is TokenKind.expiring_offline and not token.revoked:
            sandbox.revoke_token(token.value)
    return sandbox.issue_token(shop, app_key, scopes, TokenKind.expiring_offline)


def _refresh(sandbox: Sandbox, app_key: str, refresh: str) -> Response:
    with sandbox.state.lock:
        current = sandbox.state.refresh_tokens.get(refresh)
        token = sandbox.state.tokens.get(current) if current else None
    if token is None or token.app_key != app_key:
        return oauth_error(400, "invalid_grant", "The refresh token is invalid.")
    if token.refresh_expires_at is not None and token.refresh_expires_at < time.time():
        return oauth_error(400, "invalid_grant", "The refresh token has expired.")
    fresh = _new_expiring(sandbox, token.shop, app_key, token.scopes)
    with sandbox.state.lock:
        # The refresh token just used stays good until ``fresh`` is first used.
        sandbox.state.refresh_tokens[refresh] = fresh.value
    return JSONResponse(_token_body(fresh))


def _migrate(sandbox: Sandbox, app_key: str, shop: str, subject: str) -> Response:
    """Token exchange of a non-expiring offline token for an expiring one (one way)."""
    with sandbox.state.lock:
        old = sandbox.state.tokens.get(subject)
    if old is None or old.revoked or old.app_key != app_key or old.kind is not TokenKind.offline:
        return oauth_error(400, "invalid_subject_token", "The subject token is invalid.")
    fresh = _new_expiring(sandbox, shop, app_key, old.scopes)
    sandbox.revoke_token(old.value)
    return JSONResponse(_token_body(fresh))
