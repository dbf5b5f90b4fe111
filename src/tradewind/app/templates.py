"""Integration templates as the faces use them: the catalogue (installed templates and
the broken ones, with why), checking a template file, and the dry run of one hook or
pull against a plugin."""

from __future__ import annotations

import datetime as dt
from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.app.calls import connector_calls
from tradewind.connectors.template import (
    Problem,
    Template,
    TemplateConnector,
    TemplateInvalid,
    load_template,
)
from tradewind.connectors.template.cases import CasesInvalid, load_cases, run_cases
from tradewind.connectors.template.connector import connector_class
from tradewind.connectors.template.library import semver
from tradewind.connectors.template.loader import MAX_BYTES
from tradewind.connectors.template.runtime import Exchange
from tradewind.connectors.template.sources import is_cases_file
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin
from tradewind.core.templates import service as templates_store
from tradewind.errors import Conflict, Invalid, NotFound
from tradewind.hub import Hub
from tradewind.monitoring import executions
from tradewind.sync.runtime import CallBuffer, open_connector


class TemplateOut(BaseModel):
    id: str
    version: str
    display_name: str
    category: str
    description: str
    capabilities: list[str]
    hooks: list[str]
    pulls: list[str]


class ProblemOut(BaseModel):
    path: str
    message: str
    line: int | None
    column: int | None


class CheckOut(BaseModel):
    valid: bool
    problems: list[ProblemOut]
    template: TemplateOut | None = None


class ExchangeOut(BaseModel):
    operation: str
    request: dict[str, Any]
    status: int
    body: Any


class DryRunOut(BaseModel):
    exchanges: list[ExchangeOut]
    output: Any


def describe(template: Template) -> TemplateOut:
    return TemplateOut(
        id=template.id,
        version=template.version,
        display_name=template.display_name,
        category=template.category,
        description=template.description,
        capabilities=list(template.capabilities),
        hooks=list(template.hooks),
        pulls=list(template.pulls),
    )


def catalogue(hub: Hub) -> list[Template]:
    """The installed templates, by category then name."""
    found = [
        connector.template
        for connector in hub.registry.connectors.values()
        if isinstance(connector, type) and issubclass(connector, TemplateConnector)
    ]
    return sorted(found, key=lambda t: (t.category, t.display_name.lower()))


def get(hub: Hub, template_id: str) -> Template:
    for template in catalogue(hub):
        if template.id == template_id:
            return template
    raise NotFound(f"no installed template {template_id!r}")


def check(text: str) -> CheckOut:
    """Whether ``text`` is a usable template, and every problem if not."""
    try:
        template = load_template(text)
    except TemplateInvalid as exc:
        return CheckOut(valid=False, problems=[_problem(p) for p in exc.problems])
    return CheckOut(valid=True, problems=[], template=describe(template))


class CaseOut(BaseModel):
    name: str
    ok: bool
    detail: str  # why it failed, with a diff


class CasesOut(BaseModel):
    """A template's recorded cases run: the problems of the template or of its case file
    (``problems_in``) when they cannot run, else each case's result."""

    problems_in: str | None = None  # "template" or "cases"
    problems: list[ProblemOut] = []
    results: list[CaseOut] = []

    @property
    def passed(self) -> bool:
        return not self.problems and all(result.ok for result in self.results)


def run_case_file(template_text: str, cases_text: str) -> CasesOut:
    """Run the recorded cases in ``cases_text`` against the template in ``template_text``
    (nothing is called but the recording)."""
    try:
        template = load_template(template_text)
    except TemplateInvalid as exc:
        return CasesOut(problems_in="template", problems=[_problem(p) for p in exc.problems])
    try:
        cases = load_cases(cases_text, template)
    except CasesInvalid as exc:
        return CasesOut(problems_in="cases", problems=[_problem(p) for p in exc.problems])
    return CasesOut(
        results=[
            CaseOut(name=result.name, ok=result.ok, detail=result.detail)
            for result in run_cases(template, cases)
        ]
    )


