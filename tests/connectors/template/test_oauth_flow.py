"""A template plugin authorized through the hub's own flow (``begin_authorization`` →
the platform → ``finish_authorization``) against a small OAuth server over real HTTP on
loopback, which checks PKCE as a platform does: the token request's verifier must hash
to the challenge the authorize request carried. The exchange is an execution of the
plugin, the first connection activates it, a replayed or declined callback is refused,
and the token is sent on every call and refreshed once it expires."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx2
import pytest
from fastapi.testclient import TestClient

from tradewind.app import actions
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.connectors.template import connector_class, load_template
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import PluginState
from tradewind.errors import Invalid
from tradewind.hub import Hub
from tradewind.monitoring import executions
from tradewind.server import create_app
from tradewind.settings import Settings
from tradewind.sync.runtime import PluginCredentials

TEMPLATE = """\
schema: tradewind-template/v1
id: acme
version: 1.0.0
display_name: Acme
category: storefront
environments:
  live: {base_url: "{{ settings.api_url }}"}
settings:
  api_url: {type: string}
  client_id: {type: string}
  client_secret: {type: string, secret: true}
auth:
  kind: oauth2_code
  authorize_url: "{{ settings.api_url }}/authorize"
  token_url: "{{ settings.api_url }}/token"
  client_id: "{{ settings.client_id }}"
  client_secret: "{{ secrets.client_secret }}"
  scopes: [orders, stock]
test_connection:
  request: {path: /api/me}
  account: body.account
