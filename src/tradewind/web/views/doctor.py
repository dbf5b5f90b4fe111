"""The order doctor's box: "why didn't order X import?" asked on the plugin page or on
the orders list, answered inline (checks, verdict, the action as a button, the support
details to copy), and the offered action carried out where it is safe."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse

from tradewind.app import doctor
from tradewind.auth.service import SessionUser
from tradewind.errors import TradewindError
from tradewind.sync.doctor import ActionKind
from tradewind.web.app import fragment
from tradewind.web.session import hub_of, reader, writer

router = APIRouter(include_in_schema=False)


@router.get("/doctor")
def doctor_answer(
    request: Request,
    plugin_id: int = Query(...),
    order: str = Query("", max_length=128),
    _user: SessionUser = Depends(reader),
) -> HTMLResponse:
    try:
        diagnosis = doctor.diagnose(hub_of(request), plugin_id, order)
    except TradewindError as exc:  # said next to the box, not in the page's alerts
        return fragment(request, "fragments/doctor.html", error=str(exc))
    return fragment(
        request,
        "fragments/doctor.html",
        d=doctor.DiagnosisOut.of(diagnosis),
        exit_code=diagnosis.exit_code,
    )


@router.post("/doctor")
def doctor_fix(
    request: Request,
    plugin_id: int = Form(...),
    order: str = Form(..., max_length=128),
    action: ActionKind = Form(...),
    _user: SessionUser = Depends(writer),
) -> HTMLResponse:
    try:
        done = doctor.apply(hub_of(request), plugin_id, order, action)
    except TradewindError as exc:
        return fragment(request, "fragments/doctor.html", error=str(exc))
    return fragment(request, "fragments/doctor.html", done=done)
