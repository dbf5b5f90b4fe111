"""The runtime of a template, on an in-process transport: each auth kind sends what it
should; OAuth tokens are fetched once under concurrency, refreshed before they expire and
a rotated refresh token is kept; error rules and HTTP fall back to the four typed
errors; steps read each other, loop and poll within their bounds."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs

import httpx2
import pytest

from tradewind.connectors.errors import AuthFailed, RateLimited, Rejected, Unavailable
from tradewind.connectors.http import HttpClient
from tradewind.connectors.template import load_template
from tradewind.connectors.template.auth import TokenStore
from tradewind.connectors.template.runtime import Runner

HEAD = """\
schema: tradewind-template/v1
id: svc
version: 1.0.0
display_name: Service
category: custom
environments:
  live: {base_url: "https://api.svc.example"}
settings:
  key: {type: string, secret: true}
  client_secret: {type: string, secret: true}
  region: {type: string, default: eu}
test_connection:
  request: {path: /me}
"""
HOOK = """\
hooks:
  ping:
    steps:
      - name: ping
        request: {path: /ping}
    output: steps.ping.body
"""


class Credentials:
    """A plugin's credential store, in memory, with its lock."""

    def __init__(self, held: Mapping[str, str] | None = None) -> None:
        self.held: dict[str, str] = dict(held or {})
        self.lock = threading.Lock()
        self.updates: list[dict[str, str | None]] = []

    def get(self) -> Mapping[str, str]:
        return dict(self.held)

    def update(self, changes: Mapping[str, str | None]) -> None:
        self.updates.append(dict(changes))
        for key, value in changes.items():
            if value is None:
                self.held.pop(key, None)
            else:
                self.held[key] = value

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self.lock:
            yield


Answer = Callable[[httpx2.Request], httpx2.Response]


