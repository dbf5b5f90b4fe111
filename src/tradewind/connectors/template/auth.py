"""How a template's requests are authorized, and the tokens behind them.

* ``authorize_request`` puts each auth kind's credential on a request: an API key, Basic, a
  bearer token, an OAuth 2 access token or a session token.
* ``TokenStore`` keeps the access tokens of OAuth 2 and session plugins in the plugin's
  credential store (encrypted at rest); a token that is missing or about to expire is
  fetched again under the plugin's credential lock, shared by every process.
* ``runner_refresh`` fetches one: a refresh-token grant, a client-credentials grant, or
  the session's login.
* ``authorization_url`` and ``complete_authorization`` are the authorization code grant
  with PKCE (RFC 6749 §4.1, RFC 7636 S256) of ``oauth2_code``: the merchant is sent to the
  platform with a challenge, and the code that comes back is exchanged with its verifier.
  The verifier waits in the credential store, under a digest of the state, and is taken
  out (single use) when the platform sends the merchant back.

Of a template's expressions, only those of ``auth`` see ``secrets``: this module renders
them over the runner's ``auth_data``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx2

from tradewind.connectors.errors import AuthFailed
from tradewind.connectors.template.expressions import plain_text
from tradewind.connectors.template.format import (
    ApiKeyAuth,
    BasicAuth,
    BearerAuth,
    Inject,
    OAuth2ClientAuth,
    OAuth2CodeAuth,
    SessionAuth,
)

if TYPE_CHECKING:  # the runner calls in here; this module only reads it
    from tradewind.connectors.template.runtime import Runner

# A pending authorization's verifier, in the credential store under this prefix and the
# state's digest (the state itself is a bearer secret until the callback).
VERIFIER_KEY = "pkce_verifier:"
# An authorization the merchant never finished is forgotten after this long (the hub's
# own state lives 15 minutes): stale verifiers are pruned when the next one is kept.
VERIFIER_TTL = 3600.0


def authorize_request(runner: Runner, headers: dict[str, str], params: dict[str, str]) -> None:
    """Add the credential of ``runner``'s auth kind to a request's headers or query."""
    auth = runner.template.auth
    compiled = runner.compiled
    if isinstance(auth, ApiKeyAuth):
        _inject(runner, auth.inject, runner.auth_data(), headers, params)
    elif isinstance(auth, BasicAuth):
        data = runner.auth_data()
        user = compiled.text(auth.username).render(data)
        password = compiled.text(auth.password).render(data)
        headers["Authorization"] = "Basic " + _b64(f"{user}:{password}")
    elif isinstance(auth, BearerAuth):
        headers["Authorization"] = "Bearer " + compiled.text(auth.token).render(runner.auth_data())
    elif isinstance(auth, OAuth2CodeAuth | OAuth2ClientAuth):
        headers["Authorization"] = "Bearer " + _access_token(runner)
    elif isinstance(auth, SessionAuth):
        data = runner.auth_data(token=_access_token(runner))
        _inject(runner, auth.inject, data, headers, params)


def _inject(
    runner: Runner,
    inject: Inject,
    data: dict[str, Any],
    headers: dict[str, str],
    params: dict[str, str],
) -> None:
    value = runner.compiled.text(inject.value).render(data)
    if inject.header:
        headers[inject.header] = value
    if inject.query:
        params[inject.query] = value


def _access_token(runner: Runner) -> str:
    if runner.tokens is None:
        raise AuthFailed("this plugin has no token store for its authorization")
    return runner.tokens.access_token(runner)


class TokenStore:
    """Access tokens of an OAuth 2 or session plugin, kept in its credential store; a
    refresh runs under the plugin's credential lock, and a rotated refresh token is
    saved before the new access token is used."""

    def __init__(self, credentials: Any, margin: float) -> None:
        self.credentials = credentials
        self.margin = margin
        self._lock = threading.Lock()

    def known(self) -> list[str]:
        held = self.credentials.get()
        return [held.get("access_token", ""), held.get("refresh_token", "")]

    def access_token(self, runner: Runner) -> str:
        held = self.credentials.get()
        if self._fresh(held):
            return str(held["access_token"])
        with self._lock, self.credentials.exclusive():
            held = self.credentials.get()  # another process may have refreshed meanwhile
            if self._fresh(held):
                return str(held["access_token"])
            changes = runner_refresh(runner, held)
            self.credentials.update(changes)
            return str(changes["access_token"])

    def save_grant(self, changes: Mapping[str, str | None]) -> None:
        """Store the tokens of a new grant (a ``None`` removes the old grant's value)."""
        with self._lock, self.credentials.exclusive():
            self.credentials.update(changes)

    def keep_verifier(self, state: str, verifier: str) -> None:
        now = time.time()
        stale: dict[str, str | None] = {
            key: None
            for key, value in self.credentials.get().items()
            if key.startswith(VERIFIER_KEY) and _kept_at(value) + VERIFIER_TTL < now
        }
        self.credentials.update({**stale, _verifier_key(state): f"{now:.0f} {verifier}"})

    def take_verifier(self, state: str) -> str | None:
        """The verifier kept for ``state``, removed as it is read: a second callback with
        the same state finds none."""
        key = _verifier_key(state)
        with self._lock, self.credentials.exclusive():
            kept = self.credentials.get().get(key)
            if kept is None:
                return None
            self.credentials.update({key: None})
        verifier = kept.partition(" ")[2]
        return verifier if verifier and _kept_at(kept) + VERIFIER_TTL >= time.time() else None

    def _fresh(self, held: Mapping[str, str]) -> bool:
        token, expires = held.get("access_token"), held.get("expires_at")
        if not token:
            return False
        if not expires:
            return True
        return float(expires) - self.margin > time.time()


def runner_refresh(runner: Runner, held: Mapping[str, str]) -> dict[str, str | None]:
    """A new access token for ``runner``'s auth: a refresh-token grant, a client
    credentials grant or a login, by the template's auth kind."""
    auth = runner.template.auth
    if isinstance(auth, SessionAuth):
        return _login(runner, auth)
    if not isinstance(auth, OAuth2CodeAuth | OAuth2ClientAuth):
        raise AuthFailed(f"{auth.kind} has no token to refresh")
    form: dict[str, str] = {}
    if isinstance(auth, OAuth2CodeAuth):
        refresh = held.get("refresh_token")
        if not refresh:
            raise AuthFailed("the authorization has no refresh token: authorize the plugin again")
        form |= {"grant_type": "refresh_token", "refresh_token": refresh}
    else:
        form["grant_type"] = "client_credentials"
        if auth.scopes:
            form["scope"] = " ".join(auth.scopes)
    body = _token_grant(runner, auth, form)
    changes: dict[str, str | None] = {"access_token": str(body["access_token"])}
    if body.get("expires_in"):
        changes["expires_at"] = str(time.time() + float(body["expires_in"]))
    if auth.refresh.rotate_refresh_token and body.get("refresh_token"):
        changes["refresh_token"] = str(body["refresh_token"])
    return changes


def authorization_url(runner: Runner, state: str, redirect_uri: str) -> str:
    """Where to send the merchant to grant access: the platform's authorize endpoint with
    the client, the scopes, ``state`` and (``pkce``) the S256 challenge of a new verifier,
    which is kept until the callback."""
    auth = _code_auth(runner)
    tokens = _tokens(runner)
    data = runner.auth_data()
    verifier = secrets.token_urlsafe(64)  # 86 characters, within RFC 7636's 43 to 128
    query = {
        "response_type": "code",
        "client_id": runner.compiled.text(auth.client_id).render(data),
        "redirect_uri": redirect_uri,
        "state": state,
    }
    if auth.scopes:
        query["scope"] = " ".join(auth.scopes)
    if auth.pkce:
        query |= {"code_challenge": code_challenge(verifier), "code_challenge_method": "S256"}
    # Kept even without PKCE: it is how the callback's state is known to be ours.
    tokens.keep_verifier(state, verifier)
    base = runner.compiled.text(auth.authorize_url).render(data)
    joiner = "&" if urllib.parse.urlsplit(base).query else "?"
    return base + joiner + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)


