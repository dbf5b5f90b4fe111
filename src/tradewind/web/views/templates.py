"""Integrations: the template catalogue by category with search, export, and Create
Custom — an editor that checks a template (every problem at its line) and saves it, or
takes a file."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from tradewind.app import templates
from tradewind.auth.service import SessionUser
from tradewind.connectors.template.loader import MAX_BYTES
from tradewind.errors import TradewindError
from tradewind.web.app import page, redirect
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
def editor(request: Request, _user: SessionUser = Depends(writer)) -> HTMLResponse:
    return page(request, "integration_custom.html", source=STARTER, result=None, error="")


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
    return page(
        request,
        "integration_custom.html",
        status=status,
        source=source[:MAX_BYTES],
        result=result,
        error=error,
    )
