"""``/api/v1/templates``: the catalogue, the schema, checking a template with its
problems, and the dry run of a template plugin."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.conftest import Api, make_token
from tests.connectors.template.test_loader import GOOD
from tests.sync.conftest import Shop
from tradewind.auth.models import TokenScope
from tradewind.connectors.template.loader import MAX_BYTES
from tradewind.server import create_app


def test_the_templates_api(store: Shop) -> None:
    with TestClient(create_app(store.hub)) as client:
        api = Api(client, make_token(store.hub, TokenScope.READ_WRITE))
        listed = api.get("/templates")
        assert listed.status_code == 200
        assert [t["id"] for t in listed.json()] == ["rest_storefront"]
        assert listed.json()[0]["hooks"] == ["get_order", "push_stock"]
        one = api.get("/templates/rest_storefront").json()
        assert one["schema"] == "tradewind-template/v1" and "orders" in one["pulls"]
        assert api.get("/templates/nope").status_code == 404
        assert api.get("/templates/schema").json()["$id"].endswith("template-v1.json")

        checked = api.post(
            "/templates/validate",
            content=GOOD.replace("steps.shipment.body.id", "steps.shipmnt.body.id"),
            headers={"Content-Type": "application/yaml"},
        ).json()
        assert checked["valid"] is False
        (problem,) = checked["problems"]
        assert (problem["line"], problem["column"]) == (24, 19)
        assert problem["path"] == "hooks.get_rates.steps[1].request.path"
        assert "did you mean 'shipment'" in problem["message"]
        assert api.post("/templates/validate", content=GOOD).json()["valid"] is True
        too_big = api.post("/templates/validate", content="x" * (MAX_BYTES + 1))
        assert too_big.status_code == 413
        assert api.get("/templates").json() == listed.json()  # nothing stored

        store.market.add_order("API1")
        ran = api.post(
            f"/plugins/{store.plugin_id}/dry-run",
            json={"name": "get_order", "input": {"id": "API1"}},
        )
        assert ran.status_code == 200
        assert ran.json()["output"]["external_id"] == "API1"
        assert ran.json()["exchanges"][0]["request"]["headers"]["Authorization"] == (
            "Bearer [redacted]"
        )


def test_uploading_upgrading_and_deleting_through_the_api(store: Shop) -> None:
    with TestClient(create_app(store.hub)) as client:
        api = Api(client, make_token(store.hub, TokenScope.READ_WRITE))
        reader = Api(client, make_token(store.hub, TokenScope.READ, "reader"))
        yaml = {"Content-Type": "application/yaml"}
        assert reader.post("/templates", content=GOOD, headers=yaml).status_code == 403
        made = api.post("/templates", content=GOOD, headers=yaml)
        assert made.status_code == 201 and made.json()["id"] == "parcels"
        assert "parcels" in [t["id"] for t in api.get("/templates").json()]
        refused = api.post(
            "/templates", content=GOOD.replace("id: parcels", "id: rest_storefront"), headers=yaml
        )
        assert refused.status_code == 409
        assert "connector's already installed" in refused.json()["detail"]
        bad = api.post("/templates", content=GOOD.replace("shipment.body", "shipmnt.body"))
        assert bad.status_code == 422 and "line 24, column 19" in bad.json()["detail"]
        assert api.get(f"/plugins/{store.plugin_id}/upgrade").json() is None
        assert api.post(f"/plugins/{store.plugin_id}/upgrade", json={}).status_code == 409
        assert api.delete("/templates/parcels").status_code == 204
        assert "parcels" not in [t["id"] for t in api.get("/templates").json()]
        assert api.delete("/templates/parcels").status_code == 404
