"""The control API (``/_sandbox/…``, documented at ``/_sandbox/docs``): what a merchant
or a customer does in a shop, outside the Admin API a hub sees, plus fault injection.

``Control`` holds the operations and the request models; the HTTP endpoints
(``control_api.py``) and the in-process runner both call it, so tests can set a shop up in
Python and drive the hub over HTTP.
"""

from __future__ import annotations

import random
from dataclasses import asdict
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.core import Sandbox
from tradewind.sandbox.shopify.faults import Fault, FaultKind
from tradewind.sandbox.shopify.ops.base import ShopifyError
from tradewind.sandbox.shopify.service import ShopOps
from tradewind.sandbox.shopify.state import ALL_SCOPES, Doc, Plan, TokenKind

OrderKind = Literal["web", "pos", "unpaid", "authorized", "test"]


class LineSpec(BaseModel):
    sku: str = Field(description="SKU of the variant; an unknown SKU gives a custom line.")
    quantity: int = Field(default=1, ge=1)
    price: str | None = Field(default=None, description="Unit price; default: the variant's.")


class CustomerSpec(BaseModel):
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None


class AddressSpec(BaseModel):
    first_name: str | None = None
    last_name: str | None = None
    address1: str | None = None
    city: str | None = None
    zip: str | None = None
    province: str | None = None
    province_code: str | None = None
    country_code: str | None = "US"
    phone: str | None = None


class OrderSpec(BaseModel):
    """An order as a customer places it in the online store or at a POS."""

    lines: list[LineSpec] = Field(min_length=1)
    kind: OrderKind = Field(
        default="web",
        description="web: paid online; pos: paid at a point of sale (location_id); "
        "unpaid: pending payment; authorized: payment authorized, not captured; "
        "test: a paid test order.",
    )
    customer: CustomerSpec | None = Field(
        default=None, description="None places a guest order without customer details."
    )
    shipping_address: AddressSpec | None = None
    location_id: int | None = Field(default=None, description="POS location (kind=pos).")
    shipping_price: str = "0.00"
    tags: str = ""
    note: str | None = None
    placed_at: datetime | None = Field(
        default=None,
        description="When the customer placed it (default: now): an order of the past, as "
        "Shopify's own clock stamped it then (created_at and processed_at).",
    )


class ShopSpec(BaseModel):
    name: str = Field(description="Shop name: {name}.myshopify.com")
    plan: Plan = Plan.standard
    currency: str = "USD"
    token: str | None = Field(default=None, description="Admin API token to issue.")
    app_key: str = "sandbox-app"
    app_secret: str = "sandbox-secret"  # noqa: S105 - the sandbox's default app
    scopes: list[str] = Field(default_factory=lambda: list(ALL_SCOPES))
    withhold_customer_data: bool = Field(
        default=False,
        description="Protected customer data not granted to apps: orders come without "
        "customer, email, phone, billing address or the shipping address's name and street.",
    )


class ShopPatch(BaseModel):
    plan: Plan | None = None
    withhold_customer_data: bool | None = None
    echo_own_inventory_updates: bool | None = None


class AppSpec(BaseModel):
    api_key: str
    api_secret: str
    title: str = "Sandbox app"
    auto_approve: bool = False


class TokenSpec(BaseModel):
    app_key: str = "sandbox-app"
    scopes: list[str] = Field(default_factory=lambda: list(ALL_SCOPES))
    kind: TokenKind = TokenKind.custom
    value: str | None = None


class VariantSpec(BaseModel):
    sku: str
    price: str = "10.00"
    option1: str | None = None
    barcode: str | None = None
    inventory_policy: Literal["deny", "continue"] = "deny"
    stock: dict[int, int] = Field(
        default_factory=dict, description="available quantity by location id"
    )
    available: int | None = Field(default=None, description="stock at the primary location")


class ProductSpec(BaseModel):
    title: str
    vendor: str = "Sandbox"
    product_type: str = ""
    tags: str = ""
    status: Literal["active", "draft", "archived"] = "active"
    variants: list[VariantSpec] = Field(min_length=1)


class StockSpec(BaseModel):
    sku: str | None = None
    inventory_item_id: int | None = None
    location_id: int | None = Field(default=None, description="default: the primary location")
    available: int