def _problem(problem: Problem) -> ProblemOut:
    return ProblemOut(
        path=problem.path, message=problem.message, line=problem.line, column=problem.column
    )


def dry_run(
    hub: Hub, plugin_id: int, name: str, input: Any = None, *, source: str | None = None
) -> DryRunOut:
    """Run hook (or pull) ``name`` of a template plugin with ``input`` and show what it
    sent (secrets redacted), what came back and what it maps to. Nothing is written in
    Tradewind: no record, no execution. The service itself is called for real. With
    ``source``, the template being edited runs in place of the plugin's (same id), with
    the plugin's settings and credentials."""
    with hub.db.read() as session:
        plugin = plugins.get_plugin(session, plugin_id)
    edited = None if source is None else _edited(source, plugin.connector)
    try:
        connector = open_connector(hub, plugin, CallBuffer(), connector_class=edited)
    except ValidationError as exc:
        missing = ", ".join(str(error["loc"][0]) for error in exc.errors() if error["loc"])
        raise Invalid(
            f"the edited template needs settings {plugin.name} has not got: {missing}"
        ) from None
    try:
        if not isinstance(connector, TemplateConnector):
            raise Invalid(f"{plugin.name} is not a template plugin")
        template = connector.template
        with connector_calls():
            if name in template.hooks:
                run = connector.run_hook(name, input)
                return DryRunOut(exchanges=[_exchange(e) for e in run.exchanges], output=run.output)
            if name in template.pulls:
                return _pull(connector, name, input if isinstance(input, dict) else {})
        known = ", ".join([*template.hooks, *template.pulls]) or "none"
        raise NotFound(f"{template.id} has no hook or pull {name!r} (it has: {known})")
    finally:
        connector.close()


def _edited(source: str, template_id: str) -> type[TemplateConnector]:
    if len(source.encode("utf-8")) > MAX_BYTES:
        raise TooLarge(f"a template is at most {MAX_BYTES // 1024} KiB")
    try:
        template = load_template(source)
    except TemplateInvalid as exc:
        raise Invalid(f"the template is not valid: {exc}") from None
    if template.id != template_id:
        raise Invalid(f"the template is {template.id!r}; the plugin runs {template_id!r}")
    return connector_class(template)


def _pull(connector: TemplateConnector, name: str, input: dict[str, Any]) -> DryRunOut:
    since = input.get("since")
    page = connector.runner.pull(
        name,
        cursor=input.get("cursor"),
        since=dt.datetime.fromisoformat(since) if since else None,
    )
    return DryRunOut(
        exchanges=[_exchange(page.exchange)],
        output={"records": page.records, "skipped": page.skipped, "next_cursor": page.next_cursor},
    )


def _exchange(exchange: Exchange) -> ExchangeOut:
    return ExchangeOut(
        operation=exchange.operation,
        request=exchange.request,
        status=exchange.status,
        body=exchange.body,
    )


# ------------------------------------------------------------------- uploaded templates


