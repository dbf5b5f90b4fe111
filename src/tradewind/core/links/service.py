"""Links between the core and a plugin's platform (seeds 000, 002): location mappings
(platform location ↔ warehouse + shipping process, one default per plugin), listings
(how a product appears on a channel), product links (core product ↔ platform variant)
and customer links. A mapping a person made is never overwritten by a sync."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.core.catalog.models import Product
from tradewind.core.channels.service import get_channel
from tradewind.core.inventory.models import Warehouse
from tradewind.core.links.models import CustomerLink, Listing, LocationMapping, ProductLink
from tradewind.core.plugins.models import Plugin
from tradewind.core.plugins.service import get_plugin
from tradewind.errors import Conflict, Invalid, NotFound
from tradewind.events import ListingUpdated, PluginChanged, ProductLinked, record

# ---------------------------------------------------------------- location mappings


def sync_locations(
    session: Session, plugin_id: int, locations: list[tuple[str, str]]
) -> list[LocationMapping]:
    """Record the platform's locations (id, name). New ones start unmapped; existing
    mappings are kept; locations gone from the platform are marked inactive."""
    plugin = get_plugin(session, plugin_id)
    existing = {
        row.external_id: row
        for row in session.scalars(
            select(LocationMapping).where(LocationMapping.plugin_id == plugin.id)
        )
    }
    seen = set()
    for external_id, name in locations:
        seen.add(external_id)
        row = existing.get(external_id)
        if row is None:
            row = LocationMapping(plugin_id=plugin.id, external_id=external_id, name=name)
            session.add(row)
            existing[external_id] = row
        else:
            row.name, row.active = name, True
    for external_id, row in existing.items():
        if external_id not in seen:
            row.active = False
    session.flush()
    return location_mappings(session, plugin.id)


def map_location(
    session: Session,
    plugin_id: int,
    external_id: str,
    *,
    warehouse_id: int | None,
    shipping_process: str = "",
    is_default: bool | None = None,
) -> LocationMapping:
    row = session.scalar(
        select(LocationMapping).where(
            LocationMapping.plugin_id == plugin_id, LocationMapping.external_id == external_id
        )
    )
    if row is None:
        raise NotFound(f"plugin {plugin_id} has no location {external_id!r}")
    if warehouse_id is not None and session.get(Warehouse, warehouse_id) is None:
        raise NotFound(f"no warehouse with id {warehouse_id}")
    row.warehouse_id = warehouse_id
    row.shipping_process = shipping_process.strip()
    if is_default:
        for other in session.scalars(
            select(LocationMapping).where(
                LocationMapping.plugin_id == plugin_id, LocationMapping.is_default.is_(True)
            )
        ):
            other.is_default = False
        session.flush()
        row.is_default = True
    elif is_default is False:
        row.is_default = False
    session.flush()
    record(session, PluginChanged(plugin_id=plugin_id))
    return row


def location_mappings(session: Session, plugin_id: int) -> list[LocationMapping]:
    return list(
        session.scalars(
            select(LocationMapping)
            .where(LocationMapping.plugin_id == plugin_id)
            .order_by(LocationMapping.id)
        )
    )


def warehouse_for_location(session: Session, plugin_id: int, external_id: str | None) -> int | None:
    """The warehouse an order from ``external_id`` ships from: its mapping, else the
    plugin's default location's warehouse."""
    return warehouse_from(location_mappings(session, plugin_id), external_id)


def warehouse_from(rows: Sequence[LocationMapping], external_id: str | None) -> int | None:
    """``warehouse_for_location`` from the plugin's mappings, read already."""
    for row in rows:
        if external_id and row.external_id == external_id and row.warehouse_id:
            return row.warehouse_id
    for row in rows:
        if row.is_default and row.warehouse_id:
            return row.warehouse_id
    return None


# ------------------------------------------------------------------------- listings


def upsert_listing(
    session: Session,
    channel_id: int,
    product_id: int,
    *,
    title: str | None = None,
    description: str | None = None,
    images: list[str] | None = None,
    price: Decimal | None = None,
    published: bool | None = None,
) -> Listing:
    get_channel(session, channel_id)
    if session.get(Product, product_id) is None:
        raise NotFound(f"no product with id {product_id}")
    if price is not None and price < 0:
        raise Invalid("a listing price cannot be negative", fields={"price": "≥ 0"})
    listing = session.scalar(
        select(Listing).where(Listing.channel_id == channel_id, Listing.product_id == product_id)
    )
    created = listing is None
    if listing is None:
        listing = Listing(channel_id=channel_id, product_id=product_id)
        session.add(listing)
    wanted = {
        "title": title.strip() if title is not None else None,
        "description": description,
        "images": list(images) if images is not None else None,
        "price": price,
        "published": published,
    }
    changed = created
    for field_name, value in wanted.items():
        if value is not None and getattr(listing, field_name) != value:
            setattr(listing, field_name, value)
            changed = True
    session.flush()
    if changed:  # plugins exporting listings send it; an unchanged save sends nothing
        record(session, ListingUpdated(channel_id=channel_id, product_id=product_id))
    return listing