class LocationSpec(BaseModel):
    name: str
    address1: str | None = None
    city: str | None = None
    zip: str | None = None
    province: str | None = None
    country_code: str = "US"


class PaymentSpec(BaseModel):
    to: Literal["paid", "voided", "refunded"] = "paid"


class HoldSpec(BaseModel):
    reason: str = Field(
        default="high_risk_of_fraud",
        description="FulfillmentHoldReason: high_risk_of_fraud, awaiting_payment, other, …",
    )
    reason_notes: str | None = None


class FaultSpec(BaseModel):
    kind: FaultKind
    count: int | None = Field(default=1, description="how many times; null = until cleared")
    status: int = Field(default=500, ge=500, le=599)
    latency_ms: int = Field(default=0, ge=0, le=60_000)
    path_contains: str | None = None
    query_contains: str | None = Field(
        default=None,
        description="only GraphQL documents, or REST query strings (decoded), containing this text",
    )


class UninstallSpec(BaseModel):
    app_key: str = "sandbox-app"


class ComplianceSpec(BaseModel):
    """An app's compliance URLs (``url``: the same one for all three topics)."""

    url: str | None = None
    customers_data_request_url: str | None = None
    customers_redact_url: str | None = None
    shop_redact_url: str | None = None

    def urls(self) -> dict[str, str]:
        return {
            "customers/data_request": self.customers_data_request_url or self.url or "",
            "customers/redact": self.customers_redact_url or self.url or "",
            "shop/redact": self.shop_redact_url or self.url or "",
        }


FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson")


