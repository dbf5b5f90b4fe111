"""Products in ("Sync products"): map every platform variant to a core product — by SKU
then barcode, in the order the plugin's rules say — and report the variants that map to
nothing, the SKUs used twice, and the mappings that no longer agree with the platform.
With Import Products on, a variant that maps to nothing becomes a core product.

It never changes stock and never overwrites an existing mapping.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewind.connectors.records import ProductRecord, VariantRecord
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.models import Product, sku_key
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.links import service as links
from tradewind.core.links.models import ProductLink
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin
from tradewind.errors import Conflict
from tradewind.sync.models import ProductSync
from tradewind.vocabulary import Toggle

REPORT_LIMIT = 5000  # entries kept per list; the counts stay exact


def apply_page(
    session: Session, plugin: Plugin, run: ProductSync, products: Sequence[ProductRecord]
) -> None:
    rules = plugins.import_rules(plugin)
    create_missing = Toggle.IMPORT_PRODUCTS in plugin.toggles
    variants = [(product, variant) for product in products for variant in product.variants]
    linked = {
        link.external_id: link
        for link in session.scalars(
            select(ProductLink).where(
                ProductLink.plugin_id == plugin.id,
                ProductLink.external_id.in_([v.external_id for _, v in variants]),
            )
        )
    }
    for product, variant in variants:
        run.variants += 1
        existing = linked.get(variant.external_id)
        if existing is not None:
            run.already_linked += 1
            core = session.get(Product, existing.product_id)
            if core is not None and variant.sku and sku_key(variant.sku) != core.sku_key:
                _note(
                    run,
                    "conflicts",
                    variant=variant.external_id,
                    sku=variant.sku,
                    mapped_to=core.sku,
                    reason=f"variant {variant.external_id} is mapped to {core.sku} but now "
                    f"carries SKU {variant.sku}; the mapping was kept",
                )
            continue
        match = catalog.match_product(
            session, sku=variant.sku, barcode=variant.barcode, codes=rules.match_by
        )
        if match is None and create_missing and variant.sku:
            match = catalog.create_product(session, _product_in(product, variant))
            run.created += 1
        if match is None:
            reason = (
                "no SKU or barcode"
                if not (variant.sku or variant.barcode)
                else ("no core product has this SKU or barcode")
            )
            _note(
                run,
                "unmatched",
                variant=variant.external_id,
                sku=variant.sku,
                barcode=variant.barcode,
                title=_title(product, variant),
                reason=reason,
            )
            continue
        try:
            with session.begin_nested():
                links.link_product(
                    session,
                    plugin.id,
                    match.id,
                    variant.external_id,
                    product_ref=product.external_id,
                    item_ref=variant.item_ref,
                    sku=variant.sku,
                )
        except Conflict:
            other = links.product_links(session, plugin.id, [match.id]).get(match.id)
            _note(
                run,
                "duplicates",
                variant=variant.external_id,
                sku=variant.sku or match.sku,
                other_variant=other.external_id if other else "",
                reason=f"SKU {match.sku} is on two platform variants; only the first is mapped",
            )
            continue
        run.linked += 1


def _note(run: ProductSync, kind: str, **entry: str) -> None:
    current = list(getattr(run, kind))
    if len(current) < REPORT_LIMIT:
        current.append(entry)
        setattr(run, kind, current)


def _title(product: ProductRecord, variant: VariantRecord) -> str:
    """The product's title, with the variant's when there is more than one variant."""
    if (
        len(product.variants) > 1
        and variant.title
        and variant.title.lower() not in ("default", "default title")
    ):
        return f"{product.title} — {variant.title}"
    return product.title


def _product_in(product: ProductRecord, variant: VariantRecord) -> ProductIn:
    return ProductIn(
        sku=variant.sku,
        title=_title(product, variant)[:255],
        barcode=variant.barcode or None,
        price=variant.price if variant.price is not None and variant.price >= 0 else 0,
        weight_grams=variant.weight_grams,
        attributes=dict(variant.attributes),
    )
