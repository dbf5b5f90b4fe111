"""Notifications (problems a person must act on, with their fix) and executions."""

from __future__ import annotations

from fastapi import Depends, Query, Request

from tradewind.api import schemas
from tradewind.api.pagination import Page, PageParams, page_params, paginate
from tradewind.api.routers import resource_router
from tradewind.api.security import hub_of
from tradewind.monitoring import executions, notifications
from tradewind.monitoring.notifications import NotificationKind

router = resource_router("monitoring")


@router.get("/notifications", response_model=list[schemas.NotificationOut])
def list_notifications(
    request: Request, kind: NotificationKind | None = None, plugin_id: int | None = None
) -> list[schemas.NotificationOut]:
    """Open notifications, newest first."""
    with hub_of(request).db.read() as session:
        rows = notifications.open_notifications(session, plugin_id=plugin_id, kind=kind)
        return [schemas.NotificationOut.model_validate(row) for row in rows]


@router.get("/notifications/count", response_model=schemas.NotificationCount)
def count_notifications(request: Request) -> schemas.NotificationCount:
    """The bell's number."""
    with hub_of(request).db.read() as session:
        return schemas.NotificationCount(
            open=len(notifications.open_notifications(session)),
            unread=notifications.unread_count(session),
        )


@router.post("/notifications/read", response_model=schemas.MarkReadOut)
def mark_read(request: Request, body: schemas.MarkReadIn) -> schemas.MarkReadOut:
    with hub_of(request).db.unit_of_work() as session:
        return schemas.MarkReadOut(marked=notifications.mark_read(session, body.ids))


@router.get("/executions", response_model=Page[schemas.ExecutionOut])
def list_executions(
    request: Request,
    page: PageParams = Depends(page_params),
    plugin_id: int | None = None,
    outcome: str | None = Query(default=None, max_length=32),
) -> Page[schemas.ExecutionOut]:
    """Every recorded connector call, newest first."""
    with hub_of(request).db.read() as session:
        rows = executions.list_executions(
            session,
            plugin_id=plugin_id,
            outcome=outcome,
            before_id=page.after_id,
            limit=page.limit + 1,
        )
        return paginate(rows, page.limit, schemas.ExecutionOut.model_validate, lambda e: e.id)
