"""An app around the test hub, a client, and tokens of both scopes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from starlette.testclient import TestClient

from tradewind.auth import service as auth
from tradewind.auth.models import TokenScope
from tradewind.hub import Hub
from tradewind.server import create_app
from tradewind.settings import Settings


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # Fake Market listens on loopback: plugin base URLs there are allowed in tests.
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_keys=(Fernet.generate_key().decode(),),
        allow_sandbox_hosts=True,
    )


@dataclass
class Api:
    """A client with a token: ``api.get("/channels")`` reaches ``/api/v1/channels``."""

    client: TestClient
    token: str

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(
            f"/api/v1{path}", headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(
            f"/api/v1{path}", headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.client.put(
            f"/api/v1{path}", headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.client.patch(
            f"/api/v1{path}", headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.client.delete(
            f"/api/v1{path}", headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )


def make_token(hub: Hub, scope: TokenScope, name: str = "test") -> str:
    with hub.db.unit_of_work() as session:
        return auth.create_token(session, name, scope).secret


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as test_client:
        yield test_client


@pytest.fixture
def api(hub: Hub, client: TestClient) -> Api:
    return Api(client, make_token(hub, TokenScope.READ_WRITE, "writer"))


@pytest.fixture
def reader_api(hub: Hub, client: TestClient) -> Api:
    return Api(client, make_token(hub, TokenScope.READ, "reader"))
