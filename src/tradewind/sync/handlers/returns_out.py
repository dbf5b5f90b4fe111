"""Returns out: a return received in Tradewind, of an order imported from the platform,
made a refund there (the plugin's *Send returns to the store* rule)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tradewind.connectors.base import ExportsReturns
from tradewind.connectors.errors import Rejected
from tradewind.core.plugins import service as plugins
from tradewind.sync import return_exports
from tradewind.sync.batch import Job
from tradewind.sync.handlers.base import Single


class ExportReturn(Single["str | None"]):
    """Refund the return's lines on the platform and keep the refund's id on the return.
    The connector looks for the refund by the return's marker before it makes one, so a
    retry after a lost answer never refunds twice; ``fetch`` says the refund's id."""

    def fetch(self, job: Job) -> str | None:
        connector = job.capability(ExportsReturns)
        return_id = int(job.row.key)
        with job.hub.db.read() as session:
            plugin = plugins.get_plugin(session, job.plugin.id)
            refund = return_exports.return_export(session, plugin, return_id)
        if refund is None:
            job.results.append(f"return #{return_id}: nothing to send")
            return None
        try:
            refund_id = connector.export_return(refund)
        except Rejected as exc:
            raise Rejected(f"return #{return_id} could not be refunded there: {exc}") from None
        job.results.append(f"return #{return_id}: refund {refund_id}")
        return refund_id

    def apply(self, session: Session, job: Job, fetched: str | None) -> None:
        if fetched is not None:
            plugin = plugins.get_plugin(session, job.plugin.id)
            return_exports.link_refund(session, plugin, int(job.row.key), fetched)