def save_custom(hub: Hub, text: str, *, by: str = "") -> TemplateOut:
    """Store an uploaded template (Create Custom, an import, the API). Refused whole,
    with every problem, when it is not a valid template; its id must be its own (not a
    Python connector's, not a shipped or directory template's), and a new version of an
    uploaded id must be newer than the last."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise TooLarge(f"a template is at most {MAX_BYTES // 1024} KiB")
    try:
        template = load_template(text)
    except TemplateInvalid as exc:
        raise Invalid(f"the template is not valid: {exc}") from None
    owner = hub.templates.origins.get(template.id)
    if template.id in hub.python_registry.connectors:
        raise Conflict(f"the id {template.id!r} is a connector's already installed")
    if owner not in (None, "uploaded"):
        raise Conflict(f"the id {template.id!r} is taken by the template of {owner}")
    newest = hub.templates.versions(template.id)
    with hub.db.unit_of_work() as session:
        same = next(
            (
                row
                for row in templates_store.versions(session, template.id)
                if row.version == template.version
            ),
            None,
        )
        if same is None and newest and semver(template.version) <= semver(newest[-1]):
            raise Conflict(
                f"{template.id} {newest[-1]} is installed: a new upload needs a higher version "
                f"than {template.version}"
            )
        templates_store.store(session, template.id, template.version, text, by=by)
    hub.refresh_templates()
    return describe(template)


def delete_custom(hub: Hub, template_id: str) -> None:
    with hub.db.unit_of_work() as session:
        templates_store.remove(session, template_id)
    hub.refresh_templates()


class UpgradeOut(BaseModel):
    plugin_id: int
    template_id: str
    current: str
    latest: str
    major: bool  # a breaking change: the merchant confirms it
    added: list[str]  # settings the new version asks for
    removed: list[str]
    changed: list[str]  # same name, another type or secrecy
    needs: list[str]  # added settings without a default: to be entered first


def upgrade_offer(hub: Hub, plugin_id: int) -> UpgradeOut | None:
    """The newer version of a template plugin's template, with what changes in its
    settings; ``None`` when it is on the newest (or is not a template plugin)."""
    with hub.db.read() as session:
        plugin = plugins.get_plugin(session, plugin_id)
    versions = hub.templates.versions(plugin.connector)
    current = plugin.connector_version
    if not versions or current is None or semver(versions[-1]) <= semver(current):
        return None
    old = hub.templates.version(plugin.connector, current)
    new = hub.templates.version(plugin.connector, versions[-1])
    assert new is not None
    before = old.template.settings if old is not None else {}
    after = new.template.settings
    added = sorted(set(after) - set(before))
    return UpgradeOut(
        plugin_id=plugin.id,
        template_id=plugin.connector,
        current=current,
        latest=versions[-1],
        major=semver(versions[-1])[0] > semver(current)[0],
        added=added,
        removed=sorted(set(before) - set(after)),
        changed=sorted(
            name
            for name in set(before) & set(after)
            if (before[name].type, before[name].secret) != (after[name].type, after[name].secret)
        ),
        needs=[name for name in added if after[name].required and after[name].default is None],
    )


def upgrade(hub: Hub, plugin_id: int, *, confirm_major: bool = False) -> UpgradeOut:
    """Move a template plugin to its template's newest version."""
    offer = upgrade_offer(hub, plugin_id)
    if offer is None:
        raise Conflict("the plugin is on the newest version of its template")
    if offer.major and not confirm_major:
        raise Conflict(
            f"{offer.template_id} {offer.latest} is a major version (from {offer.current}): "
            "confirm the upgrade"
        )
    if offer.needs:
        raise Invalid(
            f"{offer.template_id} {offer.latest} needs settings this plugin has not got: "
            f"{', '.join(offer.needs)}"
        )
    with hub.db.unit_of_work() as session:
        plugin = plugins.get_plugin(session, plugin_id)
        plugin.connector_version = offer.latest
        keep_version(hub, session, offer.template_id, offer.latest)
    return offer


# The author of the copies ``keep_version`` stores.
KEPT_BY = "tradewind (kept for its plugins)"


class TooLarge(Invalid):
    status = 413
    title = "Too large"


def keep_version(hub: Hub, session: Session, template_id: str, version: str) -> None:
    """Keep a copy of a shipped or directory template's ``version`` in the database when
    a plugin pins it, so that the plugin still runs after Tradewind (or the directory)
    brings a newer one; uploaded versions are kept already."""
    origin = hub.templates.origins.get(template_id)
    if origin in (None, "uploaded"):
        return
    text = _file_source(origin, template_id)
    if text is None or load_template(text).version != version:
        return
    try:
        with session.begin_nested():
            templates_store.store(session, template_id, version, text, by=KEPT_BY)
    except Conflict:
        pass  # a copy of this version is kept already: the first one stays


