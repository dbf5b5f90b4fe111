"""Everything the sandbox remembers: shops, apps, tokens, subscriptions and each shop's
resources, in memory, optionally written through to a SQLite file.

Resources are kept as the JSON documents Shopify's REST Admin API answers with (the
2025-07 shape, which is the same up to 2026-10): the sandbox's job is to produce exactly
those documents, so storing them is simpler and faster than rebuilding them from a
second model on every read. What Shopify itself does not show (tokens, bucket levels,
inventory quantities other than ``available``) is held in typed dataclasses.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Generic, TypeVar

Doc = dict[str, Any]
"""One Shopify JSON document (an order, a product…), exactly as the REST API shows it."""

SHOP_DOMAIN_SUFFIX = ".myshopify.com"

ALL_SCOPES: tuple[str, ...] = (
    "read_products",
    "write_products",
    "read_inventory",
    "write_inventory",
    "read_locations",
    "write_locations",
    "read_customers",
    "write_customers",
    "read_orders",
    "write_orders",
    "read_all_orders",
    "read_draft_orders",
    "write_draft_orders",
    "read_merchant_managed_fulfillment_orders",
    "write_merchant_managed_fulfillment_orders",
    "read_assigned_fulfillment_orders",
    "write_assigned_fulfillment_orders",
    "read_fulfillments",
    "write_fulfillments",
    "read_shipping",
    "write_shipping",
)


class Plan(StrEnum):
    standard = "standard"
    advanced = "advanced"
    plus = "plus"


@dataclass(frozen=True)
class PlanLimits:
    """Rate limits and names of one Shopify plan. REST: a bucket of ``rest_bucket`` calls
    leaking ``rest_leak`` per second; GraphQL: ``graphql_bucket`` points restoring
    ``graphql_restore`` per second."""

    rest_bucket: int
    rest_leak: float
    graphql_bucket: float
    graphql_restore: float
    plan_name: str
    plan_display_name: str


# Standard and Advanced figures are Shopify's documented ones. Plus: 20 calls/s is
# documented; the bucket size is reported as 80 or 400, and we keep Shopify's ratio of
# 20 s of leak (40/2, 80/4), i.e. 400. GraphQL above Standard follows the same ratio.
PLAN_LIMITS: dict[Plan, PlanLimits] = {
    Plan.standard: PlanLimits(40, 2.0, 2000.0, 100.0, "basic", "Basic"),
    Plan.advanced: PlanLimits(80, 4.0, 4000.0, 200.0, "professional", "Advanced"),
    Plan.plus: PlanLimits(400, 20.0, 20000.0, 1000.0, "shopify_plus", "Shopify Plus"),
}


class TokenKind(StrEnum):
    custom = "custom"  # shown once in the admin; never expires
    offline = "offline"
    online = "online"
    expiring_offline = "expiring_offline"
    client_credentials = "client_credentials"


@dataclass
class App:
    """An app installable on the sandbox's shops (OAuth client)."""

    api_key: str
    api_secret: str
    title: str = "Sandbox app"
    id: int = 0
    # Approve /admin/oauth/authorize without showing the approval page.
    auto_approve: bool = False
    # Compliance topic -> the URL the app's configuration gives for it.
    compliance_urls: dict[str, str] = field(default_factory=dict)


@dataclass
class Token:
    value: str
    shop: str
    app_key: str
    scopes: list[str]
    kind: TokenKind = TokenKind.offline
    created_at: float = 0.0
    expires_at: float | None = None
    refresh_token: str | None = None
    refresh_expires_at: float | None = None
    associated_user_id: int | None = None
    revoked: bool = False

    def grants(self, scope: str) -> bool:
        """Shopify's rule: a ``write_`` scope implies the matching ``read_`` scope."""
        if scope in self.scopes:
            return True
        return scope.startswith("read_") and "write_" + scope[5:] in self.scopes


@dataclass
class Subscription:
    """A webhook subscription. ``created_by_api`` ones are deleted after their deliveries
    keep failing, as Shopify does; configured ones are kept."""

    id: int
    shop: str
    app_key: str
    topic: str
    address: str
    created_at: str
    updated_at: str
    api_version: str
    format: str = "json"
    fields: list[str] = field(default_factory=list)
    metafield_namespaces: list[str] = field(default_factory=list)
    name: str | None = None
    filter: str | None = None
    created_by_api: bool = True


@dataclass
class Level:
    """Stock of one inventory item at one location, by Shopify's quantity names."""

    inventory_item_id: int
    location_id: int
    updated_at: str
    available: int = 0
    committed: int = 0
    incoming: int = 0
    reserved: int = 0
    damaged: int = 0
    quality_control: int = 0
    safety_stock: int = 0

    @property
    def on_hand(self) -> int:
        return (
            self.available
            + self.committed
            + self.reserved
            + self.damaged
            + self.quality_control
            + self.safety_stock
        )

    def quantity(self, name: str) -> int:
        if name == "on_hand":
            return self.on_hand
        return int(getattr(self, name))


