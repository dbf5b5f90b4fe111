"""Tradewind → platform for what is made or changed here: customers (Export Customers),
products with their channel listing (Export Products / Listings) and orders made in
Tradewind (Export Orders).

This module is the database side only: it turns core rows into the records a connector
sends, decides when nothing needs sending, and links what the platform answers back to
the core, so that an exported order is recognised when it comes back and never imported
a second time, and a customer or product is never created twice on the platform. The
handlers in ``sync/handlers/`` call the platform between these functions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.connectors.records import (
    AddressRecord,
    CustomerRecord,
    OrderExport,
    OrderExportLine,
    OrderRecord,
    ProductExport,
    ProductRecord,
    VariantRecord,
)
from tradewind.core.catalog.models import Product, sku_key
from tradewind.core.customers.models import Customer
from tradewind.core.links import service as links
from tradewind.core.links.models import ProductLink
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order, OrderLine, OrderStatus
from tradewind.core.plugins.models import Plugin
from tradewind.db import utcnow
from tradewind.errors import Conflict
from tradewind.events import OrderUpdated, record
from tradewind.vocabulary import Toggle

# What an order Tradewind created on a platform carries, so that it is known again.
ORIGIN_PREFIX = "tradewind:order:"


def digest(payload: Any) -> str:
    """A stable digest of a JSON-able value (what was sent, or what a platform holds)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# ------------------------------------------------------------------------------ orders


def origin_ref(order_id: int) -> str:
    return f"{ORIGIN_PREFIX}{order_id}"


def order_of_origin(ref: str) -> int | None:
    """The order id an origin reference names (``None`` when it is not one of ours)."""
    if not ref.startswith(ORIGIN_PREFIX):
        return None
    tail = ref.removeprefix(ORIGIN_PREFIX)
    return int(tail) if tail.isdigit() else None


def exported_lines(order: Order) -> list[OrderLine]:
    """The lines an export sends, in the order it sends them (a line cut to nothing has
    nothing to create)."""
    return [line for line in sorted(order.lines, key=lambda line: line.id) if line.quantity > 0]


def order_export(session: Session, plugin: Plugin, order_id: int) -> OrderExport | None:
    """The order as the platform should create it, or ``None`` when there is nothing to
    do (gone, already on a platform, cancelled before it went out)."""
    order = session.get(Order, order_id)
    if order is None or order.external_id is not None or order.status is OrderStatus.CANCELLED:
        return None
    lines = exported_lines(order)
    if not lines:
        return None
    variants = links.product_links(
        session, plugin.id, [line.product_id for line in lines if line.product_id]
    )
    buyer: CustomerRecord | None = None
    customer = session.get(Customer, order.customer_id) if order.customer_id else None
    if customer is not None and customer.generic_key is None:
        known = links.customer_link(session, plugin.id, customer_id=customer.id)
        buyer = customer_record(customer, known.external_id if known else None)
    return OrderExport(
        origin_ref=origin_ref(order.id),
        number=order.number,
        currency=order.currency,
        placed_at=order.placed_at,
        financial_status=order.financial_status,
        email=order.email or (customer.email or "" if customer is not None else ""),
        customer=buyer,
        lines=tuple(
            OrderExportLine(
                title=line.title or line.sku or "Item",
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
                variant_ref=variants[line.product_id].external_id
                if line.product_id in variants
                else None,
            )
            for line in lines
        ),
        shipping_total=order.shipping_total,
        tax_total=order.tax_total,
        billing_address=_address(order.billing_address),
        shipping_address=_address(order.shipping_address),
        note=order.note,
        tags=tuple(order.tags or ()),
    )


