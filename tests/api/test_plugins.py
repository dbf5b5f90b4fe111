"""Plugin resources and actions over the API, against Fake Market on loopback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, cast

import pytest
from sqlalchemy import select

from tests.api.conftest import Api
from tests.api.test_resources import problem_of
from tests.api.test_security import touches_of
from tests.fakeplatform import TOKEN, WEBHOOK_SECRET, FakeMarketServer
from tests.sync.conftest import Harness
from tradewind.auth.models import ApiToken
from tradewind.core.plugins.models import Plugin
from tradewind.hub import Hub


@pytest.fixture
def market() -> Iterator[FakeMarketServer]:
    with FakeMarketServer() as server:
        yield server


def add_fake(
    api: Api, market: FakeMarketServer, *, channels: list[int] | None = None
) -> dict[str, Any]:
    response = api.post(
        "/plugins",
        json={
            "connector": "fake",
            "name": "fake-shop",
            "settings": {
                "shop": "fake-shop",
                "api_token": TOKEN,
                "webhook_secret": WEBHOOK_SECRET,
                "base_url": market.url,
            },
            "channel_ids": channels or [],
        },
    )
    assert response.status_code == 201, response.text
    plugin: dict[str, Any] = response.json()
    return plugin


def test_secrets_are_write_only(api: Api, hub: Hub, market: FakeMarketServer) -> None:
    plugin = add_fake(api, market)
    assert plugin["settings"]["api_token"] == f"set (…{TOKEN[-4:]})"
    assert TOKEN not in str(plugin) and WEBHOOK_SECRET not in str(plugin)
    again = api.get(f"/plugins/{plugin['id']}").text
    assert TOKEN not in again and WEBHOOK_SECRET not in again
    # A secret's mask keeps the stored one; other settings change.
    changed = api.patch(
        f"/plugins/{plugin['id']}",
        json={"settings": {"api_token": f"set (…{TOKEN[-4:]})", "poll_minutes": 5}},
    ).json()
    assert changed["settings"]["poll_minutes"] == 5
    assert changed["settings"]["api_token"] == f"set (…{TOKEN[-4:]})"
    with hub.db.read() as session:
        stored = session.scalar(select(Plugin))
        assert stored is not None and TOKEN not in str(stored.settings)
        assert stored.credentials and TOKEN not in stored.credentials
    schema = api.get("/connectors/fake").json()
    assert schema["settings_schema"]["properties"]["api_token"]["writeOnly"] is True
    assert schema["secret_fields"] == ["api_token", "webhook_secret"]
    problem_of(api.get("/connectors/nope"), 404)
    problem_of(api.post("/plugins", json={"connector": "nope", "name": "x", "settings": {}}), 422)
    invalid = problem_of(
        api.post("/plugins", json={"connector": "fake", "name": "y", "settings": {"shop": "A B"}}),
        422,
    )
    assert set(cast(dict[str, str], invalid["errors"])) >= {"shop", "api_token"}


def test_toggles_prerequisites_and_import_conflict(api: Api, market: FakeMarketServer) -> None:
    one = api.post("/channels", json={"name": "One"}).json()["id"]
    two = api.post("/channels", json={"name": "Two"}).json()["id"]
    plugin = add_fake(api, market, channels=[one])
    toggles = {t["toggle"]: t for t in api.get(f"/plugins/{plugin['id']}/toggles").json()}
    assert len(toggles) == 12
    assert toggles["export_listings"]["supported"] is False
    assert toggles["export_listings"]["reason"] == "Fake Market has no listing API"
    assert toggles["import_tracking"]["prerequisites"] == ["import_orders"]

    result = api.put(f"/plugins/{plugin['id']}/toggles/import_shipments", json={"on": True}).json()
    assert result["also_enabled"] == ["import_tracking", "import_orders"]
    assert "Switched on as well" in result["message"]
    refused = problem_of(
        api.put(f"/plugins/{plugin['id']}/toggles/export_listings", json={"on": True}), 422
    )
    assert "no listing API" in str(refused["detail"])
    problem_of(api.put(f"/plugins/{plugin['id']}/toggles/bogus", json={"on": True}), 422)

    attached = api.post(f"/plugins/{plugin['id']}/channels", json={"channel_id": two}).json()
    assert attached["channel_ids"] == [one, two]
    assert "exactly one channel" in attached["import_conflict"]
    notes = api.get("/notifications", params={"kind": "import_conflict"}).json()
    assert notes and notes[0]["action"] == "fix_channels"
    conflict = problem_of(
        api.post(
            f"/plugins/{plugin['id']}/backfill",
            json={"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"},
        ),
        409,
    )
    assert "exactly one channel" in str(conflict["detail"])
    fixed = api.put(f"/plugins/{plugin['id']}/channels", json={"channel_ids": [two]}).json()
    assert fixed == {"channel_ids": [two], "import_conflict": None}
    assert api.get("/notifications", params={"kind": "import_conflict"}).json() == []
    off = api.put(f"/plugins/{plugin['id']}/toggles/import_orders", json={"on": False}).json()
    assert off["also_disabled"] == ["import_tracking", "import_shipments"]


def test_actions_backfill_locations_stock(api: Api, hub: Hub, market: FakeMarketServer) -> None:
    channel = api.post("/channels", json={"name": "Fake"}).json()["id"]
    plugin = add_fake(api, market, channels=[channel])
    pid = plugin["id"]
    harness = Harness(hub)
    report = api.post(f"/plugins/{pid}/test").json()
    assert report == {"ok": True, "account": "fake-shop", "detail": "", "missing_scopes": []}
    market.market.token = "revoked"
    assert api.post(f"/plugins/{pid}/test").json()["ok"] is False
    market.market.token = TOKEN
    problem_of(api.post(f"/plugins/{pid}/sync"), 422)  # inactive: activate first
    assert api.post(f"/plugins/{pid}/activate").json()["state"] == "active"
    harness.run(pid)
    locations = api.get(f"/plugins/{pid}/locations").json()
    assert [loc["external_id"] for loc in locations] == ["loc-1", "loc-2"]
    warehouse = api.post("/warehouses", json={"code": "MAIN"}).json()
    mapped = api.put(
        f"/plugins/{pid}/locations/loc-1",
        json={"warehouse_id": warehouse["id"], "is_default": True},
    ).json()
    assert mapped["warehouse_id"] == warehouse["id"] and mapped["is_default"] is True
    problem_of(api.put(f"/plugins/{pid}/locations/nowhere", json={"warehouse_id": None}), 404)
    stock = api.put(f"/plugins/{pid}/stock", json={"mode": "delta", "window_seconds": 5}).json()
    assert stock["stock_mode"] == "delta" and stock["stock_window_seconds"] == 5
    problem_of(api.put(f"/plugins/{pid}/stock", json={"window_seconds": 99999}), 422)
    rules = api.patch(f"/plugins/{pid}/rules", json={"import_test_orders": True}).json()
    assert rules["import_test_orders"] is True
    problem_of(api.patch(f"/plugins/{pid}/rules", json={"match_by": ["colour"]}), 422)
    nothing = problem_of(api.patch(f"/plugins/{pid}/rules", json={"financial_statuses": []}), 422)
    assert "no order would ever be imported" in str(nothing["detail"])
    assert api.get(f"/plugins/{pid}/rules").json()["financial_statuses"] != []

    api.put(f"/plugins/{pid}/toggles/import_orders", json={"on": True})
    placed = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    for number in range(3):
        market.market.add_order(f"H{number}", placed_at=placed + dt.timedelta(minutes=number))
    market.market.page_size = 2
    start = (placed - dt.timedelta(days=1)).isoformat()
    end = (placed + dt.timedelta(days=1)).isoformat()
    job = api.post(f"/plugins/{pid}/backfill", json={"start": start, "end": end})
    assert (
        job.status_code == 202
        and job.headers["location"] == f"/api/v1/backfills/{job.json()['id']}"
    )
    assert job.json()["state"] == "running" and job.json()["progress"] is None
    twice = api.post(f"/plugins/{pid}/backfill", json={"start": start, "end": end})
    assert twice.status_code == 409 and f"backfill #{job.json()['id']}" in twice.text
    harness.run(pid)
    done = api.get(f"/backfills/{job.json()['id']}").json()
    assert done["state"] == "done" and done["imported"] == 3 and done["pages"] == 2
    assert done["progress"] == 1.0
    # Fake Market cannot export in bulk: the range is read by pages, whatever its size
    assert (done["route"], done["export_read"], done["export_size"]) == ("pages", 0, None)
    assert api.get(f"/plugins/{pid}/backfills").json()[0]["id"] == done["id"]
    assert api.post(f"/backfills/{done['id']}/cancel").json()["state"] == "done"
    problem_of(api.get("/backfills/999"), 404)
    orders = api.get("/orders", params={"plugin_id": pid}).json()["items"]
    assert sorted(o["number"] for o in orders) == ["#H0", "#H1", "#H2"]
    assert api.post(f"/plugins/{pid}/sync").json()["queued"] == ["poll_orders"]

    history = api.get(f"/plugins/{pid}/executions", params={"limit": 2}).json()
    assert len(history["items"]) == 2 and history["next_cursor"]
    assert api.get("/executions", params={"plugin_id": pid, "outcome": "auth_failed"}).json()[
        "items"
    ]
    stats = api.get(f"/plugins/{pid}/stats").json()
    assert stats and 0 < stats[-1]["success_rate"] < 1
    health = api.get(f"/plugins/{pid}/health").json()
    assert health["calls_24h"] >= 5 and health["error_rate_24h"] > 0
    links = api.get(f"/plugins/{pid}/product-links").json()
    assert links == []
    mug = api.post("/products", json={"sku": "MUG", "title": "Mug"}).json()
    link = api.put(f"/plugins/{pid}/product-links/{mug['id']}", json={"external_id": "V1"}).json()
    assert link["external_id"] == "V1"
    other = api.post("/products", json={"sku": "CUP", "title": "Cup"}).json()
    problem_of(
        api.put(f"/plugins/{pid}/product-links/{other['id']}", json={"external_id": "V1"}), 409
    )
    assert api.delete(f"/plugins/{pid}/product-links/{mug['id']}").status_code == 204
    problem_of(api.post(f"/plugins/{pid}/product-sync"), 422)  # Fake Market has no catalog
    problem_of(api.get(f"/plugins/{pid}/product-sync"), 404)
    assert api.post(f"/plugins/{pid}/deactivate").json()["state"] == "inactive"
    listed = api.get("/plugins", params={"state": "inactive", "channel_id": channel}).json()
    assert [p["id"] for p in listed["items"]] == [pid]


def test_oauth_needs_a_connector_that_authorizes(api: Api, market: FakeMarketServer) -> None:
    plugin = add_fake(api, market)
    body = problem_of(api.post(f"/plugins/{plugin['id']}/authorize"), 422)
    assert "does not authorize with OAuth" in str(body["detail"])
    # The callback is public and refuses a state Tradewind did not issue.
    answer = api.client.get("/oauth/callback", params={"state": "forged", "code": "x"})
    assert answer.status_code == 403 and "not one Tradewind issued" in answer.text


def test_private_addresses_are_refused_without_sandbox_hosts(
    api: Api, hub: Hub, market: FakeMarketServer
) -> None:
    hub.settings = hub.settings.model_copy(update={"allow_sandbox_hosts": False})
    body = problem_of(
        api.post(
            "/plugins",
            json={
                "connector": "fake",
                "name": "internal",
                "settings": {"shop": "abc", "api_token": "t", "base_url": "http://10.0.0.8/"},
            },
        ),
        422,
    )
    assert body["errors"] == {"base_url": "private address"}


def test_read_only_tokens_and_revocation(
    api: Api, reader_api: Api, hub: Hub, market: FakeMarketServer
) -> None:
    assert reader_api.get("/channels").status_code == 200
    refused = problem_of(reader_api.post("/channels", json={"name": "X"}), 403)
    assert "read-only" in str(refused["detail"])
    assert api.get("/me").json() == {"kind": "token", "name": "writer", "can_write": True}
    touches_of(api).wait()  # the last use is written off the request path
    with hub.db.read() as session:
        rows = session.scalars(select(ApiToken)).all()
        assert all(api.token not in (row.token_hash, row.prefix) for row in rows)
        assert rows[0].last_used_at is not None
    from tradewind.auth import service as auth

    with hub.db.unit_of_work() as session:
        auth.revoke_token(session, "writer")
    problem_of(api.get("/channels"), 401)
    wrong = api.client.get("/api/v1/channels", headers={"Authorization": "Bearer tw_nope_x"})
    assert problem_of(wrong, 401)["detail"] == "the bearer token is unknown or revoked"
    assert wrong.headers["www-authenticate"] == "Bearer"
    basic = api.client.get("/api/v1/channels", headers={"Authorization": "Basic abc"})
    problem_of(basic, 401)