"""
Acme = connector_class(load_template(TEMPLATE))
CLIENT_ID, CLIENT_SECRET = "tw-client", "tw-secret"


class OAuthPlatform:
    """An authorization server and its API: codes tied to their PKCE challenge and
    redirect URI, used once; access tokens for an hour, refreshable."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.codes: dict[str, tuple[str, str]] = {}  # code → (challenge, redirect_uri)
        self.access: set[str] = set()
        self.refresh: set[str] = set()
        self.grants: list[dict[str, str]] = []  # every token request's form
        self.seen_tokens: list[str] = []  # the bearer token of each API call
        handler = type("Handler", (_Handler,), {"platform": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> OAuthPlatform:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def approve(self, query: dict[str, str]) -> str:
        """The merchant approves: where the browser is sent back to."""
        assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
        assert query["scope"] == "orders stock" and query["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(8)
        with self.lock:
            self.codes[code] = (query["code_challenge"], query["redirect_uri"])
        back = {"code": code, "state": query["state"]}
        return f"{query['redirect_uri']}?{urlencode(back)}"

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.grants.append(form)
            if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
                return 401, {"error": "invalid_client"}
            if form["grant_type"] == "authorization_code":
                challenge, redirect_uri = self.codes.pop(form.get("code", ""), ("", ""))
                if not challenge or challenge != _s256(form.get("code_verifier", "")):
                    return 400, {"error": "invalid_grant", "error_description": "bad verifier"}
                if redirect_uri != form.get("redirect_uri"):
                    return 400, {"error": "invalid_grant", "error_description": "redirect_uri"}
            elif form["grant_type"] == "refresh_token":
                if form.get("refresh_token") not in self.refresh:
                    return 400, {"error": "invalid_grant"}
                self.refresh.discard(form["refresh_token"])
            else:
                return 400, {"error": "unsupported_grant_type"}
            access, refresh = f"at-{len(self.grants)}", f"rt-{len(self.grants)}"
            self.access.add(access)
            self.refresh.add(refresh)
        return 200, {"access_token": access, "refresh_token": refresh, "expires_in": 3600}


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class _Handler(BaseHTTPRequestHandler):
    platform: ClassVar[OAuthPlatform]

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        target = urlsplit(self.path)
        if target.path == "/authorize":
            self.send_response(302)
            self.send_header("Location", self.platform.approve(dict(parse_qsl(target.query))))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        self.platform.seen_tokens.append(token)
        if token not in self.platform.access:
            self._json(401, {"error": "invalid_token"})
            return
        self._json(200, {"account": "acme-store"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = dict(parse_qsl(self.rfile.read(length).decode()))
        self._json(*self.platform.token(form))

    def _json(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def platform() -> Iterator[OAuthPlatform]:
    with OAuthPlatform() as running:
        yield running


@pytest.fixture
def hub(settings: Settings) -> Iterator[Hub]:
    with Hub(settings, registry=ConnectorRegistry.of(Acme)) as built:
        yield built


def _plugin(hub: Hub, platform: OAuthPlatform) -> int:
    with hub.db.unit_of_work() as session:
        return plugins.add_plugin(
            session,
            hub.vault,
            Acme.info,
            name="acme",
            config={
                "api_url": platform.url,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            },
        ).id


def _callback(url: str) -> dict[str, str]:
    """The merchant's browser at the platform, approving, and where it is sent back."""
    answer = httpx2.get(url, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return dict(parse_qsl(urlsplit(answer.headers["location"]).query))


def test_a_template_plugin_is_connected_through_the_hubs_oauth_flow(
    hub: Hub, platform: OAuthPlatform
) -> None:
    plugin_id = _plugin(hub, platform)
    url = actions.begin_authorization(hub, plugin_id)
    assert url.startswith(f"{platform.url}/authorize?")
    params = _callback(url)
    plugin = actions.finish_authorization(hub, params)
    assert plugin.state is PluginState.ACTIVE  # the first connection activates it
    (grant,) = platform.grants
    assert grant["grant_type"] == "authorization_code" and grant["code_verifier"]
    held = PluginCredentials(hub, plugin_id).get()
    assert held["access_token"] == "at-1" and held["refresh_token"] == "rt-1"
    assert not [key for key in held if key.startswith("pkce")]  # the verifier is spent
    with hub.db.read() as session:
        recorded = [(e.operation, e.outcome) for e in executions.recent(session, plugin_id)]
    assert ("auth.code", "success") in recorded

    report = actions.test_connection(hub, plugin_id)
    assert report.ok and report.account == "acme-store"
    assert platform.seen_tokens == ["at-1"]

    with pytest.raises(Invalid, match="was used"):
        actions.finish_authorization(hub, params)  # a replayed callback
    assert len(platform.grants) == 1

    PluginCredentials(hub, plugin_id).update({"expires_at": "0"})  # an hour later
    assert actions.test_connection(hub, plugin_id).ok
    assert platform.grants[-1] == {
        "grant_type": "refresh_token",
        "refresh_token": "rt-1",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    assert platform.seen_tokens[-1] == "at-2"


def test_a_declined_authorization_is_refused_with_the_platforms_words(
    hub: Hub, platform: OAuthPlatform
) -> None:
    plugin_id = _plugin(hub, platform)
    state = dict(parse_qsl(urlsplit(actions.begin_authorization(hub, plugin_id)).query))["state"]
    declined = {
        "state": state,
        "error": "access_denied",
        "error_description": "The merchant declined",
    }
    with pytest.raises(Invalid, match="refused the authorization: The merchant declined"):
        actions.finish_authorization(hub, declined)
    assert platform.grants == []
    assert "access_token" not in PluginCredentials(hub, plugin_id).get()
    with hub.db.read() as session:
        assert plugins.get_plugin(session, plugin_id).state is PluginState.INACTIVE
    params = _callback(actions.begin_authorization(hub, plugin_id))  # trying again works
    assert actions.finish_authorization(hub, params).state is PluginState.ACTIVE


def test_the_callback_page_shows_why_the_platform_declined(
    hub: Hub, platform: OAuthPlatform
) -> None:
    plugin_id = _plugin(hub, platform)
    state = dict(parse_qsl(urlsplit(actions.begin_authorization(hub, plugin_id)).query))["state"]
    declined = {"state": state, "error": "access_denied", "error_description": "Not today"}
    with TestClient(create_app(hub)) as client:
        page = client.get("/oauth/callback", params=declined, follow_redirects=False)
    assert page.status_code == 403
    assert "refused the authorization: Not today" in page.text