def link_order(session: Session, plugin: Plugin, order_id: int, answer: OrderRecord) -> Order:
    """Make the order made here the platform's order ``answer``: the same (plugin,
    external id) an import would look up, so the platform's copy coming back (webhook,
    poll, backfill) updates this order instead of becoming a new one."""
    order = orders.get_order(session, order_id)
    if order.external_id is not None:
        return order  # linked already (its webhook came back first and was recognised)
    clash = orders.find_imported(session, plugin.id, answer.external_id)
    if clash is not None and clash.id != order.id:
        raise Conflict(
            f"{plugin.name}'s order {answer.number} is already order {clash.number} here; "
            f"order {order.number} was not linked to it"
        )
    order.plugin_id = plugin.id
    order.external_id = answer.external_id
    order.exported_at = utcnow()
    mine = exported_lines(order)
    theirs = list(answer.lines)
    if len(mine) == len(theirs):
        for line, remote in zip(mine, theirs, strict=True):
            line.external_id = remote.external_id
    else:  # the platform merged or split lines: pair them by SKU
        free = list(theirs)
        for line in mine:
            pair = next((r for r in free if sku_key(r.sku) == line.sku_key), None)
            if pair is not None:
                line.external_id = pair.external_id
                free.remove(pair)
    buyer = answer.customer
    if buyer is not None and buyer.external_id and order.customer_id:
        customer = session.get(Customer, order.customer_id)
        if (
            customer is not None
            and customer.email_key
            and customer.email_key == (buyer.email.strip().casefold())
        ):
            links.link_customer(session, plugin.id, customer.id, buyer.external_id)
    orders.add_activity(
        session, order, "exported", f"Created on {plugin.name} as order {answer.number}."
    )
    session.flush()
    record(session, OrderUpdated(order_id=order.id))
    return order


def _address(value: Mapping[str, Any] | None) -> AddressRecord | None:
    if not value:
        return None
    known = AddressRecord.model_fields
    return AddressRecord(**{key: str(item or "") for key, item in value.items() if key in known})


# --------------------------------------------------------------------------- customers


def customer_record(customer: Customer, external_id: str | None = None) -> CustomerRecord:
    return CustomerRecord(
        external_id=external_id,
        email=customer.email or "",
        first_name=customer.first_name,
        last_name=customer.last_name,
        company=customer.company,
        phone=customer.phone,
        addresses=tuple(
            AddressRecord(
                first_name=address.first_name,
                last_name=address.last_name,
                company=address.company,
                address1=address.address1,
                address2=address.address2,
                city=address.city,
                province=address.province,
                postal_code=address.postal_code,
                country_code=address.country_code,
                phone=address.phone,
            )
            for address in sorted(customer.addresses, key=lambda a: (not a.is_default, a.id))
        ),
    )


def customer_digest(customer: CustomerRecord) -> str:
    """The profile both sides can hold (a platform re-hosts addresses its own way)."""
    return digest(
        {
            "email": customer.email.strip().casefold(),
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "phone": customer.phone,
        }
    )


