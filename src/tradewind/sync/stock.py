"""Stock out: what to push for a plugin's products, and what to remember once pushed.

Pushed is *available*: on-hand − reserved (open orders, imported ones included) − the
plugin's safety buffer, never below zero, for each platform location mapped to a
warehouse. An unmapped location never receives stock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import distinct, exists, func, select
from sqlalchemy.orm import Session

from tradewind.connectors.records import StockPush, StockPushResult
from tradewind.core.catalog.models import Product
from tradewind.core.inventory import service as inventory
from tradewind.core.inventory.models import StockLevel
from tradewind.core.links import service as links
from tradewind.core.links.models import ProductLink
from tradewind.core.plugins.models import Plugin
from tradewind.db import prepared, utcnow
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync.models import StockSyncState
from tradewind.vocabulary import StockMode


def mapped_locations(session: Session, plugin_id: int) -> dict[str, int]:
    """Platform location → warehouse, for the plugin's active mapped locations."""
    return {
        row.external_id: row.warehouse_id
        for row in links.location_mappings(session, plugin_id)
        if row.active and row.warehouse_id is not None
    }


LOCATIONS_SUBJECT = "stock locations"


def check_locations(session: Session, plugin: Plugin) -> bool:
    """Whether stock can go to ``plugin``: one of its locations is mapped to a warehouse.
    While none is (and its stock syncs), a notification asks for a channel location; it
    resolves itself once one is mapped (or stock sync is switched off)."""
    mapped = bool(mapped_locations(session, plugin.id))
    if mapped or plugin.stock_mode is StockMode.OFF:
        notifications.resolve(
            session, NotificationKind.CONFIGURATION, plugin_id=plugin.id, subject=LOCATIONS_SUBJECT
        )
        return mapped
    notifications.raise_notification(
        session,
        NotificationKind.CONFIGURATION,
        plugin_id=plugin.id,
        subject=LOCATIONS_SUBJECT,
        message=(
            f"Choose a channel location for {plugin.name}: stock does not sync until you do. "
            "None of its locations is mapped to a warehouse; map one on the plugin page."
        ),
    )
    return False


def stocked_without_link(session: Session, plugin_id: int) -> int:
    """How many products stocked in the plugin's mapped warehouses have no mapped item."""
    warehouses = set(mapped_locations(session, plugin_id).values())
    if not warehouses:
        return 0
    linked = exists().where(
        ProductLink.plugin_id == plugin_id, ProductLink.product_id == StockLevel.product_id
    )
    return int(
        session.scalar(
            select(func.count(distinct(StockLevel.product_id))).where(
                StockLevel.warehouse_id.in_(warehouses), ~linked
            )
        )
        or 0
    )


