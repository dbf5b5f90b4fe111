"""The handlers of a plugin in shadow (sync/shadow.py): its stock is compared with what
the platform holds, not pushed. Every other kind of work that writes is not run at all
while it is in shadow: the drainer leaves it waiting (``models.SHADOW_WAITS``)."""

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


# A plugin in shadow runs these instead (the drainer asks ``handlers.handler_for``); the
# kinds that write otherwise wait until it goes live (``models.SHADOW_WAITS``).
SHADOW: Mapping[WorkKind, Handler] = MappingProxyType({WorkKind.PUSH_STOCK: CompareStock()})