def customer_export(session: Session, plugin_id: int, customer_id: int) -> CustomerRecord | None:
    """The customer to send, or ``None`` when there is nothing to send: gone, a generic
    customer, no email (the platform's customer could not be found again by it), or the
    platform already holds this profile."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.generic_key is not None or not customer.email_key:
        return None
    link = links.customer_link(session, plugin_id, customer_id=customer_id)
    wanted = customer_record(customer, link.external_id if link else None)
    if link is not None and link.synced_hash == customer_digest(wanted):
        return None
    return wanted


def link_exported_customer(
    session: Session, plugin_id: int, customer_id: int, sent: CustomerRecord, answer: CustomerRecord
) -> None:
    if answer.external_id and session.get(Customer, customer_id) is not None:
        links.link_customer(
            session, plugin_id, customer_id, answer.external_id, synced_hash=customer_digest(sent)
        )


# ---------------------------------------------------------------------------- products


@dataclass(frozen=True)
class ProductPlan:
    """What to send for one product and the digests to keep once it is sent."""

    export: ProductExport
    digest: str
    images_digest: str | None


def _intended(session: Session, plugin: Plugin, product: Product) -> dict[str, Any]:
    """The product as this plugin's platform should show it: the core product, with the
    plugin's channel listing over it when Export Listings is on. ``None`` (and a blank
    barcode) mean "leave the platform's value as it is": a field Tradewind does not fill
    never erases what the platform has."""
    listing = (
        links.listing_for_plugin(session, plugin, product.id)
        if Toggle.EXPORT_LISTINGS in plugin.toggles
        else None
    )
    published: bool | None = None if product.active else False
    price: Decimal = product.price
    title = product.title
    description: str | None = None
    images: tuple[str, ...] | None = None
    if listing is not None:  # a blank listing field leaves the platform's value as it is
        title = listing.title or title
        description = listing.description or None
        images = tuple(listing.images or ()) or None
        price = listing.price if listing.price is not None else price
        published = product.active and listing.published
    return {
        "sku": product.sku,
        "barcode": product.barcode or "",
        "title": title,
        "price": price,
        "weight_grams": product.weight_grams,
        "description": description,
        "images": images,
        "published": published,
    }


def _fields_digest(fields: Mapping[str, Any]) -> str:
    return digest(
        {
            **fields,
            "price": f"{Decimal(fields['price']):.2f}",
            "weight_grams": str(fields["weight_grams"]) if fields["weight_grams"] else None,
            "images": list(fields["images"]) if fields["images"] is not None else None,
        }
    )


def product_export(session: Session, plugin: Plugin, product_id: int) -> ProductPlan | None:
    """What to send for ``product_id``, or ``None`` when nothing needs sending: gone, an
    inactive product the platform never had, or unchanged since the platform last got
    (or was read to hold) it. Images already sent are left out: a platform keeps its own
    copies, and sending them again would duplicate them."""
    product = session.get(Product, product_id)
    if product is None:
        return None
    link = links.product_links(session, plugin.id, [product_id]).get(product_id)
    if link is None and not product.active:
        return None
    fields = _intended(session, plugin, product)
    full = _fields_digest(fields)
    if link is not None and link.exported_hash == full:
        return None
    images_digest = digest(list(fields["images"])) if fields["images"] is not None else None
    if link is not None and images_digest is not None and link.images_hash == images_digest:
        fields = {**fields, "images": None}
    locations = tuple(
        mapping.external_id
        for mapping in links.location_mappings(session, plugin.id)
        if mapping.active and mapping.warehouse_id is not None
    )
    export = ProductExport(
        product_id=product.id,
        product_ref=link.product_ref or None if link else None,
        variant_ref=link.external_id if link else None,
        locations=locations,
        **fields,
    )
    return ProductPlan(export=export, digest=full, images_digest=images_digest)


def link_exported_product(
    session: Session, plugin: Plugin, plan: ProductPlan, answer: ProductRecord
) -> ProductLink | None:
    """Link a product the platform now has (a new link pushes its stock), and remember
    what it was sent."""
    product_id = plan.export.product_id
    if session.get(Product, product_id) is None or not answer.variants:
        return None
    variant = answer.variants[0]
    if plan.export.variant_ref not in (None, variant.external_id):
        # The linked variant was gone from the platform and the product was made (or
        # found) again: the old link points at nothing, the new one takes its place.
        links.unlink_product(session, plugin.id, product_id)
    link = links.link_product(
        session,
        plugin.id,
        product_id,
        variant.external_id,
        product_ref=answer.external_id,
        item_ref=variant.item_ref,
        sku=variant.sku,
    )
    link.exported_hash = plan.digest
    if plan.images_digest is not None:
        link.images_hash = plan.images_digest
    session.flush()
    return link


def remember_platform_view(
    session: Session,
    plugin: Plugin,
    product_id: int,
    product: ProductRecord,
    variant: VariantRecord,
) -> None:
    """After listings were read from the platform: when what Tradewind would now send
    equals what the platform showed, remember it as sent, so that reading a listing never
    writes it straight back."""
    link = links.product_links(session, plugin.id, [product_id]).get(product_id)
    core = session.get(Product, product_id)
    if link is None or core is None:
        return
    fields = _intended(session, plugin, core)
    platform = {
        **fields,
        "sku": variant.sku,
        "barcode": variant.barcode if fields["barcode"] else "",  # blank: left as it is
        "title": listing_title(product, variant),
        "price": variant.price if variant.price is not None else fields["price"],
        "published": (
            product.published if fields["published"] is not None else fields["published"]
        ),
    }
    if fields["description"] is not None:
        platform["description"] = product.description
    if fields["images"] is not None:
        platform["images"] = tuple(product.images)
    if _fields_digest(platform) == _fields_digest(fields):
        link.exported_hash = _fields_digest(fields)
        if fields["images"] is not None:
            link.images_hash = digest(list(fields["images"]))
        session.flush()


def listing_title(product: ProductRecord, variant: VariantRecord) -> str:
    """A variant's title on its channel: the product's, with the variant's own when the
    product has several."""
    if (
        len(product.variants) > 1
        and variant.title
        and variant.title.lower() not in ("default", "default title")
    ):
        return f"{product.title} — {variant.title}"
    return product.title


def products_to_export(session: Session, limit: int = 100_000) -> Sequence[int]:
    """Every active product, for an "Export all products" of a plugin."""
    return list(
        session.scalars(
            select(Product.id).where(Product.active.is_(True)).order_by(Product.id).limit(limit)
        )
    )
