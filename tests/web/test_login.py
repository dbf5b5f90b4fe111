"""Signing in and out, sessions, CSRF, roles and login throttling through the UI."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.web.conftest import PASSWORD, Browser, csrf_of
from tradewind.api.app import create_app
from tradewind.hub import Hub
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