def build_pushes(
    session: Session,
    plugin: Plugin,
    product_ids: Iterable[int],
    *,
    needs_link: bool = False,
    unlinked: list[int] | None = None,
    shadow: bool = False,
) -> list[StockPush]:
    """The levels to send for ``product_ids``; in delta mode a product never pushed before
    gets its baseline recorded instead of a push (only changes since then are sent). When
    the platform needs a mapped item (``needs_link``) an unmapped product is left out and
    listed in ``unlinked``. ``shadow``: every level as an absolute one, and nothing
    remembered (nothing is sent)."""
    locations = mapped_locations(session, plugin.id)
    if not locations:
        return []
    wanted = sorted(set(product_ids))
    skus = dict(
        session.execute(select(Product.id, Product.sku).where(Product.id.in_(wanted))).all()
    )
    states = _states(session, plugin.id, wanted)
    # Plain rows, not entities: a 5,000-product push reads 15,000 of them.
    levels = {
        (level.product_id, level.warehouse_id): level
        for level in session.execute(
            select(
                StockLevel.product_id,
                StockLevel.warehouse_id,
                StockLevel.on_hand,
                StockLevel.reserved,
            ).where(
                StockLevel.product_id.in_(wanted),
                StockLevel.warehouse_id.in_(set(locations.values())),
            )
        )
    }
    links = {
        link.product_id: link
        for link in session.execute(
            select(ProductLink.product_id, ProductLink.item_ref).where(
                ProductLink.plugin_id == plugin.id, ProductLink.product_id.in_(wanted)
            )
        )
    }
    pushes: list[StockPush] = []
    baselines: list[Remembered] = []
    for product_id in wanted:
        sku = skus.get(product_id)
        if sku is None:
            continue  # deleted since the change was queued
        link = links.get(product_id)
        if needs_link and link is None:
            if unlinked is not None:
                unlinked.append(product_id)
            continue
        item_ref = link.item_ref if link else None
        for location_ref, warehouse_id in sorted(locations.items()):
            level = levels.get((product_id, warehouse_id))
            on_hand = level.on_hand if level else 0
            reserved = level.reserved if level else 0
            available = max(0, on_hand - reserved - plugin.stock_buffer)
            state = states.get((product_id, location_ref))
            pushed = state.pushed if state else None
            if plugin.stock_mode is StockMode.DELTA and not shadow:
                if pushed is None:
                    baselines.append(Remembered(product_id, location_ref, available, None))
                    continue
                delta = available - pushed
                if delta == 0:
                    continue
                base: int | None = pushed
                expected = None
            else:
                delta = None
                base = expected = state.platform_quantity if state else None
            pushes.append(
                StockPush(
                    product_id=product_id,
                    sku=sku,
                    location_ref=location_ref,
                    available=available,
                    item_ref=item_ref,
                    delta=delta,
                    expected=expected,
                    idempotency_key=_key(plugin.id, product_id, location_ref, base, available),
                )
            )
    if not shadow:
        remember(session, plugin.id, baselines)
    return pushes


def baseline_all(session: Session, plugin: Plugin) -> int:
    """Delta mode starts now: remember today's available as what the platform was last
    given, for every product in a mapped warehouse that has no baseline yet."""
    locations = mapped_locations(session, plugin.id)
    known = {
        (product_id, location_ref)
        for product_id, location_ref in session.execute(
            select(StockSyncState.product_id, StockSyncState.location_ref).where(
                StockSyncState.plugin_id == plugin.id
            )
        )
    }
    baselines = [
        Remembered(
            level.product_id,
            location_ref,
            max(0, level.on_hand - level.reserved - plugin.stock_buffer),
            None,
        )
        for level in inventory.levels(session, warehouse_ids=set(locations.values()))
        for location_ref, warehouse_id in locations.items()
        if warehouse_id == level.warehouse_id and (level.product_id, location_ref) not in known
    ]
    remember(session, plugin.id, baselines)
    return len(baselines)


def record_results(
    session: Session,
    plugin_id: int,
    pushes: Sequence[StockPush],
    results: Sequence[StockPushResult],
) -> list[StockPushResult]:
    """Remember what went out; return the failed results."""
    sent = {(push.product_id, push.location_ref): push for push in pushes}
    failed = []
    done = []
    for result in results:
        push = sent.get((result.product_id, result.location_ref))
        if push is None:
            continue
        if result.ok:
            held = result.platform_quantity
            done.append(
                Remembered(
                    push.product_id,
                    push.location_ref,
                    push.available,
                    held if held is not None else push.available,
                )
            )
        else:
            failed.append(result)
    remember(session, plugin_id, done)
    return failed


def is_echo(
    session: Session, plugin_id: int, product_id: int, location_ref: str, quantity: int
) -> bool:
    """Whether a platform's report of ``quantity`` is our own last push coming back."""
    state = session.scalar(
        select(StockSyncState).where(
            StockSyncState.plugin_id == plugin_id,
            StockSyncState.product_id == product_id,
            StockSyncState.location_ref == location_ref,
        )
    )
    return state is not None and state.platform_quantity == quantity


def _key(plugin_id: int, product_id: int, location: str, base: int | None, to: int) -> str:
    raw = f"tradewind:{plugin_id}:{product_id}:{location}:{base}:{to}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _states(session: Session, plugin_id: int, product_ids: list[int]) -> dict[tuple[int, str], Any]:
    rows = session.execute(
        select(
            StockSyncState.product_id,
            StockSyncState.location_ref,
            StockSyncState.pushed,
            StockSyncState.platform_quantity,
            StockSyncState.pushed_at,
        ).where(StockSyncState.plugin_id == plugin_id, StockSyncState.product_id.in_(product_ids))
    )
    return {(row.product_id, row.location_ref): row for row in rows}


