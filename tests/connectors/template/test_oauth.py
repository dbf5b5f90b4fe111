"""OAuth 2 authorization code with PKCE for templates (``auth.kind: oauth2_code``), on an
in-process transport: the authorize URL carries the S256 challenge of a verifier kept in
the plugin's credentials; the callback exchanges the code with that verifier, once; a
platform's refusal, a missing code and a state that is not ours are refused; the grant's
tokens are then used and refreshed like any other. The whole flow through the hub, over
real HTTP, is ``test_oauth_flow.py``."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx2
import pytest

from tests.connectors.template.test_runtime import HEAD, HOOK, Credentials, ok, runner
from tradewind.connectors.base import Authorizes, Capability
from tradewind.connectors.errors import AuthFailed
from tradewind.connectors.template import TemplateInvalid, auth, connector_class, load_template
from tradewind.connectors.template.auth import VERIFIER_KEY

REDIRECT = "https://hub.example/oauth/callback"
CODE = (
    HEAD
    + """\
auth:
  kind: oauth2_code
  authorize_url: "https://auth.svc.example/authorize?audience={{ settings.region }}"
  token_url: https://auth.svc.example/token
  client_id: tradewind
  client_secret: "{{ secrets.client_secret }}"
  scopes: [orders.read, stock.write]
"""
    + HOOK
)


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def _kept(credentials: Credentials) -> dict[str, str]:
    return {k: v for k, v in credentials.held.items() if k.startswith(VERIFIER_KEY)}


def _verifier(credentials: Credentials) -> str:
    (kept,) = _kept(credentials).values()
    return kept.partition(" ")[2]


class TokenEndpoint:
    """The platform's token endpoint: a code grant and a refresh grant, each form kept."""

    def __init__(self) -> None:
        self.forms: list[dict[str, list[str]]] = []
        self.headers: list[httpx2.Headers] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.host != "auth.svc.example":
            assert request.headers["authorization"] == f"Bearer at-{len(self.forms)}"
            return ok(request)
        form = parse_qs(request.content.decode())
        self.forms.append(form)
        self.headers.append(request.headers)
        number = len(self.forms)
        return httpx2.Response(
            200,
            json={
                "access_token": f"at-{number}",
                "refresh_token": f"rt-{number}",
                "expires_in": 3600,
            },
        )


def test_the_authorize_url_carries_the_s256_challenge_of_a_kept_verifier() -> None:
    credentials = Credentials()
    run, seen = runner(CODE, ok, credentials=credentials)
    url = auth.authorization_url(run, "state-1", REDIRECT)
    assert url.startswith("https://auth.svc.example/authorize?audience=eu&")
    query = _query(url)
    verifier = _verifier(credentials)
    assert 43 <= len(verifier) <= 128
    digest = hashlib.sha256(verifier.encode()).digest()
    assert query == {
        "audience": "eu",
        "response_type": "code",
        "client_id": "tradewind",
        "redirect_uri": REDIRECT,
        "scope": "orders.read stock.write",
        "state": "state-1",
        "code_challenge": base64.urlsafe_b64encode(digest).decode().rstrip("="),
        "code_challenge_method": "S256",
    }
    assert "=" not in query["code_challenge"] and "%20" in url  # scopes joined by a space
    assert "state-1" not in str(credentials.held)  # kept under the state's digest
    assert seen == []  # nothing is sent before the merchant comes back


def test_the_code_is_exchanged_with_its_verifier_once_and_the_token_then_used() -> None:
    endpoint = TokenEndpoint()
    credentials = Credentials()
    run, seen = runner(CODE, endpoint, credentials=credentials)
    auth.authorization_url(run, "state-1", REDIRECT)
    verifier = _verifier(credentials)
    params = {"code": "c-1", "state": "state-1"}
    auth.complete_authorization(run, params, REDIRECT)
    assert endpoint.forms == [
        {
            "grant_type": ["authorization_code"],
            "code": ["c-1"],
            "redirect_uri": [REDIRECT],
            "code_verifier": [verifier],
            "client_id": ["tradewind"],
            "client_secret": ["cs-654321"],
        }
    ]
    assert _kept(credentials) == {}  # single use: gone once completed
    assert credentials.held["access_token"] == "at-1"
    assert credentials.held["refresh_token"] == "rt-1"
    run.run_hook("ping", None)  # TokenEndpoint checks the bearer token
    assert seen[-1].headers["authorization"] == "Bearer at-1"
    with pytest.raises(AuthFailed, match="not started here, or was already completed"):
        auth.complete_authorization(run, params, REDIRECT)
    assert len(endpoint.forms) == 1  # a replay never reaches the platform


