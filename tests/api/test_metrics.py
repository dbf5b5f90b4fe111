"""/metrics: public by default, behind a token when asked."""

from __future__ import annotations

from starlette.testclient import TestClient

from tradewind.auth import service as auth
from tradewind.auth.models import TokenScope
from tradewind.hub import Hub
from tradewind.server import create_app


def test_metrics_public_or_behind_a_token(hub: Hub) -> None:
    with TestClient(create_app(hub)) as client:
        body = client.get("/metrics")
        assert body.status_code == 200 and "tradewind_queue_depth" in body.text
    hub.settings = hub.settings.model_copy(update={"metrics_public": False})
    with hub.db.unit_of_work() as session:
        token = auth.create_token(session, "prometheus", TokenScope.READ).secret
    with TestClient(create_app(hub)) as client:
        refused = client.get("/metrics")
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")
        allowed = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert allowed.status_code == 200
