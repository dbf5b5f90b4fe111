"""Pending work whose payloads carry versions keeps the newest state delivered, whatever
order the deliveries arrive in: in one transaction (coalesced in memory) and across
transactions (the upsert), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests import factories
from tradewind.hub import Hub
from tradewind.sync import ledger
from tradewind.sync.models import SyncWork, WorkKind

OLD = {"version": "2026-01-01T10:00:00+00:00", "digest": "a", "inbox": 1}
NEW = {"version": "2026-01-01T10:00:05+00:00", "digest": "b", "inbox": 2}
SAME_NEW = {"version": "2026-01-01T10:00:05+00:00", "digest": "b", "inbox": 3}  # sent twice
TWIN = {"version": "2026-01-01T10:00:05+00:00", "digest": "c", "inbox": 4}  # same second
REREAD = {"reread": "1"}

CASES = [
    ([OLD, NEW], NEW),
    ([NEW, OLD], NEW),  # the older state arrived late: the newer one stays
    ([NEW, SAME_NEW], SAME_NEW),  # the same state again: either will do
    ([NEW, TWIN], REREAD),  # two states in one second: read the order
    ([NEW, TWIN, NEW], REREAD),  # and nothing displaces the re-read
    ([REREAD, NEW], REREAD),  # a delivery that only named the order: read it
    ([{}, NEW], NEW),  # a plain re-read (the poll's) is displaced by a whole body
    ([{"n": 1}, {"n": 2}], {"n": 2}),  # unversioned payloads: the latest, as ever
]


def _payloads(hub: Hub, plugin: int, sent: list[dict[str, Any]], *, together: bool) -> Any:
    if together:
        with hub.db.unit_of_work() as session:
            for payload in sent:
                ledger.enqueue(session, plugin, WorkKind.IMPORT_ORDER, "1001", payload=payload)
    else:
        for payload in sent:
            with hub.db.unit_of_work() as session:
                ledger.enqueue(session, plugin, WorkKind.IMPORT_ORDER, "1001", payload=payload)
    with hub.db.read() as session:
        (row,) = session.scalars(select(SyncWork).where(SyncWork.plugin_id == plugin))
        return row.payload


@pytest.mark.parametrize(("sent", "kept"), CASES)
def test_pending_work_keeps_the_newest_version_delivered(
    hub: Hub, sent: list[dict[str, Any]], kept: dict[str, Any]
) -> None:
    with hub.db.unit_of_work() as session:
        apart = factories.plugin(hub, session, import_orders=False).id
        together = factories.plugin(hub, session, "eu-store", import_orders=False).id
    assert _payloads(hub, apart, sent, together=False) == kept
    assert _payloads(hub, together, sent, together=True) == kept
