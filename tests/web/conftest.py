"""A signed-in browser without a browser: the app, users of both roles, and a client that
signs in through the real form and sends the CSRF token the page gives it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from starlette.testclient import TestClient

from tests.fakes import FakeConnector
from tradewind.auth import service as auth
from tradewind.auth.models import Role
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.hub import Hub
from tradewind.server import create_app
from tradewind.settings import Settings

PASSWORD = "correct horse battery"


@pytest.fixture
def hub(sqlite_url: str, tmp_path: Path) -> Iterator[Hub]:
    """The UI on SQLite (its rules are the API's, which run on both databases)."""
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_url,
        secret_keys=(Fernet.generate_key().decode(),),
        allow_sandbox_hosts=True,
    )
    with Hub(settings, registry=ConnectorRegistry.of(FakeConnector)) as built:
        with built.db.unit_of_work() as session:
            auth.create_user(session, "admin", PASSWORD, Role.ADMIN)
            auth.create_user(session, "viewer", PASSWORD, Role.READ_ONLY)
        yield built


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


@dataclass
class Browser:
    client: TestClient
    csrf: str = ""

    def login(
        self,
        username: str,
        password: str = PASSWORD,
        next: str = "/",
        headers: dict[str, str] | None = None,
    ) -> Any:
        form = self.client.get("/login")
        response = self.client.post(
            "/login",
            data={
                "username": username,
                "password": password,
                "csrf_token": csrf_of(form.text),
                "next": next,
            },
            headers=headers,
            follow_redirects=False,
        )
        if response.status_code == 303:
            self.csrf = csrf_of(self.client.get("/channels").text)
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        kwargs.setdefault("follow_redirects", False)
        return self.client.post(path, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)

    def htmx(self, path: str, data: dict[str, Any] | None = None) -> Any:
        return self.client.post(
            path, data=data or {}, headers={"HX-Request": "true", "X-CSRF-Token": self.csrf}
        )


@pytest.fixture
def app_client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as client:
        yield client


@pytest.fixture
def admin(app_client: TestClient) -> Browser:
    browser = Browser(app_client)
    assert browser.login("admin").status_code == 303
    return browser


@pytest.fixture
def viewer(hub: Hub) -> Iterator[Browser]:
    with TestClient(create_app(hub)) as client:
        browser = Browser(client)
        assert browser.login("viewer").status_code == 303
        yield browser
