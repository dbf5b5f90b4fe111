"""Integrations: the template catalogue by category with search, export, and Create
Custom — an editor that checks a template (every problem at its line), tries it with a
plugin's credentials, and saves it, or takes a file; and on a template plugin's page,
the dry run of a hook or pull and the upgrade to a newer version."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from tradewind.app import templates
from tradewind.auth.service import SessionUser
from tradewind.connectors.template.loader import MAX_BYTES
from tradewind.errors import TradewindError
from tradewind.web.app import fragment, page, redirect
from tradewind.web.session import hub_of, reader, writer

router = APIRouter(include_in_schema=False)

STARTER = """\
schema: tradewind-template/v1
id: my_service
version: 1.0.0
display_name: My service
category: custom
environments:
  live: {base_url: "https://api.example.com"}
settings:
  api_key: {type: string, title: API key, secret: true}
auth:
  kind: bearer
  token: "{{ secrets.api_key }}"
test_connection:
  request: {path: /me}
hooks:
  ping:
    steps:
      - name: ping
        request: {path: /ping}
    output: steps.ping.body
"""


@router.get("/integrations")
def catalogue(request: Request, q: str = "", _user: SessionUser = Depends(reader)) -> HTMLResponse:
    hub = hub_of(request)
    wanted = q.strip().lower()
    groups: dict[str, list[templates.TemplateOut]] = {}
    for template in templates.catalogue(hub):
        words = f"{template.id} {template.display_name} {template.description}".lower()
        if wanted and wanted not in words:
            continue
        groups.setdefault(template.category, []).append(templates.describe(template))
    return page(
        request,
        "integrations.html",
        groups=sorted(groups.items()),
        q=q,
        origins=hub.templates.origins,
        broken=hub.registry.broken,
    )


@router.get("/integrations/{template_id}/export")
def export(request: Request, template_id: str, _user: SessionUser = Depends(reader)) -> Response:
    source = templates.source_of(hub_of(request), template_id)
    return Response(
        source,
        media_type="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="{template_id}.yaml"'},
    )


@router.post("/integrations/{template_id}/delete")
def delete(request: Request, template_id: str, _user: SessionUser = Depends(writer)) -> Response:
    try:
        templates.delete_custom(hub_of(request), template_id)
    except TradewindError as exc:
        return redirect(request, "/integrations", exc.message, error=True)
    return redirect(request, "/integrations", f"{template_id} deleted.")


@router.get("/integrations/custom")
def editor(
    request: Request, template: str = "", _user: SessionUser = Depends(writer)
) -> HTMLResponse:
    """The editor: a starter template, or an installed one to make a new version of."""
    source = templates.source_of(hub_of(request), template) if template else STARTER
    return _editor(request, source)


@router.post("/integrations/custom")
async def save(
    request: Request,
    source: str = Form("", max_length=MAX_BYTES + 1),
    action: str = Form("check"),
    file: UploadFile | None = None,
    user: SessionUser = Depends(writer),
) -> Response:
    """Check or save what is in the editor, or the file given."""
    if file is not None and file.filename:
        raw = await file.read(MAX_BYTES + 1)
        try:
            source = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _editor(request, source, error="the file is not UTF-8 text")
        action = "save"
    if action == "save":
        try:
            saved = templates.save_custom(hub_of(request), source, by=user.username)
        except TradewindError as exc:
            return _editor(request, source, result=templates.check(source), error=exc.message)
        return redirect(request, "/integrations", f"{saved.display_name} {saved.version} saved.")
    return _editor(request, source, result=templates.check(source))


def _editor(
    request: Request,
    source: str,
    *,
    result: templates.CheckOut | None = None,
    error: str = "",
) -> HTMLResponse:
    status = 422 if error or (result is not None and not result.valid) else 200
    hub = hub_of(request)  # the plugins a template being edited can be tried with
    with hub.db.read() as session:
        tried_with = [
            (row.id, row.name, row.connector) for row in templates.template_plugins(hub, session)
        ]
    return page(
        request,
        "integration_custom.html",
        status=status,
        source=source[:MAX_BYTES],
        result=result,
        error=error,
        tried_with=tried_with,
    )


@router.post("/integrations/custom/try")
async def try_edited(
    request: Request,
    plugin_id: int = Form(...),
    name: str = Form(..., max_length=64),
    input: str = Form("", max_length=MAX_BYTES),
    source: str = Form(..., max_length=MAX_BYTES + 1),
    _user: SessionUser = Depends(writer),
) -> HTMLResponse:
    """The editor's Try it: the template as edited, with an existing plugin's settings."""
    return await _dry_run(request, plugin_id, name, input, source)


@router.post("/plugins/{plugin_id}/try")
async def try_hook(
    request: Request,
    plugin_id: int,
    name: str = Form(..., max_length=64),
    input: str = Form("", max_length=MAX_BYTES),
    _user: SessionUser = Depends(writer),
) -> HTMLResponse:
    """The plugin page's Try it: one hook or pull, nothing written in Tradewind."""
    return await _dry_run(request, plugin_id, name, input, None)


async def _dry_run(
    request: Request, plugin_id: int, name: str, text: str, source: str | None
) -> HTMLResponse:
    try:
        given: Any = json.loads(text) if text.strip() else None
    except json.JSONDecodeError as exc:
        return fragment(request, "fragments/dry_run.html", run=None, error=f"input: {exc}")
    hub = hub_of(request)
    try:
        run = await run_in_threadpool(templates.dry_run, hub, plugin_id, name, given, source=source)
    except TradewindError as exc:
        return fragment(request, "fragments/dry_run.html", run=None, error=exc.message)
    return fragment(request, "fragments/dry_run.html", run=run, error="")


@router.post("/plugins/{plugin_id}/upgrade")
def upgrade(
    request: Request,
    plugin_id: int,
    confirm_major: bool = Form(False),
    _user: SessionUser = Depends(writer),
) -> Response:
    back = f"/plugins/{plugin_id}#template"
    try:
        offer = templates.upgrade(hub_of(request), plugin_id, confirm_major=confirm_major)
    except TradewindError as exc:
        return redirect(request, back, exc.message, error=True)
    return redirect(request, back, f"Upgraded from {offer.current} to {offer.latest}.")
