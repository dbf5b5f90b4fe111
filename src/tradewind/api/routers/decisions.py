"""Import decisions: what Tradewind decided about each external order a plugin's syncs
saw, why (a stable code, its sentence and its fix) and by which path."""

from __future__ import annotations

import datetime as dt

from fastapi import Query, Request
from pydantic import BaseModel

from tradewind.api.problems import responses
from tradewind.api.routers import resource_router
from tradewind.api.security import hub_of
from tradewind.core.plugins import service as plugins
from tradewind.errors import NotFound
from tradewind.sync import decisions
from tradewind.sync.decisions import Decision, ImportDecision, SeenBy

router = resource_router("orders")


class DecisionOut(BaseModel):
    id: int
    external_id: str
    number: str
    seen_at: dt.datetime
    path: SeenBy
    decision: Decision
    code: str  # stable: toggle_off:import_orders, status_not_imported:pending, unpaid, …
    reason: str  # the sentence
    fix: str  # what fixes it ("" when nothing is to be done)
    order_id: int | None  # the Tradewind order, once imported


class EarlierOut(BaseModel):
    seen_at: dt.datetime
    path: SeenBy
    decision: Decision
    code: str
    reason: str


class DecisionDetail(DecisionOut):
    history: list[EarlierOut]  # the decisions that changed, oldest first (recent ones)


def _out(found: ImportDecision) -> DecisionOut:
    return DecisionOut(
        id=found.id,
        external_id=found.external_id,
        number=found.number,
        seen_at=found.seen_at,
        path=found.path,
        decision=found.decision,
        code=found.code,
        reason=found.reason,
        fix=decisions.fix_for(found.code) if found.code else "",
        order_id=found.order_id,
    )


@router.get(
    "/plugins/{plugin_id}/decisions", response_model=list[DecisionOut], responses=responses(404)
)
def list_decisions(
    request: Request,
    plugin_id: int,
    decision: Decision | None = None,
    before_id: int | None = Query(default=None, ge=1),
    limit: int = Query(default=100, ge=1, le=500),
) -> list[DecisionOut]:
    """The plugin's latest decisions, newest first; ``before_id`` pages back."""
    with hub_of(request).db.read() as session:
        plugins.get_plugin(session, plugin_id)
        found = decisions.recent(
            session, plugin_id, decision=decision, before_id=before_id, limit=limit
        )
        return [_out(item) for item in found]


@router.get(
    "/plugins/{plugin_id}/decisions/{order}",
    response_model=DecisionDetail,
    responses=responses(404),
)
def get_decision(request: Request, plugin_id: int, order: str) -> DecisionDetail:
    """The latest decision about one order (its id on the platform, or its number),
    with the recent decisions that led there."""
    with hub_of(request).db.read() as session:
        plugin = plugins.get_plugin(session, plugin_id)
        found = decisions.latest(session, plugin_id, order[:128])
        if found is None:
            raise NotFound(f"{plugin.name} has seen no order {order[:64]!r}")
        earlier = decisions.history(session, plugin_id, found.external_id)
        return DecisionDetail(
            **_out(found).model_dump(),
            history=[
                EarlierOut(
                    seen_at=e.seen_at,
                    path=e.path,
                    decision=e.decision,
                    code=e.code,
                    reason=e.reason,
                )
                for e in earlier
            ],
        )