class Remembered(NamedTuple):
    """What went out for one (product, location): ``pushed`` is the available we sent,
    ``platform_quantity`` what the platform then held (``None``: unknown, keep the last)."""

    product_id: int
    location_ref: str
    pushed: int
    platform_quantity: int | None


def remember(session: Session, plugin_id: int, rows: Sequence[Remembered]) -> None:
    """Upsert the stock sync state of many (product, location) pairs with one prepared
    statement: a 5,000-SKU push is remembered in one ``executemany``, not 10,000 queries."""
    if not rows:
        return
    now = utcnow()
    session.execute(
        prepared(session, "stock_sync_state", _upsert),
        [
            {
                "plugin_id": plugin_id,
                "product_id": row.product_id,
                "location_ref": row.location_ref,
                "pushed": row.pushed,
                "platform_quantity": row.platform_quantity,
                "pushed_at": now,
            }
            for row in rows
        ],
    )


def _upsert(insert: Any) -> Any:
    table = StockSyncState.__table__
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=["plugin_id", "product_id", "location_ref"],
        set_={
            "pushed": statement.excluded.pushed,
            "platform_quantity": func.coalesce(
                statement.excluded.platform_quantity, table.c.platform_quantity
            ),
            "pushed_at": statement.excluded.pushed_at,
        },
    )


class ChannelStock(NamedTuple):
    """One product at one mapped platform location: what Tradewind has available for it
    now, and what was last pushed there (with what the platform then held) and when."""

    product_id: int
    sku: str
    title: str
    location_ref: str
    location: str
    available: int
    pushed: int | None
    platform_quantity: int | None
    pushed_at: dt.datetime | None


def channel_stock(
    session: Session, plugin: Plugin, *, offset: int = 0, limit: int = 20
) -> tuple[list[ChannelStock], int]:
    """The channel's stock, a page of products at a time: every product mapped to the plugin
    or ever pushed to it, at each of its mapped locations; and how many products there are."""
    mapped = [
        row
        for row in links.location_mappings(session, plugin.id)
        if row.active and row.warehouse_id is not None
    ]
    if not mapped:
        return [], 0
    known = (
        select(ProductLink.product_id)
        .where(ProductLink.plugin_id == plugin.id)
        .union(select(StockSyncState.product_id).where(StockSyncState.plugin_id == plugin.id))
        .subquery()
    )
    total = int(session.scalar(select(func.count()).select_from(known)) or 0)
    products = session.execute(
        select(Product.id, Product.sku, Product.title)
        .where(Product.id.in_(select(known.c[0])))
        .order_by(Product.sku)
        .offset(offset)
        .limit(limit)
    ).all()
    ids = [row.id for row in products]
    levels = {
        (level.product_id, level.warehouse_id): level
        for level in session.execute(
            select(
                StockLevel.product_id,
                StockLevel.warehouse_id,
                StockLevel.on_hand,
                StockLevel.reserved,
            ).where(
                StockLevel.product_id.in_(ids),
                StockLevel.warehouse_id.in_({row.warehouse_id for row in mapped}),
            )
        )
    }
    states = _states(session, plugin.id, ids)
    rows = []
    for product in products:
        for location in sorted(mapped, key=lambda row: row.external_id):
            level = levels.get((product.id, location.warehouse_id))
            held = (level.on_hand - level.reserved) if level else 0
            state = states.get((product.id, location.external_id))
            rows.append(
                ChannelStock(
                    product_id=product.id,
                    sku=product.sku,
                    title=product.title,
                    location_ref=location.external_id,
                    location=location.name or location.external_id,
                    available=max(0, held - plugin.stock_buffer),
                    pushed=state.pushed if state else None,
                    platform_quantity=state.platform_quantity if state else None,
                    pushed_at=state.pushed_at if state else None,
                )
            )
    return rows, total