def list_listings(
    session: Session, *, channel_id: int | None = None, after_id: int = 0, limit: int = 100
) -> list[Listing]:
    query = select(Listing).where(Listing.id > after_id).order_by(Listing.id).limit(limit)
    if channel_id is not None:
        query = query.where(Listing.channel_id == channel_id)
    return list(session.scalars(query))


# -------------------------------------------------------------------- product links


def link_product(
    session: Session,
    plugin_id: int,
    product_id: int,
    external_id: str,
    *,
    product_ref: str = "",
    item_ref: str | None = None,
    sku: str = "",
    replace: bool = False,
) -> ProductLink:
    """Map a core product to a platform variant. An existing mapping of either side is
    refused unless ``replace`` (a person's decision, never a sync's)."""
    if session.get(Product, product_id) is None:
        raise NotFound(f"no product with id {product_id}")
    by_variant = session.scalar(
        select(ProductLink).where(
            ProductLink.plugin_id == plugin_id, ProductLink.external_id == external_id
        )
    )
    by_product = session.scalar(
        select(ProductLink).where(
            ProductLink.plugin_id == plugin_id, ProductLink.product_id == product_id
        )
    )
    for existing in {by_variant, by_product} - {None}:
        assert existing is not None
        if existing.product_id == product_id and existing.external_id == external_id:
            existing.item_ref = item_ref or existing.item_ref
            existing.product_ref = product_ref or existing.product_ref
            existing.sku = sku or existing.sku
            session.flush()
            return existing
        if not replace:
            raise Conflict(
                f"product #{existing.product_id} is already mapped to variant "
                f"{existing.external_id} on this plugin; change the mapping explicitly"
            )
        session.delete(existing)
    session.flush()
    link = ProductLink(
        plugin_id=plugin_id,
        product_id=product_id,
        external_id=external_id,
        product_ref=product_ref,
        item_ref=item_ref,
        sku=sku,
    )
    session.add(link)
    session.flush()
    record(session, ProductLinked(plugin_id=plugin_id, product_id=product_id))
    return link


def unlink_product(session: Session, plugin_id: int, product_id: int) -> None:
    link = session.scalar(
        select(ProductLink).where(
            ProductLink.plugin_id == plugin_id, ProductLink.product_id == product_id
        )
    )
    if link is None:
        raise NotFound(f"product #{product_id} is not mapped on plugin #{plugin_id}")
    session.delete(link)
    session.flush()


def product_links(
    session: Session, plugin_id: int, product_ids: list[int] | None = None
) -> dict[int, ProductLink]:
    query = select(ProductLink).where(ProductLink.plugin_id == plugin_id)
    if product_ids is not None:
        query = query.where(ProductLink.product_id.in_(product_ids))
    return {link.product_id: link for link in session.scalars(query)}


def product_for_variant(session: Session, plugin_id: int, external_id: str) -> int | None:
    return session.scalar(
        select(ProductLink.product_id).where(
            ProductLink.plugin_id == plugin_id, ProductLink.external_id == external_id
        )
    )


def listing_for_plugin(session: Session, plugin: Plugin, product_id: int) -> Listing | None:
    """The listing a plugin shows for ``product_id``: the one of its channel, or of its
    first channel (by id) that has one when it serves several."""
    if not plugin.channel_ids:
        return None
    return session.scalar(
        select(Listing)
        .where(Listing.product_id == product_id, Listing.channel_id.in_(plugin.channel_ids))
        .order_by(Listing.channel_id)
        .limit(1)
    )


# ------------------------------------------------------------------- customer links


def customer_link(
    session: Session, plugin_id: int, *, customer_id: int | None = None, external_id: str = ""
) -> CustomerLink | None:
    query = select(CustomerLink).where(CustomerLink.plugin_id == plugin_id)
    if customer_id is not None:
        query = query.where(CustomerLink.customer_id == customer_id)
    if external_id:
        query = query.where(CustomerLink.external_id == external_id)
    return session.scalar(query)


def link_customer(
    session: Session,
    plugin_id: int,
    customer_id: int,
    external_id: str,
    *,
    synced_hash: str | None = None,
) -> CustomerLink:
    """Record that ``customer_id`` is the platform's customer ``external_id``. Customers
    are matched by email, so the email decides: a link that said otherwise on either side
    (an email changed on one side, a customer deleted and made again) is replaced."""
    stale = session.scalars(
        select(CustomerLink).where(
            CustomerLink.plugin_id == plugin_id,
            (CustomerLink.customer_id == customer_id) | (CustomerLink.external_id == external_id),
        )
    ).all()
    for link in stale:
        if link.customer_id == customer_id and link.external_id == external_id:
            link.synced_hash = synced_hash
            session.flush()
            return link
        session.delete(link)
    session.flush()
    link = CustomerLink(
        plugin_id=plugin_id,
        customer_id=customer_id,
        external_id=external_id,
        synced_hash=synced_hash,
    )
    session.add(link)
    session.flush()
    return link
