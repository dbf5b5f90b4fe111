"""Integration templates: the catalogue, the format's schema, checking a template, and
the dry run of a template plugin's hook or pull."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from tradewind.api.problems import responses
from tradewind.api.routers import resource_router
from tradewind.api.security import Principal, api_principal, hub_of
from tradewind.app import templates
from tradewind.app.templates import CheckOut, DryRunOut, TemplateOut, TooLarge, UpgradeOut
from tradewind.connectors.template.loader import MAX_BYTES
from tradewind.connectors.template.schema import json_schema
from tradewind.errors import Invalid

router = resource_router("templates")
YAML_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/yaml": {"schema": {"type": "string"}}},
    }
}


class DryRunIn(BaseModel):
    name: str = Field(description="The hook or pull to run.")
    input: Any = Field(default=None, description="The hook's input (a pull: since, cursor).")


@router.get("/templates", response_model=list[TemplateOut])
def list_templates(request: Request) -> list[TemplateOut]:
    """The installed templates (shipped and the merchant's own)."""
    return [templates.describe(t) for t in templates.catalogue(hub_of(request))]


@router.get("/templates/schema")
def template_schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of ``tradewind-template/v1``, for editors."""
    return json_schema()


@router.get("/templates/{template_id}", responses=responses(404))
def get_template(request: Request, template_id: str) -> dict[str, Any]:
    """One installed template, as its file says."""
    found = templates.get(hub_of(request), template_id)
    return found.model_dump(mode="json", by_alias=True, exclude_defaults=True)


@router.post(
    "/templates/validate",
    response_model=CheckOut,
    responses=responses(413),
    openapi_extra=YAML_BODY,
)
async def validate_template(request: Request) -> CheckOut:
    """Check a template (the YAML file as the body): every problem with its line,
    column and path. Nothing is stored."""
    return await run_in_threadpool(templates.check, await _text(request))


async def _text(request: Request) -> str:
    body = await request.body()
    if len(body) > MAX_BYTES:
        raise TooLarge(f"a template is at most {MAX_BYTES // 1024} KiB")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("the template is not UTF-8 text") from None


@router.post(
    "/templates",
    response_model=TemplateOut,
    status_code=201,
    responses=responses(409, 413, 422),
    openapi_extra=YAML_BODY,
)
async def upload_template(
    request: Request, principal: Principal = Depends(api_principal)
) -> TemplateOut:
    """Store a template of your own (the YAML file as the body). Refused whole, with
    every problem, when it is not valid; a new version of one of yours needs a higher
    version number. Workers take it in at their next sweep."""
    text = await _text(request)
    return await run_in_threadpool(
        lambda: templates.save_custom(hub_of(request), text, by=principal.name)
    )


@router.delete("/templates/{template_id}", status_code=204, responses=responses(404, 409))
def delete_template(request: Request, template_id: str) -> Response:
    """Delete every version of one of your templates (refused while a plugin uses it)."""
    templates.delete_custom(hub_of(request), template_id)
    return Response(status_code=204)


class UpgradeIn(BaseModel):
    confirm_major: bool = Field(default=False, description="Confirm a major version.")


@router.get(
    "/plugins/{plugin_id}/upgrade", response_model=UpgradeOut | None, responses=responses(404)
)
def upgrade_offer(request: Request, plugin_id: int) -> UpgradeOut | None:
    """The newer version of a template plugin's template and what it changes in its
    settings (``null`` when it is on the newest)."""
    return templates.upgrade_offer(hub_of(request), plugin_id)


@router.post(
    "/plugins/{plugin_id}/upgrade", response_model=UpgradeOut, responses=responses(404, 409, 422)
)
def upgrade(request: Request, plugin_id: int, given: UpgradeIn) -> UpgradeOut:
    """Move a template plugin to its template's newest version (a major one only with
    ``confirm_major``)."""
    return templates.upgrade(hub_of(request), plugin_id, confirm_major=given.confirm_major)


@router.post(
    "/plugins/{plugin_id}/dry-run", response_model=DryRunOut, responses=responses(404, 502)
)
def dry_run(request: Request, plugin_id: int, given: DryRunIn) -> DryRunOut:
    """Run one hook or pull of a template plugin: the requests sent (secrets redacted),
    the answers and the mapped output. Nothing is written in Tradewind; the service is
    called for real."""
    return templates.dry_run(hub_of(request), plugin_id, given.name, given.input)