def complete_authorization(runner: Runner, params: Mapping[str, str], redirect_uri: str) -> None:
    """The platform's redirect back: refused when it carries ``error``, no code, or a
    state with no kept verifier (unknown, or already used); otherwise the code is
    exchanged, with the verifier, for the tokens, stored as a refresh stores them."""
    auth = _code_auth(runner)
    tokens = _tokens(runner)
    state = params.get("state", "")
    verifier = tokens.take_verifier(state) if state else None
    if params.get("error"):
        # The platform's own words, shown to the merchant: bounded, as anyone can send them.
        said = (params.get("error_description") or params["error"])[:300]
        raise AuthFailed(f"the platform refused the authorization: {said}")
    if verifier is None:
        raise AuthFailed("this authorization was not started here, or was already completed")
    code = params.get("code")
    if not code:
        raise AuthFailed("the platform sent the merchant back without an authorization code")
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if auth.pkce:
        form["code_verifier"] = verifier
    body = _token_grant(runner, auth, form, operation="auth.code")
    expires_in = body.get("expires_in")
    refresh = body.get("refresh_token")
    tokens.save_grant(
        {
            "access_token": str(body["access_token"]),
            # A new grant replaces the old one whole: what it lacks is cleared.
            "refresh_token": str(refresh) if refresh else None,
            "expires_at": str(time.time() + float(expires_in)) if expires_in else None,
        }
    )


