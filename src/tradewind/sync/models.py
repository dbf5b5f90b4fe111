"""The engine's tables. The database, not the queue, is the source of truth for due work."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tradewind.db import Base, Timestamped, UTCDateTime, str_enum, utcnow


class WorkKind(StrEnum):
    """Every kind of unit of work, with its priority below (lower runs first)."""

    WEBHOOK = "webhook"  # process one inbound delivery (key: inbox id)
    IMPORT_ORDER = "import_order"  # re-read one order by id (key: external id)
    PUSH_STOCK = "push_stock"  # send one product's available stock (key: product id)
    PUSH_SHIPMENT = "push_shipment"  # send one shipment (key: shipment id)
    CANCEL_SHIPMENT = "cancel_shipment"  # a sent shipment undone here (key: shipment id)
    POLL_ORDERS = "poll_orders"  # reconciliation poll of one stream (key: stream)
    PROBE_ORDERS = "probe_orders"  # look for orders whose webhook never came (key: "probe")
    CHECK_AUTH = "check_auth"  # probe whether credentials work again (key: "")
    BACKFILL = "backfill"  # one page of a historical import (key: backfill id)
    SYNC_PRODUCTS = "sync_products"  # one page of "Sync products" (key: run id)
    REFRESH_LOCATIONS = "refresh_locations"  # read the platform's locations (key: "")
    ENSURE_WEBHOOKS = "ensure_webhooks"  # register or repair subscriptions (key: "")
    EXPORT_ORDER = "export_order"  # create an order made in Tradewind (key: order id)
    CANCEL_ORDER = "cancel_order"  # cancel there an exported order (key: order id)
    EXPORT_RETURN = "export_return"  # a received return refunded there (key: return id)
    EXPORT_CUSTOMER = "export_customer"  # create or update a customer (key: customer id)
    EXPORT_ALL_CUSTOMERS = "export_all_customers"  # one page of Export all (key: run id)
    EXPORT_PRODUCT = "export_product"  # create or update a product (key: product id)
    IMPORT_CUSTOMERS = "import_customers"  # customers page by page (key: "customers[:full]")
    SYNC_LISTINGS = "sync_listings"  # listings page by page (key: "listings")
    RUN_HOOK = "run_hook"  # a template hook bound to a store event (key: hook:subject:id)
    GET_RATES = "get_rates"  # a package being prepared, rated (key: package id)
    CALCULATE_TAX = "calculate_tax"  # an order made here, taxed by the channel's service
    COMMIT_TAX = "commit_tax"  # a shipped order's tax recorded as a sale (key: order id)
    REFUND_TAX = "refund_tax"  # a received return's tax refunded on its sale (key: return id)
    TRACK_SHIPMENT = "track_shipment"  # re-read a parcel's tracking (key: tracking number)
    POLL_TRACKING = "poll_tracking"  # the parcels on their way, re-read (key: "tracking")
    PUSH_FULFILMENT = "push_fulfilment"  # an order to the fulfilment tool (key: order id)
    IMPORT_SHIPMENTS = "import_shipments"  # a thin delivery's shipments (key: its digest)
    POLL_FULFILMENT = "poll_fulfilment"  # unshipped handed orders re-read (key: "fulfilment")
    GAP_REPORT = "gap_report"  # a day's orders against Tradewind's (key: a day, or "daily")
    CHECK_SILENCE = "check_silence"  # webhooks quiet against their usual rate (key: "silence")


# What a plugin in shadow does not run (sync/shadow.py): every kind of work that writes to
# the platform or makes customers or shipments here. It waits, kept, and runs once the
# plugin goes live. (Its stock pushes are compared instead: handlers/shadow.py.)
SHADOW_WAITS: frozenset[WorkKind] = frozenset(
    {
        WorkKind.PUSH_SHIPMENT,
        WorkKind.CANCEL_SHIPMENT,
        WorkKind.EXPORT_ORDER,
        WorkKind.CANCEL_ORDER,
        WorkKind.EXPORT_RETURN,
        WorkKind.EXPORT_CUSTOMER,
        WorkKind.EXPORT_ALL_CUSTOMERS,
        WorkKind.EXPORT_PRODUCT,
        WorkKind.IMPORT_CUSTOMERS,
        WorkKind.RUN_HOOK,
        WorkKind.COMMIT_TAX,
        WorkKind.REFUND_TAX,
        WorkKind.PUSH_FULFILMENT,
        WorkKind.IMPORT_SHIPMENTS,
        WorkKind.GAP_REPORT,  # nothing is imported to hold the platform's orders against
    }
)
RUNS_IN_SHADOW: frozenset[WorkKind] = frozenset(WorkKind) - SHADOW_WAITS


PRIORITY: dict[WorkKind, int] = {
    WorkKind.WEBHOOK: 10,
    WorkKind.IMPORT_ORDER: 10,
    WorkKind.PROBE_ORDERS: 15,  # a gap is closed before stock goes out over it
    WorkKind.PUSH_STOCK: 20,
    WorkKind.PUSH_SHIPMENT: 20,
    WorkKind.CANCEL_SHIPMENT: 21,  # after the push it may follow
    WorkKind.CHECK_AUTH: 30,
    WorkKind.POLL_ORDERS: 40,
    WorkKind.REFRESH_LOCATIONS: 30,
    WorkKind.ENSURE_WEBHOOKS: 30,
    WorkKind.SYNC_PRODUCTS: 80,
    WorkKind.BACKFILL: 90,
    # A product or customer goes out before an order that may name it.
    WorkKind.EXPORT_PRODUCT: 32,
    WorkKind.EXPORT_CUSTOMER: 34,
    WorkKind.EXPORT_ALL_CUSTOMERS: 86,  # a bulk write, after live work
    WorkKind.EXPORT_ORDER: 36,
    WorkKind.CANCEL_ORDER: 37,  # after the export it may be racing
    WorkKind.EXPORT_RETURN: 38,
    WorkKind.IMPORT_CUSTOMERS: 60,
    WorkKind.SYNC_LISTINGS: 85,
    WorkKind.RUN_HOOK: 50,  # after live stock and orders, before bulk reads
    WorkKind.GET_RATES: 25,  # a person waits at the order page for them
    WorkKind.CALCULATE_TAX: 35,
    WorkKind.COMMIT_TAX: 45,
    WorkKind.REFUND_TAX: 46,  # after the sale it refunds
    WorkKind.TRACK_SHIPMENT: 40,
    WorkKind.POLL_TRACKING: 70,
    WorkKind.PUSH_FULFILMENT: 36,  # with the orders exported to other platforms
    WorkKind.IMPORT_SHIPMENTS: 20,  # a shipment's tracking goes back to the store soon
    WorkKind.POLL_FULFILMENT: 70,
    WorkKind.GAP_REPORT: 88,  # a bulk read, after live work
    WorkKind.CHECK_SILENCE: 30,
}


class WorkState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # rejected for good; kept with its reason


class SyncWork(Base):
    """One unit of work for one plugin: (plugin, kind, key) with when, tries and outcome.

    While pending, a (plugin, kind, key) exists once: recording the same work again
    changes the pending row instead of adding one. That is how stock changes coalesce.
    """

    __tablename__ = "sync_work"
    __table_args__ = (
        Index(
            "uq_sync_work_pending",
            "plugin_id",
            "kind",
            "key",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
        Index("ix_sync_work_due", "state", "not_before"),
        Index("ix_sync_work_plugin_due", "plugin_id", "state", "priority", "not_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    kind: Mapped[WorkKind] = mapped_column(str_enum(WorkKind))
    key: Mapped[str] = mapped_column(String(128), default="")
    state: Mapped[WorkState] = mapped_column(str_enum(WorkState), default=WorkState.PENDING)
    priority: Mapped[int] = mapped_column(Integer, default=50)
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    throttled: Mapped[int] = mapped_column(Integer, default=0)  # RateLimited in a row
    last_error: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class PluginLease(Base):
    """Who drains a plugin's work now. Single flight: one holder per plugin, across every
    process; a holder that dies loses the lease when it expires."""

    __tablename__ = "plugin_leases"

    plugin_id: Mapped[int] = mapped_column(
        ForeignKey("plugins.id", ondelete="CASCADE"), primary_key=True
    )
    holder: Mapped[str] = mapped_column(String(64), default="")
    lease_until: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


ORDERS_STREAM = "orders"  # the stream of orders, polled and backfilled
CUSTOMERS_STREAM = "customers"  # the poll of customers changed on the platform
CUSTOMERS_FULL = "customers:full"  # the import of every customer (key of its work)
LISTINGS_KEY = "listings"  # the key of Import Listings work


class SyncSchedule(Timestamped, Base):
    """A stream polled on a schedule, with the cursor its next window starts from."""

    __tablename__ = "sync_schedules"
    __table_args__ = (UniqueConstraint("plugin_id", "stream"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    stream: Mapped[str] = mapped_column(String(64))
    interval_seconds: Mapped[int] = mapped_column(Integer, default=600)
    overlap_seconds: Mapped[int] = mapped_column(Integer, default=900)
    next_run_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    cursor: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # end of the last window
    last_run_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_result: Mapped[str] = mapped_column(Text, default="")


class BackfillState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"  # the platform refused the range itself; a notification says why


class PagedRun:
    """A long read kept page by page: where it got to (``cursor``) until it is done,
    cancelled or failed. The engine's ``Paged`` handlers drive it."""

    state: Mapped[BackfillState] = mapped_column(
        str_enum(BackfillState), default=BackfillState.RUNNING
    )
    cursor: Mapped[str | None] = mapped_column(Text)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Backfill(PagedRun, Timestamped, Base):
    """A historical import of a date range: resumable from its page cursor."""

    __tablename__ = "backfills"

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    stream: Mapped[str] = mapped_column(String(64), default=ORDERS_STREAM)
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    total_estimate: Mapped[int | None] = mapped_column(Integer)
    skips: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)  # id + reason
    # How the range is read, decided on the first claim: "pages", or "bulk" (one export
    # the platform prepares). A bulk read keeps the export's id, the platform's last word
    # on it and the byte of its result up to which every order is imported: a restart
    # polls that export again and reads on from there, never a second export.
    route: Mapped[str] = mapped_column(String(16), default="", server_default="")
    export_id: Mapped[str | None] = mapped_column(String(255))
    export_status: Mapped[str] = mapped_column(String(16), default="", server_default="")
    export_url: Mapped[str | None] = mapped_column(Text)
    export_offset: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    export_size: Mapped[int | None] = mapped_column(BigInteger)
    export_objects: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def read_fraction(self) -> float | None:
        """How far a bulk read got: bytes of the result imported over its size."""
        if self.route != "bulk" or not self.export_size:
            return None
        return min(1.0, self.export_offset / self.export_size)