class Control:
    """Python face of the control API (the runner delegates here)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def create_shop(self, spec: ShopSpec) -> Doc:
        shop = self.sandbox.create_shop(
            spec.name,
            spec.plan,
            currency=spec.currency,
            withhold_customer_data=spec.withhold_customer_data,
        )
        name = shop.settings.name
        self.sandbox.create_app(spec.app_key, spec.app_secret)
        token = None
        if spec.token is not None:
            existing = self.sandbox.state.tokens.get(spec.token)
            token = existing or self.sandbox.issue_token(
                name, spec.app_key, spec.scopes, TokenKind.custom, spec.token
            )
        else:
            self.sandbox.install(name, spec.app_key)
        return {
            "shop": name,
            "domain": shop.settings.domain,
            "token": token.value if token else None,
        }

    def patch_shop(self, shop: str, patch: ShopPatch) -> Doc:
        if patch.plan is not None:
            self.sandbox.set_plan(shop, patch.plan)
        with self.sandbox.state.lock:
            data = self.sandbox.shop_or_error(shop)
            if patch.withhold_customer_data is not None:
                data.settings.withhold_customer_data = patch.withhold_customer_data
            if patch.echo_own_inventory_updates is not None:
                data.settings.echo_own_inventory_updates = patch.echo_own_inventory_updates
            data.save_settings()
            return asdict(data.settings)

    def shop_state(self, shop: str) -> Doc:
        """Everything a shop holds, as the Admin API would show it, plus what it hides
        (all inventory quantities, tokens, faults)."""

        def read(ops: ShopOps) -> Doc:
            data = ops.shop
            return {
                "settings": asdict(data.settings),
                "shop": ops.shop_doc(),
                "locations": data.locations.values(),
                "products": [ops.catalog.render_product(p) for p in data.products.values()],
                "inventory_levels": [
                    dict(asdict(lv), on_hand=lv.on_hand) for lv in data.levels.values()
                ],
                "customers": data.customers.values(),
                "orders": [ops.orders.render_order(o) for o in data.orders.values()],
                "fulfillment_orders": data.fulfillment_orders.values(),
                "webhooks": [
                    d.webhook(s) | {"app_key": s.app_key} for s in data.subscriptions.values()
                ],
                "tokens": [
                    {
                        "token_last4": t.value[-4:],
                        "app_key": t.app_key,
                        "kind": t.kind.value,
                        "scopes": t.scopes,
                        "revoked": t.revoked,
                    }
                    for t in self.sandbox.tokens_of(shop)
                ],
                "faults": [f.as_dict() for f in self.sandbox.faults.active(shop)],
            }

        return self.sandbox.run(shop, read)

    def add_location(self, shop: str, spec: LocationSpec) -> Doc:
        return self.sandbox.run(shop, lambda ops: ops.locations.add_location(spec.model_dump()))

    def add_product(self, shop: str, spec: ProductSpec) -> Doc:
        data = spec.model_dump()
        for given, variant in zip(spec.variants, data["variants"], strict=True):
            variant["option1"] = given.option1 or given.sku
            variant.pop("available")
            variant["inventory_quantity"] = given.available
        data["options"] = [{"name": "Title"}]
        return self.sandbox.run(shop, lambda ops: ops.catalog.create_product(data))

    def add_customers(self, shop: str, specs: list[CustomerSpec]) -> list[Doc]:
        """Customers the store already has (a customer base made before any app came),
        many at once; an email it holds already is refused as the Admin API refuses it."""

        def add(ops: ShopOps) -> list[Doc]:
            return [
                ops.customers.create_customer(spec.model_dump(exclude_none=True)) for spec in specs
            ]

        return self.sandbox.run(shop, add)

    def set_stock(self, shop: str, spec: StockSpec) -> Doc:
        def apply(ops: ShopOps) -> Doc:
            item_id = spec.inventory_item_id
            if item_id is None:
                found = ops.catalog.variants_by_sku(spec.sku or "")
                if not found:
                    raise ShopifyError(404, f"No variant with SKU {spec.sku!r}")
                item_id = int(found[0]["inventory_item_id"])
            location = spec.location_id or ops.locations.primary_location_id()
            return ops.inventory.set_available(item_id, location, spec.available)

        return self.sandbox.run(shop, apply)

    def place_order(self, shop: str, spec: OrderSpec) -> Doc:
        """As a shopper checking out: stock is committed and orders/create fires."""

        def place(ops: ShopOps) -> Doc:
            lines = []
            for line in spec.lines:
                found = ops.catalog.variants_by_sku(line.sku)
                if found:
                    entry: Doc = {"variant_id": found[0]["id"], "quantity": line.quantity}
                    if line.price is not None:
                        entry["price"] = line.price
                else:
                    entry = {
                        "title": f"Unknown item {line.sku}",
                        "sku": line.sku,
                        "price": line.price or "10.00",
                        "quantity": line.quantity,
                    }
                lines.append(entry)
            data: Doc = {
                "line_items": lines,
                "source_name": "pos" if spec.kind == "pos" else "web",
                "test": spec.kind == "test",
                "tags": spec.tags,
                "note": spec.note,
                "financial_status": {"unpaid": "pending", "authorized": "authorized"}.get(
                    spec.kind, "paid"
                ),
                "browser_ip": None if spec.kind == "pos" else "127.0.0.1",
            }
            if spec.kind == "unpaid":
                data["transactions"] = []
            if spec.customer is not None:
                customer = spec.customer.model_dump()
                data["customer"] = customer
                data["email"] = customer.get("email")
            if spec.shipping_address is not None:
                address = spec.shipping_address.model_dump()
                data["shipping_address"] = address
                data["billing_address"] = address
            if spec.kind == "pos":
                data["location_id"] = spec.location_id or ops.locations.primary_location_id()
            if d.dec(spec.shipping_price) > 0:
                data["shipping_lines"] = [{"title": "Standard", "price": spec.shipping_price}]
            if spec.placed_at is not None:
                data["created_at"] = d.stamp(ops.shop.settings, spec.placed_at)
            return ops.orders.create_order(data, inventory_behaviour="decrement_ignoring_policy")

        return self.sandbox.run(shop, place)

    def advance_payment(self, shop: str, order_id: int, spec: PaymentSpec) -> Doc:
        def advance(ops: ShopOps) -> Doc:
            if spec.to == "paid":
                return ops.payments.mark_paid(order_id)
            if spec.to == "voided":
                auth = next(
                    (
                        t
                        for t in ops.payments.order_transactions(order_id)
                        if t["kind"] == "authorization"
                    ),
                    None,
                )
                if auth is None:
                    raise ShopifyError(422, {"base": ["No authorization to void"]})
                ops.payments.create_transaction(order_id, {"kind": "void", "parent_id": auth["id"]})
                return ops.orders.order(order_id)
            order = ops.orders.order(order_id)
            parent = next(
                (
                    t
                    for t in ops.payments.order_transactions(order_id)
                    if t["kind"] in ("sale", "capture")
                ),
                None,
            )
            if parent is None:
                raise ShopifyError(422, {"base": ["Nothing was paid"]})
            ops.refunds.create_refund(
                order_id,
                {
                    "transactions": [
                        {
                            "parent_id": parent["id"],
                            "amount": order["total_price"],
                            "kind": "refund",
                        }
                    ]
                },
            )
            return ops.orders.order(order_id)

        return self.sandbox.run(shop, advance)

    def hold_order(self, shop: str, order_id: int, spec: HoldSpec) -> Doc:
        """As the merchant (or a fraud app) holding an order for review: every open
        fulfillment order of it goes on hold. Returns the order's fulfillment orders."""

        def hold(ops: ShopOps) -> Doc:
            held = [
                ops.fulfillment_orders.hold_fulfillment_order(fo["id"], spec.model_dump())
                for fo in ops.fulfillment_orders.order_fulfillment_orders(order_id)
                if fo["status"] in ("open", "in_progress")
            ]
            if not held:
                raise ShopifyError(422, {"base": ["No fulfillment order can be held"]})
            return {"fulfillment_orders": held}

        return self.sandbox.run(shop, hold)

    def release_order(self, shop: str, order_id: int) -> Doc:
        """Every hold on the order's fulfillment orders released."""

        def release(ops: ShopOps) -> Doc:
            released = [
                ops.fulfillment_orders.release_hold(fo["id"])
                for fo in ops.fulfillment_orders.order_fulfillment_orders(order_id)
                if fo["status"] == "on_hold"
            ]
            if not released:
                raise ShopifyError(422, {"base": ["The order is not on hold"]})
            return {"fulfillment_orders": released}

        return self.sandbox.run(shop, release)

    def issue_token(self, shop: str, spec: TokenSpec) -> Doc:
        self.sandbox.shop_or_error(shop)
        if spec.app_key not in self.sandbox.state.apps:
            raise ShopifyError(404, f"No app {spec.app_key!r}")
        token = self.sandbox.issue_token(shop, spec.app_key, spec.scopes, spec.kind, spec.value)
        return {"token": token.value, "scopes": token.scopes, "kind": token.kind.value}

    def add_fault(self, shop: str, spec: FaultSpec) -> Doc:
        self.sandbox.shop_or_error(shop)
        fault = Fault(
            spec.kind,
            spec.count,
            spec.status,
            spec.latency_ms,
            spec.path_contains,
            spec.query_contains,
        )
        self.sandbox.faults.add(shop, fault)
        return fault.as_dict()

    def clear_faults(self, shop: str) -> None:
        self.sandbox.faults.clear(shop)
        self.sandbox.webhooks.flush_held()

    def random_order(self, shop: str, rng: random.Random) -> Doc:
        """A plausible order for the generator: 1-3 lines from the catalog, mostly
        paid web orders with a customer, some POS, unpaid, and guest orders."""
        with self.sandbox.state.lock:
            data = self.sandbox.shop_or_error(shop)
            skus = [v["sku"] for v in data.variants.values() if v["sku"]]
            locations = data.locations.keys()
        if not skus:
            raise ShopifyError(422, {"base": ["The shop has no products to order"]})
        kind: OrderKind = rng.choices(
            ("web", "pos", "unpaid", "authorized"), weights=(80, 8, 6, 6)
        )[0]
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        customer = None
        if rng.random() > 0.1:
            customer = CustomerSpec(
                first_name=first,
                last_name=last,
                email=f"{first}.{last}{rng.randint(1, 999)}@example.com".lower(),
            )
        lines = [
            LineSpec(sku=sku, quantity=rng.choice((1, 1, 1, 2, 3)))
            for sku in rng.sample(skus, k=min(len(skus), rng.choice((1, 1, 2, 3))))
        ]
        spec = OrderSpec(
            lines=lines,
            kind=kind,
            customer=customer,
            shipping_address=AddressSpec(
                first_name=first,
                last_name=last,
                address1="1 Main St",
                city="Springfield",
                zip="62701",
                province="Illinois",
                province_code="IL",
            )
            if kind != "pos"
            else None,
            location_id=rng.choice(locations) if kind == "pos" and locations else None,
            shipping_price="0.00" if kind == "pos" else "5.00",
        )
        return self.place_order(shop, spec)