def test_an_expired_grant_is_refreshed_with_its_refresh_token() -> None:
    endpoint = TokenEndpoint()
    credentials = Credentials()
    run, _ = runner(CODE, endpoint, credentials=credentials)
    auth.authorization_url(run, "state-1", REDIRECT)
    auth.complete_authorization(run, {"code": "c-1", "state": "state-1"}, REDIRECT)
    credentials.held["expires_at"] = "0"  # the platform's hour has passed
    run.run_hook("ping", None)
    assert endpoint.forms[1]["grant_type"] == ["refresh_token"]
    assert endpoint.forms[1]["refresh_token"] == ["rt-1"]
    assert credentials.held["access_token"] == "at-2"


def test_basic_client_auth_and_no_pkce() -> None:
    text = CODE.replace("  scopes:", "  client_auth: basic\n  pkce: false\n  scopes:")
    endpoint = TokenEndpoint()
    credentials = Credentials()
    run, _ = runner(text, endpoint, credentials=credentials)
    query = _query(auth.authorization_url(run, "state-1", REDIRECT))
    assert "code_challenge" not in query and "code_challenge_method" not in query
    auth.complete_authorization(run, {"code": "c-1", "state": "state-1"}, REDIRECT)
    (form,) = endpoint.forms
    assert "code_verifier" not in form and "client_secret" not in form
    expected = "Basic " + base64.b64encode(b"tradewind:cs-654321").decode()
    assert endpoint.headers[0]["authorization"] == expected


@pytest.mark.parametrize(
    ("params", "words"),
    [
        (
            {"error": "access_denied", "error_description": "The merchant said no", "state": "s"},
            "refused the authorization: The merchant said no",
        ),
        ({"error": "access_denied", "state": "s"}, "refused the authorization: access_denied"),
        ({"state": "s"}, "without an authorization code"),
        ({"code": "c-1", "state": "someone-elses"}, "not started here"),
        ({"code": "c-1"}, "not started here"),
    ],
    ids=["error-described", "error", "no-code", "unknown-state", "no-state"],
)
def test_a_callback_that_is_not_a_grant_is_refused_before_any_exchange(
    params: dict[str, str], words: str
) -> None:
    endpoint = TokenEndpoint()
    credentials = Credentials()
    run, seen = runner(CODE, endpoint, credentials=credentials)
    auth.authorization_url(run, "s", REDIRECT)
    with pytest.raises(AuthFailed, match=words):
        auth.complete_authorization(run, params, REDIRECT)
    assert seen == [] and "access_token" not in credentials.held
    if params.get("state") == "s":  # the refused callback spent its state
        assert _kept(credentials) == {}
        with pytest.raises(AuthFailed, match="not started here"):
            auth.complete_authorization(run, {"code": "c-1", "state": "s"}, REDIRECT)


def test_a_code_the_platform_refuses_is_authorization_failed_with_its_words() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            400, json={"error": "invalid_grant", "error_description": "code expired"}
        )

    run, _ = runner(CODE, refuse, credentials=Credentials())
    auth.authorization_url(run, "s", REDIRECT)
    with pytest.raises(AuthFailed, match="invalid_grant: code expired"):
        auth.complete_authorization(run, {"code": "c-1", "state": "s"}, REDIRECT)


def test_a_verifier_left_by_an_abandoned_authorization_is_pruned() -> None:
    credentials = Credentials({VERIFIER_KEY + "old": "1000 abandoned-verifier"})
    run, _ = runner(CODE, ok, credentials=credentials)
    auth.authorization_url(run, "state-1", REDIRECT)
    assert list(_kept(credentials)) == [VERIFIER_KEY + hashlib.sha256(b"state-1").hexdigest()]


def test_only_an_oauth2_code_template_authorizes() -> None:
    with_code = connector_class(load_template(CODE))
    assert Capability.OAUTH in with_code.info.capabilities
    assert issubclass(with_code, Authorizes)
    key = 'auth: {kind: api_key, inject: {header: X-Key, value: "{{ secrets.key }}"}}\n'
    without = connector_class(load_template(HEAD + key + HOOK))
    assert Capability.OAUTH not in without.info.capabilities
    assert not issubclass(without, Authorizes)
    with pytest.raises(TemplateInvalid, match=r"oauth comes with `auth\.kind: oauth2_code`"):
        load_template(HEAD + "capabilities: [oauth]\n" + key + HOOK)
    claimed = load_template(
        CODE.replace("category: custom", "category: custom\ncapabilities: [oauth]")
    )
    assert Capability.OAUTH in connector_class(claimed).info.capabilities