class InboxDelivery(Base):
    """An inbound webhook, stored before it was acknowledged."""

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("plugin_id", "delivery_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    delivery_id: Mapped[str] = mapped_column(String(128))
    topic: Mapped[str] = mapped_column(String(128))
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(Text, default="")


class StockSyncState(Base):
    """What was last pushed for (plugin, product, location): the base of delta pushes,
    the compare value of absolute ones, and how our own echoes are recognised."""

    __tablename__ = "stock_sync_state"
    __table_args__ = (UniqueConstraint("plugin_id", "product_id", "location_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    location_ref: Mapped[str] = mapped_column(String(128))
    pushed: Mapped[int | None] = mapped_column(Integer)  # what we last sent (available)
    platform_quantity: Mapped[int | None] = mapped_column(Integer)  # what it then held
    pushed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class RateBudgetRow(Base):
    """A remote account's leaky bucket, shared by every process."""

    __tablename__ = "rate_budgets"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)  # account:bucket
    level: Mapped[float] = mapped_column(Float, default=0.0)
    capacity: Mapped[float | None] = mapped_column(Float)  # as the platform last reported
    updated_at: Mapped[float] = mapped_column(Float, default=0.0)  # unix seconds
    blocked_until: Mapped[float] = mapped_column(Float, default=0.0)


class ProductSync(PagedRun, Timestamped, Base):
    """One run of "Sync products": map platform variants to core products by SKU, then
    barcode; report what did not map. Never changes stock, never overwrites a mapping."""

    __tablename__ = "product_syncs"

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    variants: Mapped[int] = mapped_column(Integer, default=0)
    linked: Mapped[int] = mapped_column(Integer, default=0)  # newly mapped
    already_linked: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)  # core products created
    unmatched: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    duplicates: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    conflicts: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)


class CustomerExport(PagedRun, Timestamped, Base):
    """One run of "Export all customers": every customer here, page by page (``cursor``:
    the last customer id done), matched by email against the store and linked, or
    created there. Generic customers and customers without an email are not sent."""

    __tablename__ = "customer_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    total: Mapped[int] = mapped_column(Integer, default=0)  # to send, counted at the start
    no_email: Mapped[int] = mapped_column(Integer, default=0)  # skipped, counted at the start
    created: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)  # found by email, now linked
    already_linked: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)  # id + reason

    @property
    def done_count(self) -> int:
        return self.created + self.matched + self.already_linked + self.failed


class CredentialLock(Base):
    """Who may change a plugin's credentials now (an OAuth token refresh): one holder
    across every process, released or expired."""

    __tablename__ = "credential_locks"

    plugin_id: Mapped[int] = mapped_column(
        ForeignKey("plugins.id", ondelete="CASCADE"), primary_key=True
    )
    holder: Mapped[str] = mapped_column(String(64), default="")
    until: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OAuthState(Base):
    """A pending authorization: the ``state`` sent to the platform, single use, short-lived."""

    __tablename__ = "oauth_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    plugin_id: Mapped[int] = mapped_column(ForeignKey("plugins.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(String(1024))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
