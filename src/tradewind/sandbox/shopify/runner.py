"""An in-process Shopify sandbox for tests and ``tradewind demo``: uvicorn in a background
thread on 127.0.0.1, plus Python methods mirroring the control API.

    with ShopifySandbox(time_scale=1000) as sandbox:
        shop = sandbox.create_shop("acme", token="shpat_test", app_secret="hush")
        sandbox.add_product("acme", "Mug", [{"sku": "MUG-1", "price": "12.00", "available": 5}])
        order = sandbox.place_order("acme", [("MUG-1", 2)])
        # a client talks to sandbox.base_url + "/admin/api/2025-07/orders.json"
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from tradewind.sandbox.serving import Running, Served
from tradewind.sandbox.shopify import compliance
from tradewind.sandbox.shopify import control as c
from tradewind.sandbox.shopify.app import create_app
from tradewind.sandbox.shopify.core import LATEST_VERSION, Options, Sandbox
from tradewind.sandbox.shopify.faults import FaultKind
from tradewind.sandbox.shopify.generator import GeneratorSpec, OrderGenerator
from tradewind.sandbox.shopify.journal import Request as Recorded
from tradewind.sandbox.shopify.ratelimit import Clock
from tradewind.sandbox.shopify.state import ALL_SCOPES, Doc, Plan, TokenKind
from tradewind.sandbox.shopify.webhooks import LOOPBACK_HOSTS, Delivery


@dataclass(frozen=True)
class ShopInfo:
    name: str
    domain: str
    token: str | None


Line = tuple[str, int] | c.LineSpec


class ShopifySandbox(Running):
    """A running sandbox. Options: ``limits`` (rate limits on, as Shopify; off for
    benchmarks), ``time_scale`` (webhook retry delays divided by it), ``sqlite_path``
    (state survives a restart), ``port`` (0: a free one), ``clock`` (drives the rate-limit
    buckets), ``auto_approve`` (OAuth without the approval page), ``webhook_hosts``
    (hosts deliveries may go to; None: any), ``tls`` (a certificate file and its key file:
    served over HTTPS, for clients that only call ``https://{shop}.myshopify.com``)."""

    def __init__(
        self,
        *,
        limits: bool = True,
        time_scale: float = 1.0,
        sqlite_path: Path | str | None = None,
        port: int = 0,
        clock: Clock | None = None,
        auto_approve: bool = False,
        webhook_hosts: frozenset[str] | None = LOOPBACK_HOSTS,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        options = Options(
            limits=limits,
            time_scale=time_scale,
            sqlite_path=Path(sqlite_path) if sqlite_path else None,
            auto_approve=auto_approve,
            webhook_hosts=webhook_hosts,
        )
        if clock is not None:
            options.clock = clock
        self.sandbox = Sandbox(options)
        self.control = c.Control(self.sandbox)
        self.app = create_app(self.sandbox)
        served_tls = {"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])} if tls else {}
        self._served = Served(
            self.app, port=port, name="Shopify sandbox", loop="uvloop", **served_tls
        )
        self._generators: dict[str, OrderGenerator] = {}

    # --- lifecycle ----------------------------------------------------------------------

    def stop(self) -> None:
        for generator in self._generators.values():
            generator.stop()
        self._generators.clear()
        super().stop()
        self.sandbox.close()

    def admin_url(self, version: str = LATEST_VERSION) -> str:
        return f"{self.base_url}/admin/api/{version}"

    # --- shops, apps, tokens ------------------------------------------------------------

    def create_shop(
        self,
        name: str,
        *,
        token: str | None = None,
        app_key: str = "sandbox-app",
        app_secret: str = "sandbox-secret",  # noqa: S107 - the sandbox's default
        plan: Plan | str = Plan.standard,
        scopes: Iterable[str] = ALL_SCOPES,
        currency: str = "USD",
        withhold_customer_data: bool = False,
    ) -> ShopInfo:
        spec = c.ShopSpec(
            name=name,
            plan=Plan(plan),
            currency=currency,
            token=token,
            app_key=app_key,
            app_secret=app_secret,
            scopes=list(scopes),
            withhold_customer_data=withhold_customer_data,
        )
        made = self.control.create_shop(spec)
        return ShopInfo(made["shop"], made["domain"], made["token"])

    def create_app(
        self,
        api_key: str,
        api_secret: str,
        *,
        title: str = "Sandbox app",
        auto_approve: bool = False,
    ) -> None:
        self.sandbox.create_app(api_key, api_secret, title, auto_approve)

    def issue_token(
        self,
        shop: str,
        *,
        app_key: str = "sandbox-app",
        scopes: Iterable[str] = ALL_SCOPES,
        kind: TokenKind = TokenKind.custom,
        value: str | None = None,
    ) -> str:
        return self.sandbox.issue_token(shop, app_key, scopes, kind, value).value

    def revoke_token(self, token: str) -> bool:
        return self.sandbox.revoke_token(token)

    def uninstall(self, shop: str, app_key: str = "sandbox-app") -> None:
        self.sandbox.uninstall(shop, app_key)

    def set_compliance_urls(self, app_key: str, url: str) -> None:
        """The app's compliance webhooks (all three topics) go to ``url``."""
        self.sandbox.set_compliance_urls(app_key, dict.fromkeys(compliance.TOPICS, url))

    def request_customer_data(self, shop: str, customer_id: int) -> Doc:
        return self.sandbox.request_customer_data(shop, customer_id)

    def redact_customer(self, shop: str, customer_id: int) -> Doc:
        return self.sandbox.redact_customer(shop, customer_id)

    def redact_shop(self, shop: str, app_key: str = "sandbox-app") -> Doc:
        return self.sandbox.send_compliance(
            shop, compliance.SHOP_REDACT, compliance.shop_redact, [app_key]
        )

    def set_plan(self, shop: str, plan: Plan | str) -> None:
        self.sandbox.set_plan(shop, Plan(plan))

    def withhold_customer_data(self, shop: str, withhold: bool = True) -> None:
        self.control.patch_shop(shop, c.ShopPatch(withhold_customer_data=withhold))

    # --- catalog, stock, orders ---------------------------------------------------------

    def add_location(self, shop: str, name: str, **address: Any) -> Doc:
        return self.control.add_location(shop, c.LocationSpec(name=name, **address))

    def add_product(
        self, shop: str, title: str, variants: Sequence[dict[str, Any]], **fields: Any
    ) -> Doc:
        spec = c.ProductSpec(title=title, variants=[c.VariantSpec(**v) for v in variants], **fields)
        return self.control.add_product(shop, spec)

    def add_customers(self, shop: str, customers: Sequence[dict[str, Any]]) -> list[Doc]:
        return self.control.add_customers(shop, [c.CustomerSpec(**each) for each in customers])

    def set_stock(self, shop: str, sku: str, available: int, location_id: int | None = None) -> Doc:
        return self.control.set_stock(
            shop, c.StockSpec(sku=sku, available=available, location_id=location_id)
        )

    def place_order(
        self,
        shop: str,
        lines: Sequence[Line],
        *,
        kind: c.OrderKind = "web",
        customer: dict[str, str] | None = None,
        guest: bool = False,
        location_id: int | None = None,
        shipping_address: dict[str, str] | None = None,
        shipping_price: str = "0.00",
        tags: str = "",
        placed_at: datetime | None = None,
    ) -> Doc:
        """Place an order as a customer. Without ``customer`` a default one is used;
        ``guest=True`` leaves the customer fields out entirely; ``placed_at`` places it in
        the past (default: now)."""
        specs = [
            line if isinstance(line, c.LineSpec) else c.LineSpec(sku=line[0], quantity=line[1])
            for line in lines
        ]
        who = None
        if not guest:
            who = c.CustomerSpec(
                **(
                    customer
                    or {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}
                )
            )
        address = c.AddressSpec(**shipping_address) if shipping_address else None
        if address is None and not guest and kind != "pos":
            address = c.AddressSpec(
                first_name=who.first_name if who else None,
                last_name=who.last_name if who else None,
                address1="1 Main St",
                city="Springfield",
                zip="62701",
                province="Illinois",
                province_code="IL",
            )
        spec = c.OrderSpec(
            lines=specs,
            kind=kind,
            customer=who,
            shipping_address=address,
            location_id=location_id,
            shipping_price=shipping_price,
            tags=tags,
            placed_at=placed_at,
        )
        return self.control.place_order(shop, spec)

    def advance_payment(
        self, shop: str, order_id: int, to: Literal["paid", "voided", "refunded"] = "paid"
    ) -> Doc:
        return self.control.advance_payment(shop, order_id, c.PaymentSpec(to=to))

    def hold_order(
        self, shop: str, order_id: int, reason: str = "high_risk_of_fraud", notes: str = ""
    ) -> Doc:
        """Hold the order for review (its open fulfillment orders go on hold)."""
        return self.control.hold_order(
            shop, order_id, c.HoldSpec(reason=reason, reason_notes=notes or None)
        )

    def release_hold(self, shop: str, order_id: int) -> Doc:
        """Release every hold on the order: ``fulfillment_orders/hold_released`` fires."""
        return self.control.release_order(shop, order_id)

    def state(self, shop: str) -> Doc:
        return self.control.shop_state(shop)

    # --- faults and webhooks ------------------------------------------------------------

    def inject_fault(
        self,
        shop: str,
        kind: FaultKind | str,
        *,
        count: int | None = 1,
        status: int = 500,
        latency_ms: int = 0,
        path_contains: str | None = None,
        query_contains: str | None = None,
    ) -> None:
        spec = c.FaultSpec(
            kind=FaultKind(kind),
            count=count,
            status=status,
            latency_ms=latency_ms,
            path_contains=path_contains,
            query_contains=query_contains,
        )
        self.control.add_fault(shop, spec)

    def clear_faults(self, shop: str) -> None:
        self.control.clear_faults(shop)

    def deliveries(self, shop: str | None = None) -> list[Delivery]:
        return self.sandbox.webhooks.recent(shop, limit=10_000)

    def requests(self, shop: str, path_contains: str | None = None) -> list[Recorded]:
        """The Admin API requests the shop received (REST and GraphQL), oldest first."""
        return self.sandbox.journal.recent(shop, path_contains)

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        """Block until every delivery has succeeded or given up."""
        return self.sandbox.webhooks.wait_idle(timeout)

    # --- order generator ----------------------------------------------------------------

    def start_generator(
        self, shop: str, per_minute: float = 6.0, limit: int | None = None, seed: int | None = None
    ) -> OrderGenerator:
        self.stop_generator(shop)
        generator = OrderGenerator(
            self.control, shop, GeneratorSpec(per_minute=per_minute, limit=limit, seed=seed)
        )
        self._generators[shop] = generator
        generator.start()
        return generator

    def stop_generator(self, shop: str) -> int:
        generator = self._generators.pop(shop, None)
        if generator is None:
            return 0
        generator.stop()
        return generator.placed

    def random_order(self, shop: str, seed: int | None = None) -> Doc:
        return self.control.random_order(shop, random.Random(seed))


DEMO_CATALOG: tuple[tuple[str, str, str, int], ...] = (
    ("Enamel mug", "MUG-ENAMEL", "14.00", 40),
    ("Canvas tote", "TOTE-CANVAS", "22.00", 25),
    ("Linen apron", "APRON-LINEN", "38.00", 12),
    ("Beeswax candle", "CANDLE-BEE", "18.50", 60),
    ("Walnut board", "BOARD-WALNUT", "65.00", 8),
)


def seed_demo(sandbox: ShopifySandbox | c.Control, shop: str) -> None:
    """A small catalog across two locations, for ``--seed demo`` and the demo."""
    control = sandbox.control if isinstance(sandbox, ShopifySandbox) else sandbox
    warehouse = control.add_location(shop, c.LocationSpec(name="Warehouse", city="Newark"))
    for title, sku, price, stock in DEMO_CATALOG:
        control.add_product(
            shop,
            c.ProductSpec(
                title=title,
                variants=[
                    c.VariantSpec(
                        sku=sku, price=price, available=stock, stock={warehouse["id"]: stock // 2}
                    )
                ],
            ),
        )
