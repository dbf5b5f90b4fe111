"""Shadow mode over the API: a plugin made in shadow, its go-live report, going live
(once), and switching a plugin not yet live into shadow."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.conftest import Api, make_token
from tests.api.test_resources import problem_of
from tests.fakeplatform import TOKEN, WEBHOOK_SECRET, FakeMarketServer
from tradewind.auth.models import TokenScope
from tradewind.hub import Hub


@pytest.fixture
def market() -> Iterator[FakeMarketServer]:
    with FakeMarketServer() as server:
        yield server


def _create(api: Api, market: FakeMarketServer, name: str, **extra: object) -> int:
    response = api.post(
        "/plugins",
        json={
            "connector": "fake",
            "name": name,
            "settings": {
                "shop": name,
                "api_token": TOKEN,
                "webhook_secret": WEBHOOK_SECRET,
                "base_url": market.url,
            },
            **extra,
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["shadow"] is bool(extra.get("shadow"))
    return int(response.json()["id"])


def test_a_plugin_made_in_shadow_reports_then_goes_live_once(
    api: Api, market: FakeMarketServer
) -> None:
    plugin_id = _create(api, market, "shadowed", shadow=True)
    report = api.get(f"/plugins/{plugin_id}/go-live-report")
    assert report.status_code == 200
    body = report.json()
    assert body["shadow"] is True and body["shadow_since"] is not None
    assert (body["orders_seen"], body["would_import"], body["unmatched_lines"]) == (0, 0, 0)
    assert body["skipped"] == [] and body["stock_differences"] == []
    live = api.post(f"/plugins/{plugin_id}/go-live")
    assert live.status_code == 200, live.text
    assert live.json()["shadow"] is False and live.json()["enabled_at"] is not None
    assert live.json()["state"] == "active"
    again = problem_of(api.post(f"/plugins/{plugin_id}/go-live"), 409)
    assert "not in shadow" in str(again["detail"])
    refused = problem_of(api.post(f"/plugins/{plugin_id}/shadow"), 409)
    assert "live since" in str(refused["detail"])


def test_a_plugin_not_yet_live_is_switched_into_shadow(api: Api, market: FakeMarketServer) -> None:
    plugin_id = _create(api, market, "later")
    switched = api.post(f"/plugins/{plugin_id}/shadow")
    assert switched.status_code == 200 and switched.json()["shadow"] is True
    assert api.get(f"/plugins/{plugin_id}").json()["shadow"] is True
    problem_of(api.get("/plugins/999/go-live-report"), 404)


def test_read_only_tokens_see_the_report_but_cannot_go_live(
    api: Api, hub: Hub, market: FakeMarketServer
) -> None:
    plugin_id = _create(api, market, "watched", shadow=True)
    reader = Api(api.client, make_token(hub, TokenScope.READ, "reader"))
    assert reader.get(f"/plugins/{plugin_id}/go-live-report").status_code == 200
    assert reader.post(f"/plugins/{plugin_id}/go-live").status_code == 403