QUANTITY_NAMES = (
    "available",
    "on_hand",
    "committed",
    "incoming",
    "reserved",
    "damaged",
    "quality_control",
    "safety_stock",
)


@dataclass
class ShopSettings:
    name: str
    id: int
    plan: Plan = Plan.standard
    email: str = "owner@example.com"
    shop_owner: str = "Sandbox Owner"
    currency: str = "USD"
    iana_timezone: str = "America/New_York"
    country_code: str = "US"
    primary_location_id: int | None = None
    next_order_number: int = 1001
    # Issue 5: shops on plans that withhold protected customer data from apps.
    withhold_customer_data: bool = False
    # Issue 5: Shopify echoes an app's own inventory writes as inventory_levels/update.
    echo_own_inventory_updates: bool = True
    installed_apps: list[str] = field(default_factory=list)
    collects: list[list[int]] = field(default_factory=list)  # [collection_id, product_id]

    @property
    def domain(self) -> str:
        return self.name + SHOP_DOMAIN_SUFFIX


K = TypeVar("K")
V = TypeVar("V")


class Sink:
    """Where tables write through to. The base keeps nothing (memory only)."""

    def save(self, shop: str, kind: str, key: str, value: object) -> None:
        """Remember one row."""

    def delete(self, shop: str, kind: str, key: str) -> None:
        """Forget one row."""

    def rows(self) -> Iterator[tuple[str, str, str, object]]:
        return iter(())

    def close(self) -> None:
        """Release the file, if any."""


