"""Import decisions: what Tradewind decided about each external order a plugin's syncs
saw, why (a stable code, its sentence and its fix) and by which path; and the gap
report, a day's orders on the platform against them."""

from __future__ import annotations

import datetime as dt

from fastapi import Query, Request, status
from pydantic import BaseModel

from tradewind.api.problems import responses
from tradewind.api.routers import resource_router
from tradewind.api.security import hub_of
from tradewind.app.schemas import DecisionChangeOut
from tradewind.core.plugins import service as plugins
from tradewind.errors import NotFound
from tradewind.sync import decisions, gaps
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


class DecisionDetail(DecisionOut):
    history: list[DecisionChangeOut]  # the decisions that changed, oldest first (recent ones)


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
            history=[DecisionChangeOut.model_validate(e) for e in earlier],
        )


class MissingOut(BaseModel):
    id: str
    number: str
    placed_at: dt.datetime


class GapReportOut(BaseModel):
    """One day's orders on the platform against Tradewind's."""

    day: dt.date
    ran_at: dt.datetime
    on_platform: int
    imported: int
    skipped: int
    failed: int
    waiting: int  # deferred: rate limited, platform down, authorization, conflict
    missing: int  # the rules would import them; no sync ever saw them
    reasons: dict[str, int]  # skip reason code → count
    missing_orders: list[MissingOut]


class GapRunIn(BaseModel):
    day: dt.date


@router.get(
    "/plugins/{plugin_id}/gaps", response_model=list[GapReportOut], responses=responses(404)
)
def list_gap_reports(request: Request, plugin_id: int) -> list[GapReportOut]:
    """The plugin's gap reports, the latest day first (a month of them)."""
    with hub_of(request).db.read() as session:
        plugins.get_plugin(session, plugin_id)
        return [
            GapReportOut.model_validate(r, from_attributes=True)
            for r in gaps.reports(session, plugin_id)
        ]


@router.post(
    "/plugins/{plugin_id}/gaps",
    status_code=status.HTTP_202_ACCEPTED,
    responses=responses(404, 422),
)
def run_gap_report(request: Request, plugin_id: int, body: GapRunIn) -> dict[str, str]:
    """Compare one day now (it runs as the plugin's work; the report appears when done)."""
    with hub_of(request).db.unit_of_work() as session:
        gaps.request_report(session, plugin_id, body.day)
    return {"detail": f"the gap report of {body.day} is being made"}


@router.post(
    "/plugins/{plugin_id}/gaps/{day}/import",
    status_code=status.HTTP_202_ACCEPTED,
    responses=responses(404),
)
def import_missing_orders(request: Request, plugin_id: int, day: dt.date) -> dict[str, int]:
    """Read exactly the day's missing orders again, and import them."""
    with hub_of(request).db.unit_of_work() as session:
        plugins.get_plugin(session, plugin_id)
        return {"queued": gaps.import_missing(session, plugin_id, day)}
