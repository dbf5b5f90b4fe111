"""Storing uploaded templates: every version kept (a plugin pins the one it was made
with), an id removed only when no plugin uses it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tradewind.core.plugins.models import Plugin
from tradewind.core.templates.models import StoredTemplate
from tradewind.errors import Conflict, NotFound


def stored(session: Session) -> Sequence[StoredTemplate]:
    """Every stored version, oldest first."""
    return session.scalars(select(StoredTemplate).order_by(StoredTemplate.id)).all()


def versions(session: Session, template_id: str) -> Sequence[StoredTemplate]:
    return session.scalars(
        select(StoredTemplate)
        .where(StoredTemplate.template_id == template_id)
        .order_by(StoredTemplate.id)
    ).all()


def store(
    session: Session, template_id: str, version: str, source: str, *, by: str = ""
) -> tuple[StoredTemplate, bool]:
    """Keep ``source`` as ``template_id`` ``version``; returns (row, created). The same
    version again with the same source changes nothing; with another source it is
    refused: a published version never changes under the plugins pinned to it."""
    found = session.scalar(
        select(StoredTemplate).where(
            StoredTemplate.template_id == template_id, StoredTemplate.version == version
        )
    )
    if found is not None:
        if found.source == source:
            return found, False
        raise Conflict(
            f"{template_id} {version} is already stored with other content: "
            "raise the version to change it"
        )
    row = StoredTemplate(template_id=template_id, version=version, source=source, created_by=by)
    session.add(row)
    session.flush()
    return row, True


def remove(session: Session, template_id: str) -> int:
    """Delete every version of ``template_id``; refused while a plugin uses it."""
    if not versions(session, template_id):
        raise NotFound(f"no uploaded template {template_id!r}")
    users = session.scalars(select(Plugin.name).where(Plugin.connector == template_id)).all()
    if users:
        raise Conflict(
            f"the template {template_id} is used by {', '.join(sorted(users))}: "
            "delete those plugins first"
        )
    result = session.execute(
        delete(StoredTemplate).where(StoredTemplate.template_id == template_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)