class SqliteSink(Sink):
    """Write-through persistence: one row per document, committed at once, so a demo
    killed at any moment restarts with what it had."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS rows (shop TEXT NOT NULL, kind TEXT NOT NULL, "
            "key TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (shop, kind, key))"
        )
        self._lock = threading.Lock()

    def save(self, shop: str, kind: str, key: str, value: object) -> None:
        body = json.dumps(value, separators=(",", ":"))
        with self._lock:
            self._db.execute(
                "INSERT INTO rows (shop, kind, key, body) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (shop, kind, key) DO UPDATE SET body = excluded.body",
                (shop, kind, key, body),
            )

    def delete(self, shop: str, kind: str, key: str) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM rows WHERE shop = ? AND kind = ? AND key = ?", (shop, kind, key)
            )

    def rows(self) -> Iterator[tuple[str, str, str, object]]:
        with self._lock:
            found = self._db.execute("SELECT shop, kind, key, body FROM rows").fetchall()
        for shop, kind, key, body in found:
            yield shop, kind, key, json.loads(body)

    def close(self) -> None:
        with self._lock:
            self._db.close()


class Table(Generic[K, V]):
    """A keyed collection that writes every change through to the sink. ``group_by``
    keeps an index of the rows by a key that never changes for a row (an order's
    transactions, a product's variants), so that reading one order or product does not
    scan the whole shop."""

    def __init__(
        self,
        shop: str,
        kind: str,
        sink: Sink,
        encode: Callable[[V], object],
        key_text: Callable[[K], str] = str,
        group_by: Callable[[V], object] | None = None,
    ) -> None:
        self._rows: dict[K, V] = {}
        self._shop = shop
        self._kind = kind
        self._sink = sink
        self._encode = encode
        self._key_text = key_text
        self._group_by = group_by
        self._groups: dict[object, dict[K, V]] = {}

    def get(self, key: K) -> V | None:
        return self._rows.get(key)

    def put(self, key: K, value: V) -> V:
        self._index(key, value)
        self._sink.save(self._shop, self._kind, self._key_text(key), self._encode(value))
        return value

    def load(self, key: K, value: V) -> None:
        """Fill from the sink at start-up, without writing back."""
        self._index(key, value)

    def _index(self, key: K, value: V) -> None:
        if self._group_by is not None:
            previous = self._rows.get(key)
            if previous is not None:
                self._groups.get(self._group_by(previous), {}).pop(key, None)
            self._groups.setdefault(self._group_by(value), {})[key] = value
        self._rows[key] = value

    def group(self, value: object) -> list[V]:
        """The rows whose ``group_by`` key is ``value``."""
        return list(self._groups.get(value, {}).values())

    def delete(self, key: K) -> V | None:
        value = self._rows.pop(key, None)
        if value is not None:
            if self._group_by is not None:
                self._groups.get(self._group_by(value), {}).pop(key, None)
            self._sink.delete(self._shop, self._kind, self._key_text(key))
        return value

    def values(self) -> list[V]:
        return list(self._rows.values())

    def keys(self) -> list[K]:
        return list(self._rows.keys())

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __len__(self) -> int:
        return len(self._rows)


def _same(doc: Doc) -> object:
    return doc


def _level_key(key: tuple[int, int]) -> str:
    return f"{key[0]}:{key[1]}"


class ShopData:
    """One shop: its settings and its resources, each kind in its own table."""

    def __init__(self, settings: ShopSettings, sink: Sink) -> None:
        name = settings.name
        self.settings = settings
        self._sink = sink

        def docs(kind: str, group_by: str | None = None) -> Table[int, Doc]:
            by = (lambda doc: doc[group_by]) if group_by else None
            return Table(name, kind, sink, _same, group_by=by)

        self.products = docs("products")
        self.variants = docs("variants", "product_id")
        self.inventory_items = docs("inventory_items")
        self.locations = docs("locations")
        self.customers = docs("customers")
        self.orders = docs("orders")
        self.draft_orders = docs("draft_orders")
        self.transactions = docs("transactions", "order_id")
        self.tender_transactions = docs("tender_transactions")
        self.refunds = docs("refunds", "order_id")
        self.fulfillment_orders = docs("fulfillment_orders", "order_id")
        self.fulfillments = docs("fulfillments", "order_id")
        self.fulfillment_events = docs("fulfillment_events", "fulfillment_id")
        self.metafields = docs("metafields", "owner_id")
        self.levels: Table[tuple[int, int], Level] = Table(
            name,
            "levels",
            sink,
            dataclasses.asdict,
            _level_key,
            group_by=lambda level: level.inventory_item_id,
        )
        self.subscriptions: Table[int, Subscription] = Table(
            name, "subscriptions", sink, dataclasses.asdict
        )
        # Idempotency keys of GraphQL mutations (2026-04+): key -> the first answer.
        self.idempotency: Table[str, Doc] = Table(name, "idempotency", sink, _same)

    def save_settings(self) -> None:
        self._sink.save(
            self.settings.name, "settings", "settings", dataclasses.asdict(self.settings)
        )

    def doc_tables(self) -> dict[str, Table[int, Doc]]:
        return {
            "products": self.products,
            "variants": self.variants,
            "inventory_items": self.inventory_items,
            "locations": self.locations,
            "customers": self.customers,
            "orders": self.orders,
            "transactions": self.transactions,
            "tender_transactions": self.tender_transactions,
            "refunds": self.refunds,
            "fulfillment_orders": self.fulfillment_orders,
            "fulfillments": self.fulfillments,
            "fulfillment_events": self.fulfillment_events,
            "metafields": self.metafields,
            "draft_orders": self.draft_orders,
        }

    def load_row(self, kind: str, key: str, body: Any) -> None:
        tables = self.doc_tables()
        if kind in tables:
            tables[kind].load(int(key), body)
        elif kind == "levels":
            level = Level(**body)
            self.levels.load((level.inventory_item_id, level.location_id), level)
        elif kind == "subscriptions":
            subscription = Subscription(**body)
            self.subscriptions.load(subscription.id, subscription)
        elif kind == "idempotency":
            self.idempotency.load(key, body)


GLOBAL = "_"  # the sink's "shop" for rows that belong to no shop (apps, tokens, ids)


class SandboxState:
    """All shops, apps and tokens of one sandbox. Every read and write of the sandbox
    happens under ``lock``; the HTTP handlers never await while holding it."""

    def __init__(self, sink: Sink | None = None) -> None:
        self.lock = threading.RLock()
        self.sink = sink or Sink()
        self.shops: dict[str, ShopData] = {}
        self.apps: dict[str, App] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> access token
        self._next_id = 1_070_000_000
        self._load()

    def _load(self) -> None:
        later: list[tuple[str, str, str, Any]] = []
        for shop, kind, key, body in self.sink.rows():
            if kind == "settings":
                settings = ShopSettings(**body)  # type: ignore[arg-type]
                settings.plan = Plan(settings.plan)
                self.shops[shop] = ShopData(settings, self.sink)
            else:
                later.append((shop, kind, key, body))
        for shop, kind, key, body in later:
            if kind == "app":
                app = App(**body)
                self.apps[app.api_key] = app
            elif kind == "token":
                token = Token(**body)
                token.kind = TokenKind(token.kind)
                self.tokens[token.value] = token
                if token.refresh_token:
                    self.refresh_tokens[token.refresh_token] = token.value
            elif kind == "ids":
                self._next_id = max(self._next_id, int(body))
            elif shop in self.shops:
                self.shops[shop].load_row(kind, key, body)
                if key.isdigit():
                    self._next_id = max(self._next_id, int(key) + 1)

    def next_id(self) -> int:
        self._next_id += 1
        self.sink.save(GLOBAL, "ids", "next", self._next_id)
        return self._next_id

    def claim_id(self, wanted: int | None) -> int:
        """An explicit id (seeding with Shopify's example ids) or the next free one."""
        if wanted is None:
            return self.next_id()
        if wanted >= self._next_id:
            self._next_id = wanted
            self.sink.save(GLOBAL, "ids", "next", self._next_id)
        return wanted

    def save_app(self, app: App) -> None:
        self.apps[app.api_key] = app
        self.sink.save(GLOBAL, "app", app.api_key, dataclasses.asdict(app))

    def save_token(self, token: Token) -> None:
        self.tokens[token.value] = token
        if token.refresh_token:
            self.refresh_tokens[token.refresh_token] = token.value
        self.sink.save(GLOBAL, "token", token.value, dataclasses.asdict(token))

    def shop(self, name: str) -> ShopData | None:
        return self.shops.get(name)

    def close(self) -> None:
        self.sink.close()
