"""The catalog: Sync products (mapping the platform's variants to products), Import
Listings, Export Products, and the platform's locations and webhook subscriptions."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from sqlalchemy.orm import Session

from tradewind.connectors.base import (
    ExportsProducts,
    ImportsListings,
    ImportsProducts,
    ListsLocations,
    ManagesWebhooks,
)
from tradewind.connectors.ratelimit import Priority
from tradewind.connectors.records import LocationRecord, Page, ProductRecord
from tradewind.core.links import service as links
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync import exports, ledger, products, stock
from tradewind.sync.batch import Job
from tradewind.sync.handlers.base import Paged, PerRow, Single
from tradewind.sync.models import LISTINGS_KEY, ProductSync, SyncWork, WorkKind

log = structlog.get_logger(__name__)


class SyncProducts(Paged[ProductSync, "str | None", ProductRecord]):
    """One page of Sync products; the next page is queued, so live work runs between."""

    kind = WorkKind.SYNC_PRODUCTS
    run_model = ProductSync

    def query(self, run: ProductSync) -> str | None:
        return run.cursor

    def read_page(self, job: Job, run_id: int, query: str | None) -> Page[ProductRecord]:
        return job.capability(ImportsProducts).list_products(query, Priority.BACKGROUND)

    def apply_page(
        self, session: Session, job: Job, run: ProductSync, page: Page[ProductRecord]
    ) -> None:
        products.apply_page(session, plugins.get_plugin(session, job.plugin.id), run, page.records)

    def done(self, session: Session, job: Job, run: ProductSync) -> None:
        plugin = plugins.get_plugin(session, job.plugin.id)
        problems = len(run.unmatched) + len(run.duplicates) + len(run.conflicts)
        if problems:
            notifications.raise_notification(
                session,
                NotificationKind.MISSING_PRODUCT,
                plugin_id=plugin.id,
                subject="product mapping",
                message=(
                    f"Sync products mapped {run.linked + run.already_linked} of "
                    f"{run.variants} variant(s) of {plugin.name}: {len(run.unmatched)} match "
                    f"no product, {len(run.duplicates)} share a SKU, {len(run.conflicts)} "
                    "disagree with their mapping. See the plugin's product mapping for the "
                    "list."
                ),
            )
        else:
            notifications.resolve(
                session,
                NotificationKind.MISSING_PRODUCT,
                plugin_id=plugin.id,
                subject="product mapping",
            )


class SyncListings(Single[Page[ProductRecord]]):
    """Import Listings: how the platform shows each linked product (title, description,
    images, price, published) becomes its listing on the plugin's channels, page by
    page. Variants that are not linked to a product are left for Sync products to map."""

    def fetch(self, job: Job) -> Page[ProductRecord]:
        cursor: str | None = dict(job.row.payload).get("cursor")
        return job.capability(ImportsListings).list_listings(cursor, Priority.BACKGROUND)

    def apply(self, session: Session, job: Job, fetched: Page[ProductRecord]) -> None:
        plugin = plugins.get_plugin(session, job.plugin.id)
        updated = apply_listings(session, plugin, fetched.records)
        job.results.append(f"{updated} listing(s) read")
        if fetched.next_cursor is not None:
            ledger.enqueue(
                session,
                plugin.id,
                WorkKind.SYNC_LISTINGS,
                LISTINGS_KEY,
                payload={"cursor": fetched.next_cursor},
            )


def apply_listings(session: Session, plugin: Plugin, records: Sequence[ProductRecord]) -> int:
    """Write one page of the platform's products as listings; returns how many linked
    variants were read."""
    read = 0
    for product in records:
        for variant in product.variants:
            product_id = links.product_for_variant(session, plugin.id, variant.external_id)
            if product_id is None:
                continue
            for channel_id in plugin.channel_ids:
                links.upsert_listing(
                    session,
                    channel_id,
                    product_id,
                    title=exports.listing_title(product, variant)[:255],
                    description=product.description,
                    images=list(product.images),
                    price=variant.price,
                    published=product.published,
                )
            exports.remember_platform_view(session, plugin, product_id, product, variant)
            read += 1
    return read


Sent = tuple[exports.ProductPlan, ProductRecord] | None


class ExportProduct(PerRow[ExportsProducts, Sent]):
    """Create a product on the platform (or bring its linked copy up to date) with the
    channel's listing over it, and link it; a new link pushes the product's stock."""

    def prepare(self, job: Job) -> ExportsProducts:
        return job.capability(ExportsProducts)

    def fetch_row(self, job: Job, context: ExportsProducts, row: SyncWork) -> Sent:
        with job.hub.db.read() as session:
            plugin = plugins.get_plugin(session, job.plugin.id)
            plan = exports.product_export(session, plugin, int(row.key))
        if plan is None:
            return None
        return plan, context.export_product(plan.export)

    def apply(self, session: Session, job: Job, fetched: list[tuple[SyncWork, Sent]]) -> None:
        plugin = plugins.get_plugin(session, job.plugin.id)
        for _, sent in fetched:
            if sent is not None:
                plan, answer = sent
                exports.link_exported_product(session, plugin, plan, answer)
                job.results.append(f"{plan.export.sku}: product {answer.external_id}")


class RefreshLocations(Single[Sequence[LocationRecord]]):
    """The platform's active locations, kept for the plugin's location mapping."""

    def fetch(self, job: Job) -> Sequence[LocationRecord]:
        return job.capability(ListsLocations).list_locations()

    def apply(self, session: Session, job: Job, fetched: Sequence[LocationRecord]) -> None:
        links.sync_locations(
            session,
            job.plugin.id,
            [(location.external_id, location.name) for location in fetched if location.active],
        )
        stock.check_locations(session, plugins.get_plugin(session, job.plugin.id))


class EnsureWebhooks(Single[None]):
    """Register the plugin's webhook subscriptions, re-creating any the platform removed
    (Shopify deletes one after repeated failed deliveries)."""

    def fetch(self, job: Job) -> None:
        connector = job.capability(ManagesWebhooks)
        with job.hub.db.read() as session:
            toggles = plugins.get_plugin(session, job.plugin.id).toggles
        topics = job.hub.info_for(job.plugin).topics_for(toggles)
        repaired = connector.ensure_webhooks(topics)
        if repaired:
            log.info("webhooks registered", plugin=job.plugin.id, topics=repaired)
