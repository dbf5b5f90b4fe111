"""Request body limits: every route's body is bounded while it streams in, before
authentication, with larger limits only where a route needs one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from starlette.testclient import TestClient

from tests.api.conftest import Api
from tests.fakeplatform import WEBHOOK_SECRET
from tests.fakes import FakeConnector
from tests.web.conftest import csrf_of
from tradewind.api.limits import BodyLimit, BodyLimits, limits_for
from tradewind.core.plugins import service as plugins
from tradewind.hub import Hub
from tradewind.settings import Settings


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        part = min(size, total - sent)
        sent += part
        yield b"x" * part


def test_an_unauthenticated_body_over_the_limit_is_413_before_any_401(
    hub: Hub, client: TestClient
) -> None:
    limit = hub.settings.request_max_bytes
    declared = client.post("/api/v1/channels", content=b"x" * (limit + 1))
    streamed = client.post(  # no Content-Length: counted as it arrives
        "/api/v1/channels", content=_chunks(limit + 1)
    )
    for answer in (declared, streamed):
        assert answer.status_code == 413
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["status"] == 413
        assert str(limit) in answer.json()["detail"]
    assert client.post("/api/v1/channels", content=b"x" * limit).status_code == 401


def test_a_ui_form_over_the_limit_is_413(hub: Hub, client: TestClient) -> None:
    form = client.get("/login")
    padding = "x" * hub.settings.request_max_bytes
    answer = client.post(
        "/login",
        data={"username": "a", "password": padding, "csrf_token": csrf_of(form.text)},
    )
    assert answer.status_code == 413


def test_the_stream_is_not_read_past_the_limit() -> None:
    pulled = 0

    async def receive() -> dict[str, object]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 1000, "more_body": pulled < 200_000}

    answered: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        answered.append(message)

    async def app(scope: object, receive_: object, send_: object) -> None:
        while (await receive_())["more_body"]:  # type: ignore[operator]
            pass  # an app that reads everything it is given

    limited = BodyLimit(app, limits=BodyLimits(default=10_000))
    scope = {"type": "http", "method": "POST", "path": "/anything", "headers": []}
    asyncio.run(limited(scope, receive, send))  # type: ignore[arg-type]
    assert pulled == 11  # 11,000 bytes: one message past the limit, then no more
    assert answered[0]["status"] == 413


def test_routes_that_need_more_have_their_own_limit(api: Api, hub: Hub) -> None:
    settings = hub.settings
    assert settings.webhook_max_bytes > settings.request_max_bytes
    assert settings.import_max_bytes > settings.request_max_bytes
    with hub.db.unit_of_work() as session:
        plugin = plugins.add_plugin(
            session,
            hub.vault,
            FakeConnector.info,
            name="fake",
            config={"shop": "fake-shop", "api_token": "t", "webhook_secret": WEBHOOK_SECRET},
        )
        plugins.activate(session, plugin.id)
    hook = f"/hooks/{plugin.id}/orders/create"
    between = b"x" * (settings.request_max_bytes + 1)
    headers = {"X-Fake-Signature": "AAAA", "X-Fake-Delivery": "d"}
    assert api.client.post(hook, content=between, headers=headers).status_code == 401
    over = b"x" * (settings.webhook_max_bytes + 1)
    assert api.client.post(hook, content=over, headers=headers).status_code == 413
    # one product, then blank lines (skipped) past the default limit
    csv = b"sku,title\nMUG,Mug\n" + b"\n" * settings.request_max_bytes
    assert len(csv) < settings.import_max_bytes
    report = api.post("/products/import", files={"file": ("p.csv", csv, "text/csv")})
    assert report.status_code == 200 and report.json()["created"] == 1


def test_limits_come_from_settings(tmp_path: object) -> None:
    settings = Settings(request_max_bytes=5000, webhook_max_bytes=7000, import_max_bytes=9000)
    limits = limits_for(settings)
    assert limits.of("/api/v1/channels") == 5000
    assert limits.of("/hooks/1/orders/create") == 7000
    assert limits.of("/api/v1/products/import") == 9000
    assert limits.of("/products/import") == 9000
    assert limits.of("/products/import/more") == 5000
