"""Integrations in the UI: the catalogue by category with search and export, and Create
Custom — a mistake shown at its line with nothing stored, then fixed and saved."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.connectors.template.test_loader import GOOD
from tests.web.conftest import Browser
from tradewind.core.templates.models import StoredTemplate
from tradewind.hub import Hub

MISTAKE = GOOD.replace("steps.shipment.body.id", "steps.shipmnt.body.id")


def _stored(hub: Hub) -> int:
    with hub.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(StoredTemplate)) or 0)


def test_create_custom_shows_the_mistake_at_its_line_then_saves(admin: Browser, hub: Hub) -> None:
    editor = admin.get("/integrations/custom")
    assert editor.status_code == 200 and "schema: tradewind-template/v1" in editor.text
    checked = admin.post("/integrations/custom", {"source": MISTAKE, "action": "save"})
    assert checked.status_code == 422
    assert (
        "line 24, column 19: hooks.get_rates.steps[1].request.path: unknown step "
        "&#39;shipmnt&#39; (did you mean &#39;shipment&#39;?)" in checked.text
    )
    assert "steps.shipmnt.body.id" in checked.text  # the editor keeps what was typed
    assert _stored(hub) == 0
    ok = admin.post("/integrations/custom", {"source": GOOD, "action": "check"})
    assert ok.status_code == 200 and "A valid template: parcels 1.2.0" in ok.text
    assert _stored(hub) == 0  # checking stores nothing
    saved = admin.post("/integrations/custom", {"source": GOOD, "action": "save"})
    assert saved.status_code == 303 and saved.headers["location"] == "/integrations"
    assert _stored(hub) == 1
    listed = admin.get("/integrations")
    assert 'data-category="shipping"' in listed.text and 'data-template="parcels"' in listed.text
    assert "/plugins/new?connector=parcels" in listed.text
    assert admin.get("/integrations?q=nothing-like-it").text.count("data-template=") == 0
    assert 'data-template="parcels"' in admin.get("/integrations?q=PARCELS").text
    exported = admin.get("/integrations/parcels/export")
    assert exported.text == GOOD and "attachment" in exported.headers["content-disposition"]
    deleted = admin.post("/integrations/parcels/delete")
    assert deleted.status_code == 303 and _stored(hub) == 0


def test_a_file_is_imported_and_a_too_big_one_refused_with_its_reason(
    admin: Browser, hub: Hub
) -> None:
    big = admin.client.post(
        "/integrations/custom",
        data={"csrf_token": admin.csrf},
        files={"file": ("big.yaml", GOOD + "#" + "x" * 300_000, "application/yaml")},
    )
    assert big.status_code == 422 and "at most 256 KiB" in big.text
    made = admin.client.post(
        "/integrations/custom",
        data={"csrf_token": admin.csrf},
        files={"file": ("parcels.yaml", GOOD, "application/yaml")},
        follow_redirects=False,
    )
    assert made.status_code == 303 and _stored(hub) == 1


def test_a_read_only_user_browses_but_cannot_save(viewer: Browser, hub: Hub) -> None:
    assert viewer.get("/integrations").status_code == 200
    assert "Create Custom" not in viewer.get("/integrations").text
    refused = viewer.post("/integrations/custom", {"source": GOOD, "action": "save"})
    assert refused.status_code == 403 and _stored(hub) == 0
