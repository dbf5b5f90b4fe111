"""The order doctor: why an order did or did not import through a plugin — every check
of the procedure with its evidence, one verdict, one action — and carrying out that
action where it is safe."""

from __future__ import annotations

from fastapi import Query, Request, status
from pydantic import BaseModel, Field

from tradewind.api.problems import responses
from tradewind.api.routers import resource_router
from tradewind.api.security import hub_of
from tradewind.app import doctor
from tradewind.app.doctor import DiagnosisOut
from tradewind.sync.doctor import ActionKind

router = resource_router("orders")


class DoctorActionIn(BaseModel):
    order: str = Field(min_length=1, max_length=128)  # its number on the platform, or its id
    action: ActionKind  # the one the diagnosis offers (switch_on_import_orders, sync_now, backfill)


class DoctorActionOut(BaseModel):
    done: str


@router.get(
    "/plugins/{plugin_id}/doctor", response_model=DiagnosisOut, responses=responses(404, 422)
)
def diagnose(
    request: Request,
    plugin_id: int,
    order: str = Query(min_length=1, max_length=128, description="number or platform id"),
) -> DiagnosisOut:
    """Why didn't this order import? The order is read live from the platform; an order
    the platform does not have answers 200 with ``found: false`` and that verdict."""
    return DiagnosisOut.of(doctor.diagnose(hub_of(request), plugin_id, order))


@router.post(
    "/plugins/{plugin_id}/doctor",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DoctorActionOut,
    responses=responses(404, 422),
)
def apply(request: Request, plugin_id: int, body: DoctorActionIn) -> DoctorActionOut:
    """Carry out the action the diagnosis offers now — only when it is ``action`` and
    one the doctor may take (switch Import Orders on, sync the order now, backfill its
    day); fixing channels, reauthorizing and mapping products are done on their pages."""
    return DoctorActionOut(done=doctor.apply(hub_of(request), plugin_id, body.order, body.action))
