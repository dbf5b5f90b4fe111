"""Orders out: an order made in Tradewind created on the platform (Export Orders), and
an order cancelled in Tradewind cancelled there."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from tradewind.connectors.base import CancelsOrders, ExportsOrders
from tradewind.connectors.errors import Rejected
from tradewind.connectors.records import OrderRecord
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order, OrderStatus
from tradewind.core.plugins import service as plugins
from tradewind.sync import exports, ledger, triggers
from tradewind.sync.batch import Job
from tradewind.sync.handlers.base import Single
from tradewind.sync.models import WorkKind
from tradewind.vocabulary import StockMode

# An earlier try of an order export may have created the order before its answer was
# lost: it is looked for among the platform's orders created since the work was queued,
# less this margin for clocks that disagree.
CLOCK_MARGIN = dt.timedelta(minutes=10)


class ExportOrder(Single["OrderRecord | None"]):
    """Create an order made in Tradewind on the platform and link it. A retry after an
    outage first looks for the copy an earlier try may have made, so a lost answer never
    becomes a second order there."""

    def fetch(self, job: Job) -> OrderRecord | None:
        connector = job.capability(ExportsOrders)
        order_id = int(job.row.key)
        with job.hub.db.read() as session:
            plugin = plugins.get_plugin(session, job.plugin.id)
            export = exports.order_export(session, plugin, order_id)
        if export is None:
            job.results.append(f"order #{order_id}: nothing to send")
            return None
        answer = None
        if job.row.attempts > 0:
            answer = connector.find_exported_order(
                export.origin_ref, since=job.row.created_at - CLOCK_MARGIN
            )
        if answer is None:
            try:
                answer = connector.export_order(export)
            except Rejected as exc:
                raise Rejected(f"order {export.number} could not be created there: {exc}") from None
        job.results.append(f"order {export.number}: created as {answer.number}")
        return answer

    def apply(self, session: Session, job: Job, fetched: OrderRecord | None) -> None:
        if fetched is None:
            return
        plugin = plugins.get_plugin(session, job.plugin.id)
        order = exports.link_order(session, plugin, int(job.row.key), fetched)
        if order.status is OrderStatus.CANCELLED:  # cancelled here while it was being sent
            triggers.enqueue_cancellation(session, order)


class CancelOrder(Single[bool]):
    """Cancel on the platform an order cancelled in Tradewind (see ``triggers``: which
    ones); ``fetch`` says whether it was sent."""

    def fetch(self, job: Job) -> bool:
        connector = job.capability(CancelsOrders)
        order_id = int(job.row.key)
        with job.hub.db.read() as session:
            order = session.get(Order, order_id)
        if (
            order is None
            or order.status is not OrderStatus.CANCELLED
            or order.plugin_id != job.plugin.id
            or order.external_id is None
        ):
            job.results.append(f"order #{order_id}: nothing to cancel there")
            return False
        number, external_id, reason = order.number, order.external_id, order.cancel_reason
        try:
            connector.cancel_order(external_id, reason)
        except Rejected as exc:
            raise Rejected(f"order {number} could not be cancelled there: {exc}") from None
        job.results.append(f"order {number}: cancelled there")
        return True

    def apply(self, session: Session, job: Job, fetched: bool) -> None:
        if not fetched:
            return
        order = orders.get_order(session, int(job.row.key))
        orders.add_activity(
            session, order, "cancelled_there", f"Cancelled on {job.plugin.name} as well."
        )
        # The platform released what it held for the order on its own side: its levels
        # are set again from Tradewind's (the push before the cancellation could not know).
        if job.plugin.stock_mode is not StockMode.OFF:
            products = sorted({line.product_id for line in order.lines if line.product_id})
            ledger.enqueue_many(
                session, job.plugin.id, WorkKind.PUSH_STOCK, [str(i) for i in products]
            )
