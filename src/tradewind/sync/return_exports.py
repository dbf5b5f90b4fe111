"""Returns received in Tradewind, sent to the store their order came from (the plugin's
*Send returns to the store* rule): which returns go (``enqueue_return``), what is sent
(``return_export``), and how the store's refund is tied back to its return — by the
refund's id once it is known, and by the marker its note carries when it comes back
first (its webhook, or a retry after a lost answer).

A return that came from the store (imported from one of its refunds) already has the
store's refund id, and is never sent back."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.connectors.records import ReturnExport, ReturnExportLine
from tradewind.core.links.models import LocationMapping
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin, PluginState
from tradewind.core.returns.models import Return, ReturnStatus
from tradewind.sync import ledger
from tradewind.sync.models import WorkKind
from tradewind.vocabulary import StockMode

MARKER = re.compile(r"\[tradewind-return-(\d+)\]")


def marker(return_id: int) -> str:
    return f"tradewind-return-{return_id}"


def marked_return(note: str) -> int | None:
    """The return a refund's note says Tradewind made it for, if it says so."""
    found = MARKER.search(note or "")
    return int(found.group(1)) if found else None


def _destination(session: Session, found: Return) -> tuple[Order, Plugin] | None:
    """The imported order of ``found`` and its plugin, when the return is Tradewind's own
    (not from the store) and that plugin's rules send returns."""
    if found.external_id is not None:
        return None  # imported from the store's refund, or sent there already
    order = session.get(Order, found.order_id)
    if order is None or order.plugin_id is None or order.external_id is None:
        return None
    if order.exported_at is not None:
        return None  # made here and created there: not an imported order
    plugin = plugins.get_plugin(session, order.plugin_id)
    if not plugins.import_rules(plugin).export_returns:
        return None
    return order, plugin


def enqueue_return(session: Session, return_id: int, keeps_work: Sequence[PluginState]) -> None:
    found = session.get(Return, return_id)
    if found is None or found.status is not ReturnStatus.RECEIVED:
        return
    destination = _destination(session, found)
    if destination is not None and destination[1].state in keeps_work:
        ledger.enqueue(session, destination[1].id, WorkKind.EXPORT_RETURN, str(return_id))


def return_export(session: Session, plugin: Plugin, return_id: int) -> ReturnExport | None:
    """What to send for the return, or ``None`` when nothing is to be (anymore)."""
    found = session.get(Return, return_id)
    if found is None or found.status is ReturnStatus.REQUESTED:
        return None
    destination = _destination(session, found)
    if destination is None or destination[1].id != plugin.id:
        return None
    order = destination[0]
    by_id = {line.id: line for line in order.lines}
    lines = [
        ReturnExportLine(line_external_id=by_id[item.order_line_id].external_id or "", quantity=q)
        for item in found.lines
        if (q := item.quantity) and by_id[item.order_line_id].external_id
    ]
    if not lines:
        return None
    mapped = _mapping(session, plugin.id, found.warehouse_id)
    # Units put back in a warehouse whose stock Tradewind pushes to this store reach its
    # shelf through that push; restocked by the refund as well, they would count twice.
    pushed = plugin.stock_mode is not StockMode.OFF and mapped is not None
    return ReturnExport(
        order_external_id=order.external_id or "",
        marker=marker(found.id),
        lines=tuple(lines),
        restock=found.restock and not pushed,
        location_ref=order.location_ref or (mapped.external_id if mapped else ""),
        notify=plugins.import_rules(plugin).notify_customer,
        reason=found.reason,
    )


def _mapping(session: Session, plugin_id: int, warehouse_id: int | None) -> LocationMapping | None:
    if warehouse_id is None:
        return None
    return session.scalars(
        select(LocationMapping)
        .where(
            LocationMapping.plugin_id == plugin_id,
            LocationMapping.warehouse_id == warehouse_id,
            LocationMapping.active.is_(True),
        )
        .order_by(LocationMapping.is_default.desc(), LocationMapping.id)
    ).first()


def link_refund(session: Session, plugin: Plugin, return_id: int, refund_id: str) -> bool:
    """Tie the store's refund to the return it was made for (once; ``False`` when it was
    already, or the return is gone)."""
    found = session.get(Return, return_id)
    if found is None or found.external_id is not None:
        return False
    found.plugin_id = plugin.id
    found.external_id = refund_id
    orders.add_activity(
        session,
        orders.get_order(session, found.order_id),
        "return_sent",
        f"Return #{found.id} refunded on {plugin.name} (refund {refund_id}).",
    )
    session.flush()
    return True