def source_of(hub: Hub, template_id: str) -> str:
    """The YAML of an installed template (its newest version), for export."""
    template = get(hub, template_id)
    origin = hub.templates.origins.get(template_id, "")
    if origin == "uploaded":
        with hub.db.read() as session:
            for row in reversed(templates_store.versions(session, template_id)):
                if row.version == template.version:
                    return row.source
    text = _file_source(origin, template_id) if origin else None
    if text is not None:
        return text
    raise NotFound(f"the source of {template_id} is not available")


def _file_source(origin: str, template_id: str) -> str | None:
    if origin == "shipped":
        folder = files("tradewind.integrations").joinpath("templates")
        for entry in folder.iterdir():
            if entry.name.endswith(".yaml") and not is_cases_file(entry.name):
                text = entry.read_text(encoding="utf-8")
                if load_template(text).id == template_id:
                    return text
        return None
    if origin == "uploaded":
        return None
    try:
        return Path(origin).read_text(encoding="utf-8")
    except OSError:
        return None


# ------------------------------------------------------------- the plugin page's view


class RunOut(BaseModel):
    at: dt.datetime
    operation: str
    outcome: str
    http_status: int | None
    duration_ms: float
    error: str


class ActionOut(BaseModel):
    """A hook or a pull of a template plugin, with its latest runs."""

    name: str
    kind: str  # hook or pull
    on: str | None  # the store event a hook answers (none: on demand)
    description: str
    steps: list[str]
    returns: str
    runs: list[RunOut]


class PluginTemplateOut(BaseModel):
    template_id: str
    version: str  # the version the plugin is pinned to
    origin: str  # shipped, uploaded or the file's path
    actions: list[ActionOut]
    upgrade: UpgradeOut | None


def plugin_template(hub: Hub, session: Session, plugin: Plugin) -> PluginTemplateOut | None:
    """What the plugin page shows of a template plugin (``None`` for a Python one)."""
    connector = hub.connector_for(plugin)
    if not (isinstance(connector, type) and issubclass(connector, TemplateConnector)):
        return None
    template = connector.template
    names = [*template.hooks, *template.pulls]
    runs = executions.latest_runs(session, plugin.id, names)
    actions = [
        ActionOut(
            name=name,
            kind="hook",
            on=hook.on,
            description=hook.description,
            steps=[step.name for step in hook.steps],
            returns=hook.returns,
            runs=[_run(row) for row in runs[name]],
        )
        for name, hook in template.hooks.items()
    ]
    actions += [
        ActionOut(
            name=name,
            kind="pull",
            on=None,
            description=f"a paged read of {pull.returns} records",
            steps=["page"],
            returns=pull.returns,
            runs=[_run(row) for row in runs[name]],
        )
        for name, pull in template.pulls.items()
    ]
    return PluginTemplateOut(
        template_id=template.id,
        version=template.version,
        origin=hub.templates.origins.get(template.id, ""),
        actions=actions,
        upgrade=upgrade_offer(hub, plugin.id),
    )


def template_plugins(hub: Hub, session: Session) -> list[Plugin]:
    """The plugins made from a template (those an edited template can be tried with)."""
    return [
        plugin
        for plugin in session.scalars(select(Plugin).order_by(Plugin.name))
        if _is_template(hub, plugin.connector)
    ]


def _is_template(hub: Hub, key: str) -> bool:
    if key not in hub.registry.connectors:
        return False
    connector = hub.registry.get(key)
    return isinstance(connector, type) and issubclass(connector, TemplateConnector)


def _run(row: executions.Execution) -> RunOut:
    return RunOut(
        at=row.started_at,
        operation=row.operation,
        outcome=row.outcome,
        http_status=row.http_status,
        duration_ms=row.duration_ms,
        error=row.error,
    )
