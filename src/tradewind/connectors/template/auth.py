"""How a template's requests are authorized, and the tokens behind them.

* ``authorize_request`` puts each auth kind's credential on a request: an API key, Basic, a
  bearer token, an OAuth 2 access token or a session token.
* ``TokenStore`` keeps the access tokens of OAuth 2 and session plugins in the plugin's
  credential store (encrypted at rest); a token that is missing or about to expire is
  fetched again under the plugin's credential lock, shared by every process.
* ``runner_refresh`` fetches one: a refresh-token grant, a client-credentials grant, or
  the session's login.

Only this module reads ``secrets``: the data its expressions see is the runner's
``auth_data``.
"""

from __future__ import annotations

import base64
import json
import threading
import time
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


def _login(runner: Runner, auth: SessionAuth) -> dict[str, str | None]:
    exchange = runner.send("auth.login", auth.login, runner.auth_data(), authorize=False)
    token = plain_text(runner.compiled.expr(auth.token).evaluate(exchange.view()))
    if not token:
        raise AuthFailed("the login answered without a session token")
    return {"access_token": token, "expires_at": str(time.time() + auth.expires_in)}


def _token_grant(
    runner: Runner, auth: OAuth2CodeAuth | OAuth2ClientAuth, form: dict[str, str]
) -> dict[str, Any]:
    """POST ``form`` to the token endpoint with the client's credentials (Basic or in the
    body); the answer, which holds an access token, or ``AuthFailed``."""
    data = runner.auth_data()
    client_id = runner.compiled.text(auth.client_id).render(data)
    client_secret = runner.compiled.text(auth.client_secret).render(data)
    headers: dict[str, str] = {"Accept": "application/json"}
    if auth.client_auth == "basic":
        headers["Authorization"] = "Basic " + _b64(f"{client_id}:{client_secret}")
    else:
        form = {**form, "client_id": client_id, "client_secret": client_secret}
    response = runner.client.request(
        "POST",
        runner.compiled.text(auth.token_url).render(data),
        operation="auth.token",
        data=form,
        headers=headers,
        allow=(400, 401),
    )
    body = _json_object(response)
    if response.status_code in (400, 401) or body is None or "access_token" not in body:
        reason = str(body.get("error", "")) if body is not None else ""
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