def code_challenge(verifier: str) -> str:
    """RFC 7636 S256: base64url of the verifier's SHA-256, without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _code_auth(runner: Runner) -> OAuth2CodeAuth:
    auth = runner.template.auth
    if not isinstance(auth, OAuth2CodeAuth):
        raise AuthFailed(f"the template authorizes with {auth.kind}, not oauth2_code")
    return auth


def _tokens(runner: Runner) -> TokenStore:
    if runner.tokens is None:
        raise AuthFailed("this plugin has no token store for its authorization")
    return runner.tokens


def _verifier_key(state: str) -> str:
    return VERIFIER_KEY + hashlib.sha256(state.encode()).hexdigest()


def _kept_at(value: str) -> float:
    try:
        return float(value.partition(" ")[0])
    except ValueError:
        return 0.0


def _login(runner: Runner, auth: SessionAuth) -> dict[str, str | None]:
    exchange = runner.send("auth.login", auth.login, runner.auth_data(), authorize=False)
    token = plain_text(runner.compiled.expr(auth.token).evaluate(exchange.view()))
    if not token:
        raise AuthFailed("the login answered without a session token")
    return {"access_token": token, "expires_at": str(time.time() + auth.expires_in)}


def _token_grant(
    runner: Runner,
    auth: OAuth2CodeAuth | OAuth2ClientAuth,
    form: dict[str, str],
    *,
    operation: str = "auth.token",
) -> dict[str, Any]:
    """POST ``form`` to the token endpoint with the client's credentials (Basic or in the
    body; a public client without a secret sends its id only); the answer, which holds an
    access token, or ``AuthFailed``."""
    data = runner.auth_data()
    client_id = runner.compiled.text(auth.client_id).render(data)
    client_secret = runner.compiled.text(auth.client_secret).render(data)
    headers: dict[str, str] = {"Accept": "application/json"}
    if auth.client_auth == "basic":
        headers["Authorization"] = "Basic " + _b64(f"{client_id}:{client_secret}")
    else:
        form = {**form, "client_id": client_id}
        if client_secret:
            form["client_secret"] = client_secret
    response = runner.client.request(
        "POST",
        runner.compiled.text(auth.token_url).render(data),
        operation=operation,
        data=form,
        headers=headers,
        allow=(400, 401),
    )
    body = _json_object(response)
    if response.status_code in (400, 401) or body is None or "access_token" not in body:
        said = [str(body.get(key) or "") for key in ("error", "error_description")] if body else []
        reason = ": ".join(part for part in said if part)
        raise AuthFailed(f"the token endpoint refused the grant{f' ({reason})' if reason else ''}")
    return body


def _json_object(response: httpx2.Response) -> dict[str, Any] | None:
    try:
        found = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
