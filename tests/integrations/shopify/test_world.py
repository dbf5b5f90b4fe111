"""The test world's own promise: ``settle()`` with no condition returns only when nothing
is left that is about to run — work a rate limit put back a moment is waited for, so a
test that settles after a burst of calls sees that work done."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from tests.integrations.shopify.conftest import World
from tradewind.db import utcnow
from tradewind.sync import ledger
from tradewind.sync.models import SyncWork, WorkKind, WorkState


def _state(world: World, kind: WorkKind) -> WorkState:
    """The state of the plugin's newest work of ``kind``."""
    with world.hub.db.read() as session:
        row = session.scalars(
            select(SyncWork)
            .where(SyncWork.plugin_id == world.plugin_id, SyncWork.kind == kind)
            .order_by(SyncWork.id.desc())
            .limit(1)
        ).one()
        return row.state


def test_settle_waits_for_work_a_rate_limit_put_back_for_a_moment(world: World) -> None:
    world.settle()
    with world.hub.db.unit_of_work() as session:
        ledger.enqueue(session, world.plugin_id, WorkKind.ENSURE_WEBHOOKS, "")
        session.flush()
        session.execute(
            update(SyncWork)
            .where(SyncWork.plugin_id == world.plugin_id, SyncWork.kind == WorkKind.ENSURE_WEBHOOKS)
            .where(SyncWork.state == WorkState.PENDING)
            .values(throttled=1, not_before=utcnow() + dt.timedelta(seconds=1))
        )
    world.settle()
    assert _state(world, WorkKind.ENSURE_WEBHOOKS) is WorkState.DONE


def test_settle_does_not_wait_for_work_put_back_for_longer(world: World) -> None:
    world.settle()
    with world.hub.db.unit_of_work() as session:
        ledger.enqueue(session, world.plugin_id, WorkKind.ENSURE_WEBHOOKS, "", delay=600)
    world.settle()
    assert _state(world, WorkKind.ENSURE_WEBHOOKS) is WorkState.PENDING
