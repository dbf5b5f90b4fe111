"""Every kind of work has its handler, of one of the engine's shapes."""

from __future__ import annotations

from tradewind.sync.handlers import HANDLERS
from tradewind.sync.handlers.base import Paged, PerRow, Single, Walk
from tradewind.sync.handlers.customers import ExportAllCustomers
from tradewind.sync.models import WorkKind


def test_every_work_kind_has_a_handler_of_a_known_shape() -> None:
    assert set(HANDLERS) == set(WorkKind)
    for kind, handler in HANDLERS.items():
        if kind is WorkKind.EXPORT_ALL_CUSTOMERS:
            # A page of writes that records what it did before a failure is raised.
            assert isinstance(handler, ExportAllCustomers)
            continue
        assert isinstance(handler, Single | PerRow | Walk), kind


def test_a_paged_handler_queues_its_own_kind() -> None:
    paged = {kind: handler for kind, handler in HANDLERS.items() if isinstance(handler, Paged)}
    assert set(paged) == {WorkKind.BACKFILL, WorkKind.SYNC_PRODUCTS}
    for kind, handler in paged.items():
        assert handler.kind is kind
