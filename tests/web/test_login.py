"""Signing in and out, sessions, CSRF, roles and login throttling through the UI."""

from __future__ import annotations

import threading

import httpx2
import uvicorn
from starlette.testclient import TestClient

from tests.web.conftest import PASSWORD, Browser, csrf_of
from tradewind.auth import service as auth
from tradewind.cli.serve import server_config
from tradewind.db import utcnow
from tradewind.hub import Hub
from tradewind.server import create_app
from tradewind.web.session import SESSION_COOKIE


def test_sign_in_dashboard_and_sign_out(app_client: TestClient) -> None:
    first = app_client.get("/", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/login?next=/"
    browser = Browser(app_client)
    wrong = browser.login("admin", "not the password")
    assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
    signed = browser.login("admin", next="/plugins")
    assert signed.status_code == 303 and signed.headers["location"] == "/plugins"
    cookie = app_client.cookies[SESSION_COOKIE]
    assert "httponly" in signed.headers["set-cookie"].lower()
    assert "samesite=lax" in signed.headers["set-cookie"].lower()
    page = app_client.get("/")
    assert page.status_code == 200 and 'id="bell"' in page.text and "Plugin health" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert f'"X-CSRF-Token": "{browser.csrf}"' in page.text  # htmx sends it on every request
    assert browser.post("/logout").status_code == 303
    app_client.cookies.set(SESSION_COOKIE, cookie)  # the old cookie is dead server-side
    assert app_client.get("/", follow_redirects=False).status_code == 303


def test_tampered_or_foreign_cookies_are_ignored(app_client: TestClient, hub: Hub) -> None:
    app_client.cookies.set(SESSION_COOKIE, "forged.value.signature")
    assert app_client.get("/", follow_redirects=False).status_code == 303
    other = Browser(app_client)
    assert other.login("admin").status_code == 303


def test_csrf_is_required_on_every_form(admin: Browser) -> None:
    missing = admin.client.post("/channels", data={"name": "X"}, follow_redirects=False)
    assert missing.status_code == 403 and "expired" in missing.text
    wrong = admin.client.post(
        "/channels", data={"name": "X", "csrf_token": "nope"}, follow_redirects=False
    )
    assert wrong.status_code == 403
    header = admin.client.post(
        "/channels",
        data={"name": "Y"},
        headers={"X-CSRF-Token": admin.csrf},
        follow_redirects=False,
    )
    assert header.status_code == 303
    assert admin.post("/channels", {"name": "Z"}).status_code == 303
    assert "Y" in admin.get("/channels").text


def test_the_sign_in_form_has_its_own_csrf(app_client: TestClient) -> None:
    form = app_client.get("/login")
    token = csrf_of(form.text)
    app_client.cookies.clear()
    refused = app_client.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}
    )
    assert refused.status_code == 403 and "expired" in refused.text


def test_open_redirects_are_refused(app_client: TestClient) -> None:
    browser = Browser(app_client)
    response = browser.login("admin", next="//evil.example/")
    assert response.headers["location"] == "/"


def test_read_only_users_look_but_never_change(viewer: Browser, admin: Browser) -> None:
    admin.post("/channels", {"name": "Web"})
    assert viewer.get("/channels").status_code == 200
    assert "New channel" not in viewer.get("/channels").text
    refused = viewer.post("/channels", {"name": "Nope"})
    assert refused.status_code == 403 and "read-only" in refused.text
    assert viewer.get("/plugins/new").status_code == 403
    assert "Nope" not in admin.get("/channels").text


def test_repeated_failed_sign_ins_are_slowed_down(hub: Hub) -> None:
    with TestClient(create_app(hub)) as client:
        browser = Browser(client)
        statuses = [browser.login("admin", "wrong").status_code for _ in range(3)]
        assert statuses == [401, 401, 401]
        throttled = browser.login("admin")  # even the right password must wait now
        assert throttled.status_code == 429 and throttled.headers["retry-after"] == "1"
        assert "Too many failed logins" in throttled.text


# ------------------------------------------------------- who is throttled, and where from


def test_a_stranger_cannot_lock_the_owner_out(hub: Hub) -> None:
    app = create_app(hub)
    with (
        TestClient(app, client=("203.0.113.5", 4000)) as stranger,
        TestClient(app, client=("198.51.100.7", 4000)) as owner,
    ):
        guesser = Browser(stranger)
        statuses = [guesser.login("admin", "guess").status_code for _ in range(5)]
        assert statuses[:3] == [401, 401, 401] and 429 in statuses
        assert guesser.login("admin").status_code == 429  # that client waits…
        assert Browser(owner).login("admin").status_code == 303  # …the owner does not


