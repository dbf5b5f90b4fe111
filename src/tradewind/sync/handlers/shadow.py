"""The handlers of a plugin in shadow (sync/shadow.py): its stock is compared, not
pushed, and every other kind of work that would write to the platform — or create
customers or shipments here — is withheld: its rows complete with that said, and
nothing is called."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from sqlalchemy.orm import Session

from tradewind.connectors.base import ReadsStock
from tradewind.connectors.records import StockPush
from tradewind.core.plugins import service as plugins
from tradewind.sync import shadow, stock
from tradewind.sync.batch import Job
from tradewind.sync.handlers.base import Handler, Single
from tradewind.sync.models import WorkKind

Compared = list[tuple[StockPush, "int | None"]]


class CompareStock(Single[Compared]):
    """What a stock push would send, set against what the platform holds now."""

    def fetch(self, job: Job) -> Compared:
        with job.hub.db.read() as session:
            plugin = plugins.get_plugin(session, job.plugin.id)
            pushes = stock.build_pushes(
                session,
                plugin,
                [int(row.key) for row in job.rows],
                needs_link=job.hub.info_for(plugin).stock_needs_link,
                shadow=True,
            )
        held: dict[tuple[int, str], int] = {}
        if pushes and isinstance(job.connector, ReadsStock):
            held = {
                (reading.product_id, reading.location_ref): reading.available
                for reading in job.connector.read_stock(pushes)
            }
        return [(push, held.get((push.product_id, push.location_ref))) for push in pushes]

    def apply(self, session: Session, job: Job, fetched: Compared) -> None:
        shadow.record_stock(session, job.plugin.id, fetched)
        job.results.append(f"{len(fetched)} level(s) compared, none pushed (shadow)")


class Withheld(Handler):
    """Work a plugin in shadow does not do: completed, with nothing called."""

    def run(self, job: Job) -> None:
        def say(_: Session) -> None:
            job.results.append(f"{job.kind.value}: withheld, the plugin is in shadow")

        job.finish(say)


_WITHHELD = Withheld()

# Every kind of work that writes to the platform (or makes customers or shipments in
# Tradewind from it), and what a plugin in shadow runs instead. Reads — orders,
# products, locations, listings, webhook subscriptions (needed to hear from the
# platform) — run as they do live.
SHADOW: Mapping[WorkKind, Handler] = MappingProxyType(
    {
        WorkKind.PUSH_STOCK: CompareStock(),
        WorkKind.PUSH_SHIPMENT: _WITHHELD,
        WorkKind.EXPORT_ORDER: _WITHHELD,
        WorkKind.CANCEL_ORDER: _WITHHELD,
        WorkKind.EXPORT_CUSTOMER: _WITHHELD,
        WorkKind.EXPORT_PRODUCT: _WITHHELD,
        WorkKind.IMPORT_CUSTOMERS: _WITHHELD,
        WorkKind.RUN_HOOK: _WITHHELD,
        WorkKind.COMMIT_TAX: _WITHHELD,
        WorkKind.REFUND_TAX: _WITHHELD,
        WorkKind.PUSH_FULFILMENT: _WITHHELD,
        WorkKind.IMPORT_SHIPMENTS: _WITHHELD,
        WorkKind.GAP_REPORT: _WITHHELD,  # nothing is imported to hold the platform against
    }
)
