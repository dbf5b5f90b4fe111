"""The app as a whole, ahead of any one route: what every route answers while the
database is unavailable."""

from __future__ import annotations

import structlog
from sqlalchemy import event
from starlette.testclient import TestClient

from tests.api.conftest import Api
from tests.outage import Outage
from tests.web.conftest import csrf_of
from tradewind.hub import Hub
from tradewind.server import create_app


def test_every_route_answers_503_with_retry_after_during_a_database_outage(
    hub: Hub, api: Api
) -> None:
    client: TestClient = api.client
    form = client.get("/login")
    sign_in = {"username": "admin", "password": "x" * 12, "csrf_token": csrf_of(form.text)}
    outage = Outage(hub.db)
    try:
        with structlog.testing.capture_logs() as logs:
            outage.start()
            health = client.get("/health")
            listed = api.get("/channels")
            page = client.post("/login", data=sign_in)
            outage.end()
            back = api.get("/channels")
    finally:
        outage.close()
    for answer in (health, listed):
        assert answer.status_code == 503
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["title"] == "Service unavailable"
        assert int(answer.headers["retry-after"]) > 0
    assert page.status_code == 503 and "unavailable" in page.text
    assert back.status_code == 200
    said = [entry["event"] for entry in logs if entry["log_level"] in ("error", "warning")]
    assert said == ["database unavailable", "database back"]


def test_health_asks_the_database_at_most_once_a_second(hub: Hub) -> None:
    app = create_app(hub)
    now = [100.0]
    app.state.health.clock = lambda: now[0]
    checkouts: list[object] = []

    def count(*_: object) -> None:
        checkouts.append(1)

    event.listen(hub.db.engine, "checkout", count)
    try:
        with TestClient(app) as client:
            answers = [client.get("/health") for _ in range(20)]
            asked_within_a_second = len(checkouts)
            now[0] += 1.5
            later = client.get("/health")
    finally:
        event.remove(hub.db.engine, "checkout", count)
    assert {answer.status_code for answer in answers} == {200}
    assert answers[0].json()["status"] == "ok"
    assert asked_within_a_second == 1
    assert later.status_code == 200 and len(checkouts) == 2