def test_forwarded_headers_are_ignored_unless_a_trusted_proxy_sends_them(hub: Hub) -> None:
    with TestClient(create_app(hub), client=("127.0.0.1", 4000)) as client:
        browser = Browser(client)
        spoofed = [
            browser.login("admin", "guess", headers={"X-Forwarded-For": f"192.0.2.{n}"})
            for n in range(5)
        ]
        assert spoofed[-1].status_code == 429  # one client, whatever it says it forwards
    behind = hub.settings.model_copy(update={"trusted_proxies": ("127.0.0.0/8",)})
    with (
        Hub(behind, registry=hub.registry) as proxied,
        TestClient(create_app(proxied), client=("127.0.0.1", 4000)) as client,
    ):
        browser = Browser(client)
        far = {"X-Forwarded-For": "192.0.2.99"}
        for _ in range(5):
            browser.login("viewer", "guess", headers=far)
        assert browser.login("viewer", headers=far).status_code == 429
        near = {"X-Forwarded-For": "192.0.2.100, 127.0.0.1"}  # through two proxies
        assert browser.login("viewer", headers=near).status_code == 303


def test_the_served_app_does_not_believe_forwarded_headers_from_loopback(hub: Hub) -> None:
    """Served as `tradewind run` serves it: uvicorn's own proxy handling, which trusts
    loopback, must not decide who the client is."""
    server = uvicorn.Server(server_config(create_app(hub), "127.0.0.1", 0))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "the server did not start"
            thread.join(timeout=0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}") as http:
            statuses = []
            # Past the free failures each one makes the next attempt wait (1 s, 2 s, 4 s
            # ...), so within a few tries one lands inside a wait however slow this machine
            # is; were the header believed, every try would be a new client, never refused.
            for number in range(8):
                if 429 in statuses:
                    break
                form = http.get("/login")
                statuses.append(
                    http.post(
                        "/login",
                        data={
                            "username": "admin",
                            "password": "guess",
                            "csrf_token": csrf_of(form.text),
                        },
                        headers={"X-Forwarded-For": f"192.0.2.{number}"},
                    ).status_code
                )
    finally:
        server.should_exit = True
        thread.join(timeout=20)
    assert statuses[:3] == [401, 401, 401] and statuses[-1] == 429


def test_the_account_ceiling_spares_the_owners_known_clients(hub: Hub) -> None:
    policy = auth.LoginPolicy(free_failures=2, client_free_failures=2, account_free_failures=4)
    start = utcnow()

    def attempt(client: str, password: str) -> str | int:
        with hub.db.unit_of_work() as session:
            result = auth.check_login(
                session, "admin", password, client=client, now=start, policy=policy
            )
        try:
            result.user_or_raise()
        except auth.LoginThrottled as exc:
            return exc.retry_after
        except auth.LoginFailed:
            return "failed"
        return "ok"

    assert attempt("198.51.100.7", PASSWORD) == "ok"  # the owner's usual browser
    for number in range(4):  # strangers, each from its own address
        assert attempt(f"203.0.113.{number}", "guess") == "failed"
    assert attempt("203.0.113.200", PASSWORD) == 1  # a new address: the ceiling holds it
    assert attempt("198.51.100.7", PASSWORD) == "ok"  # a known one signs in


def test_under_https_every_cookie_is_secure_and_http_only(hub: Hub) -> None:
    https = hub.settings.model_copy(update={"base_url": "https://hub.example.com"})
    with (
        Hub(https, registry=hub.registry) as served,
        TestClient(create_app(served), base_url="https://testserver") as client,
    ):
        browser = Browser(client)
        responses = [client.get("/login")]
        responses.append(browser.login("admin", "wrong"))  # the form is issued again
        responses.append(browser.login("admin"))
        responses.append(browser.post("/channels", {"name": "Web"}))  # a flash message
        responses.append(client.get("/channels"))  # the flash is read and cleared
        responses.append(browser.post("/logout"))
    cookies = [cookie for r in responses for cookie in r.headers.get_list("set-cookie")]
    names = {cookie.split("=", 1)[0] for cookie in cookies}
    assert names == {"tw_login_csrf", "tw_session", "tw_flash"}
    for cookie in cookies:
        assert "; secure" in cookie.lower() and "; httponly" in cookie.lower(), cookie
