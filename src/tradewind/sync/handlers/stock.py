"""Stock out: the claimed products' available stock, pushed in batches."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy.orm import Session

from tradewind.connectors.base import PushesStock
from tradewind.connectors.http import Call
from tradewind.connectors.records import StockPush, StockPushResult
from tradewind.core.plugins import service as plugins
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync import stock
from tradewind.sync.batch import Job
from tradewind.sync.handlers.base import Single
from tradewind.sync.handlers.orders import close_gap
from tradewind.vocabulary import StockMode

UNMAPPED_STOCK = "stock of unmapped products"


class PushStock(Single[None]):
    """Push the claimed products' available stock in batches. Each batch's result is
    remembered as soon as it is back, so a batch that fails later never resends an
    earlier one (which in delta mode would apply a change twice): the pushes are written
    as they go, and the batch completes with nothing left to write."""

    def fetch(self, job: Job) -> None:
        connector = job.capability(PushesStock)
        if job.plugin.stock_mode is StockMode.ABSOLUTE:
            close_gap(job)
        pushes = self._plan(job)
        size = max(1, connector.stock_batch_size)
        refused = 0

        def remember(
            batch: list[StockPush], results: list[StockPushResult], calls: list[Call]
        ) -> int:
            def write(session: Session) -> int:
                failed = stock.record_results(session, job.plugin.id, batch, results)
                for result in failed:
                    notifications.raise_notification(
                        session,
                        NotificationKind.RECORD_REJECTED,
                        plugin_id=job.plugin.id,
                        subject=f"stock of product #{result.product_id} at {result.location_ref}",
                        message=f"The platform refused the stock level: {result.error}",
                    )
                return len(failed)

            # Retried on a deadlock: what went out must be remembered (a delta sent twice
            # would apply twice).
            return job.record(write, calls)

        # A batch's results are written by one recorder thread while the next batch is on
        # the wire, in order; leaving the block waits for the last write even when a later
        # batch failed, so what went out is always remembered.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="stock-recorder") as recorder:
            writing: Future[int] | None = None
            for start in range(0, len(pushes), size):
                batch = pushes[start : start + size]
                results = list(connector.push_stock(batch, job.plugin.stock_mode))
                if writing is not None:
                    refused += writing.result()
                writing = recorder.submit(remember, batch, results, job.calls.take())
            if writing is not None:
                refused += writing.result()
        job.results.append(f"{len(pushes)} level(s) pushed, {refused} refused")

    @staticmethod
    def _plan(job: Job) -> list[StockPush]:
        """The levels to send (delta baselines are written here), and what keeps others
        from being sent, said in notifications."""
        product_ids = [int(row.key) for row in job.rows]
        with job.hub.db.unit_of_work() as session:
            plugin = plugins.get_plugin(session, job.plugin.id)
            stock.check_locations(session, plugin)
            unlinked: list[int] = []
            needs_link = job.hub.info_for(plugin).stock_needs_link
            pushes = stock.build_pushes(
                session, plugin, product_ids, needs_link=needs_link, unlinked=unlinked
            )
            if unlinked:
                notifications.raise_notification(
                    session,
                    NotificationKind.MISSING_PRODUCT,
                    plugin_id=plugin.id,
                    subject=UNMAPPED_STOCK,
                    message=(
                        f"{len(unlinked)} product(s) changed stock but are not mapped to an "
                        f"item of {plugin.name}, so their stock cannot be sent. Run Sync "
                        "products, or map them on the plugin's product mapping."
                    ),
                )
            elif needs_link and not stock.stocked_without_link(session, plugin.id):
                # Every stocked product is mapped now: the notice has nothing left to say.
                notifications.resolve(
                    session,
                    NotificationKind.MISSING_PRODUCT,
                    plugin_id=plugin.id,
                    subject=UNMAPPED_STOCK,
                )
        return pushes