def runner(
    text: str,
    answer: Answer,
    *,
    credentials: Credentials | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> tuple[Runner, list[httpx2.Request]]:
    seen: list[httpx2.Request] = []

    def record(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return answer(request)

    template = load_template(text)
    margin = getattr(getattr(template.auth, "refresh", None), "margin", 60.0)
    extra: dict[str, Any] = {}
    if clock is not None:
        extra["clock"] = clock
    if sleep is not None:
        extra["sleep"] = sleep
    built = Runner(
        template,
        settings={"region": "eu"},
        secrets={"key": "k-123456", "client_secret": "cs-654321"},
        client=HttpClient("https://api.svc.example", transport=httpx2.MockTransport(record)),
        environment="live",
        tokens=TokenStore(credentials, margin) if credentials is not None else None,
        **extra,
    )
    return built, seen


def ok(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, json={"pong": True})


@pytest.mark.parametrize(
    ("auth", "header", "value", "query"),
    [
        (
            '{kind: api_key, inject: {header: X-Key, value: "{{ secrets.key }}"}}',
            "x-key",
            "k-123456",
            None,
        ),
        (
            '{kind: api_key, inject: {query: api_key, value: "{{ secrets.key }}"}}',
            None,
            None,
            "k-123456",
        ),
        ('{kind: bearer, token: "{{ secrets.key }}"}', "authorization", "Bearer k-123456", None),
        (
            '{kind: basic, username: "{{ secrets.key }}", password: ""}',
            "authorization",
            "Basic " + base64.b64encode(b"k-123456:").decode(),
            None,
        ),
        ("{kind: none}", "authorization", None, None),
    ],
)
def test_each_simple_auth_kind_sends_its_credential(
    auth: str, header: str | None, value: str | None, query: str | None
) -> None:
    run, seen = runner(HEAD + f"auth: {auth}\n" + HOOK, ok)
    assert run.run_hook("ping", None).output == {"pong": True}
    (request,) = seen
    if header is not None:
        assert request.headers.get(header) == value
    sent = parse_qs(request.url.query.decode()).get("api_key")
    assert (sent[0] if sent else None) == query


CLIENT_CREDENTIALS = (
    HEAD
    + """\
auth:
  kind: oauth2_client_credentials
  token_url: https://auth.svc.example/token
  client_id: tradewind
  client_secret: "{{ secrets.client_secret }}"
  scopes: [rates]
  refresh: {margin: 60}
"""
    + HOOK
)


def test_a_client_credentials_token_is_fetched_once_under_concurrency_and_reused() -> None:
    tokens: list[str] = []
    lock = threading.Lock()

    def answer(request: httpx2.Request) -> httpx2.Response:
        if request.url.host == "auth.svc.example":
            form = parse_qs(request.content.decode())
            assert form["grant_type"] == ["client_credentials"]
            assert form["client_secret"] == ["cs-654321"] and form["scope"] == ["rates"]
            with lock:
                tokens.append(f"at-{len(tokens)}")
                return httpx2.Response(200, json={"access_token": tokens[-1], "expires_in": 3600})
        assert request.headers["authorization"] == "Bearer at-0"
        return ok(request)

    credentials = Credentials()
    run, _ = runner(CLIENT_CREDENTIALS, answer, credentials=credentials)
    threads = [threading.Thread(target=run.run_hook, args=("ping", None)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert tokens == ["at-0"]  # eight hooks at once, one token request
    assert credentials.held["access_token"] == "at-0"


CODE = (
    HEAD
    + """\
auth:
  kind: oauth2_code
  authorize_url: https://auth.svc.example/authorize
  token_url: https://auth.svc.example/token
  client_id: tradewind
  client_secret: "{{ secrets.client_secret }}"
  client_auth: basic
  refresh: {margin: 300, rotate_refresh_token: true}
"""
    + HOOK
)


def test_an_expiring_token_is_refreshed_and_the_rotated_refresh_token_kept() -> None:
    def answer(request: httpx2.Request) -> httpx2.Response:
        if request.url.host == "auth.svc.example":
            form = parse_qs(request.content.decode())
            assert form == {"grant_type": ["refresh_token"], "refresh_token": ["rt-1"]}
            expected = "Basic " + base64.b64encode(b"tradewind:cs-654321").decode()
            assert request.headers["authorization"] == expected
            return httpx2.Response(
                200, json={"access_token": "at-2", "refresh_token": "rt-2", "expires_in": 3600}
            )
        assert request.headers["authorization"] == "Bearer at-2"
        return ok(request)

    # The held token expires in 100 s, inside the 300 s margin: it is refreshed first.
    credentials = Credentials(
        {"access_token": "at-1", "refresh_token": "rt-1", "expires_at": str(time.time() + 100)}
    )
    run, seen = runner(CODE, answer, credentials=credentials)
    run.run_hook("ping", None)
    assert credentials.held["refresh_token"] == "rt-2"  # the rotated one, saved
    assert credentials.updates[0]["refresh_token"] == "rt-2"
    assert [r.url.host for r in seen] == ["auth.svc.example", "api.svc.example"]
    run.run_hook("ping", None)  # fresh now: no second refresh
    assert len(seen) == 3


def test_a_refused_refresh_is_authorization_lost() -> None:
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(400, json={"error": "invalid_grant"})

    credentials = Credentials({"access_token": "at-1", "refresh_token": "rt-1", "expires_at": "0"})
    run, _ = runner(CODE, answer, credentials=credentials)
    with pytest.raises(AuthFailed, match="invalid_grant"):
        run.run_hook("ping", None)


SESSION = (
    HEAD
    + """\
auth:
  kind: session_token
  login:
    method: POST
    path: /login
    body: '{"key": secrets.key}'
  token: body.session
  expires_in: 600
  inject: {header: X-Session, value: "{{ token }}"}
"""
    + HOOK
)


def test_a_session_logs_in_once_and_sends_its_token() -> None:
    def answer(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/login":
            assert json.loads(request.content) == {"key": "k-123456"}
            return httpx2.Response(200, json={"session": "s-42"})
        assert request.headers["x-session"] == "s-42"
        return ok(request)

    run, seen = runner(SESSION, answer, credentials=Credentials())
    run.run_hook("ping", None)
    run.run_hook("ping", None)
    assert [r.url.path for r in seen] == ["/login", "/ping", "/ping"]


RULES = (
    HEAD
    + """\
auth: {kind: none}
errors:
  - {when: "status = 200 and body.status = 'ERROR'", raise: Rejected, message: body.reason}
  - {when: "status = 420", raise: RateLimited, retry_after: "$number(headers.`x-wait`)"}
"""
    + HOOK
)


@pytest.mark.parametrize(
    ("status", "body", "headers", "error", "words"),
    [
        (200, {"status": "ERROR", "reason": "no such parcel"}, {}, Rejected, "no such parcel"),
        (420, {}, {"x-wait": "9"}, RateLimited, "HTTP 420"),
        (429, {}, {"retry-after": "3"}, RateLimited, "HTTP 429"),
        (401, {"error": "bad key"}, {}, AuthFailed, "bad key"),
        (503, {}, {}, Unavailable, "HTTP 503"),
        (422, {"message": "weight missing"}, {}, Rejected, "weight missing"),
    ],
)
def test_answers_become_the_typed_errors(
    status: int, body: dict[str, Any], headers: dict[str, str], error: type[Exception], words: str
) -> None:
    run, _ = runner(RULES, lambda r: httpx2.Response(status, json=body, headers=headers))
    with pytest.raises(error, match=words) as raised:
        run.run_hook("ping", None)
    if isinstance(raised.value, RateLimited):
        assert raised.value.retry_after == (9.0 if status == 420 else 3.0)


STEPS = (
    HEAD
    + """\
auth: {kind: none}
hooks:
  label:
    steps:
      - name: create
        request: {method: POST, path: /labels, body: '{"parcels": input.parcels}'}
      - name: each
        foreach: input.parcels
        max_items: 3
        request: {path: "/parcels/{{ item.id }}"}
      - name: ready
        when: "steps.create.body.status = 'QUEUED'"
        request: {path: "/labels/{{ steps.create.body.id }}"}
        until: "body.status = 'DONE'"
        poll: {interval: 2, max: 10}
      - name: skipped
        when: "false"
        request: {path: /never}
    output: |
      {"label": steps.ready.body.url, "parcels": [steps.each.each.body.id],
       "skipped": $exists(steps.skipped)}
"""
)


def test_steps_read_each_other_loop_and_poll() -> None:
    polls = iter(["PENDING", "PENDING", "DONE"])

    def answer(request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if path == "/labels":
            return httpx2.Response(201, json={"id": "L1", "status": "QUEUED"})
        if path.startswith("/parcels/"):
            return httpx2.Response(200, json={"id": path.rsplit("/", 1)[1]})
        return httpx2.Response(200, json={"status": next(polls), "url": "https://l/1.pdf"})

    slept: list[float] = []
    run, seen = runner(STEPS, answer, clock=lambda: 0.0, sleep=slept.append)
    result = run.run_hook("label", {"parcels": [{"id": "p1"}, {"id": "p2"}]})
    assert result.output == {"label": "https://l/1.pdf", "parcels": ["p1", "p2"], "skipped": False}
    assert [r.url.path for r in seen].count("/labels/L1") == 3 and slept == [2, 2]
    assert [e.operation for e in result.exchanges][:3] == [
        "label.create",
        "label.each",
        "label.each",
    ]


def test_a_loop_past_its_bound_and_a_poll_past_its_time_stop() -> None:
    run, _ = runner(STEPS, lambda r: httpx2.Response(200, json={"id": "x", "status": "QUEUED"}))
    with pytest.raises(Rejected, match="4 items, more than its max_items"):
        run.run_hook("label", {"parcels": [{"id": n} for n in range(4)]})
    now = [0.0]

    def later(seconds: float) -> None:
        now[0] += seconds

    run, _ = runner(
        STEPS,
        lambda r: httpx2.Response(200, json={"id": "x", "status": "QUEUED"}),
        clock=lambda: now[0],
        sleep=later,
    )
    with pytest.raises(Unavailable, match="still not done after 10 s"):
        run.run_hook("label", {"parcels": []})


def test_a_recorded_request_never_shows_a_secret() -> None:
    text = (
        HEAD + 'auth: {kind: api_key, inject: {header: X-Key, value: "{{ secrets.key }}"}}\n' + HOOK
    )
    run, _ = runner(text, ok)
    (exchange,) = run.run_hook("ping", None).exchanges
    assert exchange.request["headers"]["X-Key"] == "[redacted]"
    assert "k-123456" not in json.dumps(exchange.request)
