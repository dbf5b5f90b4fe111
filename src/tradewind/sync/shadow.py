"""Shadow mode: a new plugin reads its platform as a live one does — webhooks, polls,
backfills, products — and computes the stock it would push, but writes nothing to the
platform and creates no order or customer here. What it would have done is kept instead,
so the go-live report can say it before anything happens: N orders would import (and
which are skipped, with the import decisions' reason codes), M lines match no product by
SKU or barcode, K buyers lack fields, and per SKU and location the stock Tradewind would
push against what the platform holds now.

The gate is the drainer: it never claims, for a plugin in shadow, the kinds of work that
write (``models.SHADOW_WAITS``: exports, shipments, cancellations, hooks, tax commits,
customer and shipment imports) — they wait, kept, and run once it goes live, and the
report counts them — and it runs ``handlers/shadow.py``'s stock comparison instead of the
stock push. Orders are judged here (``observe``) instead of imported."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tradewind.connectors.records import OrderRecord, StockPush
from tradewind.core.orders import attention, lines
from tradewind.core.orders.schemas import ImportOptions
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin
from tradewind.core.plugins.service import ImportConflict
from tradewind.db import Base, UTCDateTime, utcnow
from tradewind.sync import ledger
from tradewind.sync.models import SHADOW_WAITS
from tradewind.sync.orders import ImportOutcome, address, buyer, lines_in, skip_reason
from tradewind.vocabulary import Toggle

SHADOW_CODE = "shadow"


class ShadowOrder(Base):
    """What a plugin in shadow decided about one platform order (the latest reading)."""

    __tablename__ = "shadow_orders"
    __table_args__ = (UniqueConstraint("plugin_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    number: Mapped[str] = mapped_column(String(64), default="")
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    placed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    would_import: Mapped[bool] = mapped_column(Boolean)
    code: Mapped[str] = mapped_column(String(160), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    # The SKU (or barcode) of each line no product matches.
    unmatched: Mapped[list[str]] = mapped_column(JSON, default=list)
    missing_customer_fields: Mapped[list[str]] = mapped_column(JSON, default=list)


class ShadowStock(Base):
    """Per product and platform location: what Tradewind would push, and what the
    platform held when it was compared (``None``: the platform cannot be asked)."""

    __tablename__ = "shadow_stock"

    plugin_id: Mapped[int] = mapped_column(
        ForeignKey("plugins.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    location_ref: Mapped[str] = mapped_column(String(128), primary_key=True)
    sku: Mapped[str] = mapped_column(String(128))
    would_push: Mapped[int] = mapped_column(Integer)
    platform_quantity: Mapped[int | None] = mapped_column(Integer)
    compared_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


def observe(
    session: Session, plugin: Plugin, record: OrderRecord, *, backfill: bool = False
) -> ImportOutcome:
    """Judge ``record`` as ``import_record`` would, and keep the judgement; nothing is
    created. Import conflicts stop the page as they do live."""
    rules = plugins.import_rules(plugin)
    if Toggle.IMPORT_ORDERS not in plugin.toggles:
        code, reason = "toggle_off:import_orders", "Import Orders is off"
    else:
        conflict = plugins.import_conflict(session, plugin)
        if conflict is not None:
            raise ImportConflict(conflict)
        skip = skip_reason(plugin, rules, record, backfill=backfill)
        code, reason = (skip.code, skip.reason) if skip is not None else (SHADOW_CODE, "")
    unmatched: list[str] = []
    missing: list[str] = []
    would_import = code == SHADOW_CODE
    if would_import:
        unmatched = _unmatched(session, plugin, record, ImportOptions(match_by=rules.match_by))
        _, generic, customer = buyer(rules, record)
        shipping = record.shipping_address
        missing = attention.missing_fields(
            has_customer=generic or customer is not None,
            source=record.source,
            shipping=address(shipping) if shipping is not None else None,
        )
        reason = "would import (shadow: nothing is created)"
        if unmatched:
            reason += f"; no product for {', '.join(unmatched)}"
        if missing:
            reason += f"; buyer lacks {', '.join(missing)}"
    _keep(session, plugin.id, record, would_import, code, reason, unmatched, missing)
    return ImportOutcome("would_import" if would_import else "skipped", reason=reason, code=code)


def _unmatched(
    session: Session, plugin: Plugin, record: OrderRecord, options: ImportOptions
) -> list[str]:
    given = lines_in(session, plugin, record)
    return [
        line.sku or line.barcode
        for line, product in zip(given, lines.match_all(session, given, options), strict=True)
        if product is None and (line.sku or line.barcode)
    ]


def _keep(
    session: Session,
    plugin_id: int,
    record: OrderRecord,
    would_import: bool,
    code: str,
    reason: str,
    unmatched: list[str],
    missing: list[str],
) -> None:
    external_id = record.external_id[:128]
    row = session.scalar(
        select(ShadowOrder).where(
            ShadowOrder.plugin_id == plugin_id, ShadowOrder.external_id == external_id
        )
    )
    if row is None:
        row = ShadowOrder(plugin_id=plugin_id, external_id=external_id)
        session.add(row)
    row.number = record.number[:64]
    row.seen_at, row.placed_at = utcnow(), record.placed_at
    row.would_import, row.code, row.reason = would_import, code[:160], reason
    row.unmatched, row.missing_customer_fields = unmatched, missing
    session.flush()


def record_stock(
    session: Session, plugin_id: int, compared: Sequence[tuple[StockPush, int | None]]
) -> None:
    """Keep, per product and location, what would be pushed and what the platform held."""
    now = utcnow()
    for push, held in compared:
        row = session.get(ShadowStock, (plugin_id, push.product_id, push.location_ref))
        if row is None:
            row = ShadowStock(
                plugin_id=plugin_id, product_id=push.product_id, location_ref=push.location_ref
            )
            session.add(row)
        row.sku, row.would_push, row.platform_quantity = push.sku, push.available, held
        row.compared_at = now
    session.flush()


# ---------------------------------------------------------------------- the report


@dataclass(frozen=True, slots=True)
class SkippedOrder:
    number: str
    external_id: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class CustomerGap:
    number: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StockDifference:
    sku: str
    location_ref: str
    would_push: int
    platform_quantity: int | None


@dataclass(frozen=True, slots=True)
class WaitingWork:
    kind: str
    count: int


@dataclass(frozen=True, slots=True)
class GoLiveReport:
    """What the plugin would have done since ``shadow_since``, had it been live."""

    plugin_id: int
    shadow: bool
    shadow_since: dt.datetime | None
    enabled_at: dt.datetime | None
    orders_seen: int
    would_import: int
    skipped: tuple[SkippedOrder, ...]
    unmatched_lines: int
    unmatched_skus: tuple[str, ...]
    customers_missing_fields: tuple[CustomerGap, ...]
    stock_compared: int
    stock_differences: tuple[StockDifference, ...] = field(default=())
    # Work that writes, kept until the plugin goes live (then it runs).
    writes_waiting: tuple[WaitingWork, ...] = field(default=())

    def lines(self) -> list[str]:
        """The report as a person reads it (the CLI's, and the page's summary)."""
        out = [
            f"{self.would_import} order(s) would import, {len(self.skipped)} skipped "
            f"(of {self.orders_seen} seen)",
            f"{self.unmatched_lines} line(s) match no product by SKU or barcode"
            + (f": {', '.join(self.unmatched_skus)}" if self.unmatched_skus else ""),
            f"{len(self.customers_missing_fields)} customer(s) missing fields",
            f"{len(self.stock_differences)} stock difference(s) of {self.stock_compared} "
            "level(s) compared",
        ]
        waiting = ", ".join(f"{w.count} {w.kind}" for w in self.writes_waiting)
        out.append(f"writes waiting for go-live: {waiting or 'none'}")
        out += [f"  skipped {s.number}: {s.code} ({s.reason})" for s in self.skipped]
        out += [
            f"  {gap.number}: buyer lacks {', '.join(gap.fields)}"
            for gap in self.customers_missing_fields
        ]
        out += [
            f"  {d.sku} at {d.location_ref}: would push {d.would_push}, platform holds "
            f"{'unknown' if d.platform_quantity is None else d.platform_quantity}"
            for d in self.stock_differences
        ]
        return out


def report(session: Session, plugin_id: int) -> GoLiveReport:
    plugin = plugins.get_plugin(session, plugin_id)
    seen = list(
        session.scalars(
            select(ShadowOrder).where(ShadowOrder.plugin_id == plugin_id).order_by(ShadowOrder.id)
        )
    )
    importing = [row for row in seen if row.would_import]
    skus = sorted({sku for row in importing for sku in row.unmatched})
    levels = list(
        session.scalars(
            select(ShadowStock)
            .where(ShadowStock.plugin_id == plugin_id)
            .order_by(ShadowStock.sku, ShadowStock.location_ref)
        )
    )
    return GoLiveReport(
        plugin_id=plugin.id,
        shadow=plugin.in_shadow,
        shadow_since=plugin.shadow_since,
        enabled_at=plugin.enabled_at,
        orders_seen=len(seen),
        would_import=len(importing),
        skipped=tuple(
            SkippedOrder(row.number, row.external_id, row.code, row.reason)
            for row in seen
            if not row.would_import
        ),
        unmatched_lines=sum(len(row.unmatched) for row in importing),
        unmatched_skus=tuple(skus),
        customers_missing_fields=tuple(
            CustomerGap(row.number, tuple(row.missing_customer_fields))
            for row in importing
            if row.missing_customer_fields
        ),
        stock_compared=len(levels),
        stock_differences=tuple(
            StockDifference(row.sku, row.location_ref, row.would_push, row.platform_quantity)
            for row in levels
            if row.platform_quantity != row.would_push
        ),
        writes_waiting=tuple(
            WaitingWork(kind.value, count)
            for kind, count in sorted(ledger.depth(session, plugin_id).items())
            if kind in SHADOW_WAITS
        ),
    )
