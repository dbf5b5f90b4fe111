"""One sandbox: its state, rate limits, faults and webhook worker, plus the control-plane
operations (shops, apps, installs, tokens, uninstall) that the control API, the runner
and the CLI share.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from tradewind.sandbox.shopify import compliance
from tradewind.sandbox.shopify.bulk import BulkRunner
from tradewind.sandbox.shopify.faults import Faults
from tradewind.sandbox.shopify.journal import Journal
from tradewind.sandbox.shopify.ops.base import Event, ShopifyError
from tradewind.sandbox.shopify.ratelimit import Clock, Limiter
from tradewind.sandbox.shopify.service import ShopOps
from tradewind.sandbox.shopify.state import (
    ALL_SCOPES,
    PLAN_LIMITS,
    SHOP_DOMAIN_SUFFIX,
    App,
    Doc,
    Plan,
    PlanLimits,
    SandboxState,
    ShopData,
    ShopSettings,
    Sink,
    SqliteSink,
    Token,
    TokenKind,
)
from tradewind.sandbox.shopify.webhooks import LOOPBACK_HOSTS, WebhookWorker, direct_delivery

T = TypeVar("T")

API_VERSIONS: tuple[str, ...] = ("2025-07", "2025-10", "2026-01", "2026-04", "2026-07", "2026-10")
LATEST_VERSION = API_VERSIONS[-1]

# Shopify's error text, not a secret:
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"  # noqa: S105

ONLINE_TOKEN_SECONDS = 86399
EXPIRING_TOKEN_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 90 * 24 * 3600
CLIENT_CREDENTIALS_SECONDS = 86399


def resolve_version(asked: str) -> str | None:
    """Shopify serves a supported version as asked, ``unstable`` as the newest, and any
    other well-formed version with the oldest supported one ("falls forward"). A
    malformed version is not an API path at all (None: 404)."""
    if asked in API_VERSIONS:
        return asked
    if asked == "unstable":
        return "unstable"
    if len(asked) == 7 and asked[4] == "-" and asked[:4].isdigit() and asked[5:].isdigit():
        return API_VERSIONS[0]
    return None


def version_at_least(version: str, wanted: str) -> bool:
    return version == "unstable" or version >= wanted


FIRST_LOCATION = {
    "name": "Shop location",
    "address1": "1 Sandbox Way",
    "city": "New York",
    "zip": "10001",
    "province": "New York",
    "province_code": "NY",
    "country_code": "US",
}


@dataclass
class Options:
    """How a sandbox behaves. ``limits=False`` switches both rate limits off (benchmarks);
    ``time_scale`` compresses webhook retry delays; ``sqlite_path`` keeps state across
    restarts; ``clock`` drives the rate-limit buckets (inject one to make tests exact)."""

    limits: bool = True
    time_scale: float = 1.0
    sqlite_path: Path | None = None
    clock: Clock = time.monotonic
    auto_approve: bool = False
    webhook_hosts: frozenset[str] | None = LOOPBACK_HOSTS


@dataclass
class AuthCode:
    shop: str
    app_key: str
    scopes: list[str]
    online: bool
    issued: float


@dataclass
class Sandbox:
    options: Options = field(default_factory=Options)

    def __post_init__(self) -> None:
        sink: Sink = SqliteSink(self.options.sqlite_path) if self.options.sqlite_path else Sink()
        self.state = SandboxState(sink)
        self.limiter = Limiter(self.options.clock, self.options.limits)
        self.faults = Faults()
        self.journal = Journal()
        self.webhooks = WebhookWorker(
            self.state, self.faults, self.options.time_scale, self.options.webhook_hosts
        )
        self.codes: dict[str, AuthCode] = {}
        self.bulk = BulkRunner(self._next_id, self.publish, self.options.time_scale)

    # --- running operations -------------------------------------------------------------

    def shop_or_error(self, name: str) -> ShopData:
        shop = self.state.shop(name)
        if shop is None:
            raise ShopifyError(404, "Not Found")
        return shop

    def run(self, shop: str, action: Callable[[ShopOps], T], actor: str | None = None) -> T:
        """Run ``action`` on a shop under the lock, then hand its events to the worker."""
        with self.state.lock:
            ops = ShopOps(self.state, self.shop_or_error(shop), actor)
            result = action(ops)
            events = list(ops.events)
        self.publish(events)
        return result

    def publish(self, events: Iterable[Event]) -> None:
        self.webhooks.publish(list(events))

    def limits(self, shop: str) -> PlanLimits:
        return PLAN_LIMITS[self.shop_or_error(shop).settings.plan]

    # --- shops, apps, tokens ------------------------------------------------------------

    def create_shop(self, name: str, plan: Plan = Plan.standard, **settings: object) -> ShopData:
        name = name.removesuffix(SHOP_DOMAIN_SUFFIX)
        with self.state.lock:
            existing = self.state.shop(name)
            if existing is not None:
                return existing
            data = ShopData(
                ShopSettings(name=name, id=self.state.next_id(), plan=plan, **settings),  # type: ignore[arg-type]
                self.state.sink,
            )
            self.state.shops[name] = data
            data.save_settings()
            ShopOps(self.state, data).locations.add_location(FIRST_LOCATION)
            return data

    def set_plan(self, shop: str, plan: Plan) -> None:
        with self.state.lock:
            data = self.shop_or_error(shop)
            data.settings.plan = plan
            data.save_settings()
        self.limiter.reset(shop)

    def create_app(
        self, api_key: str, api_secret: str, title: str = "Sandbox app", auto_approve: bool = False
    ) -> App:
        with self.state.lock:
            app = self.state.apps.get(api_key)
            if app is None:
                app = App(api_key, api_secret, title, self.state.next_id(), auto_approve)
            else:
                app.api_secret, app.title, app.auto_approve = api_secret, title, auto_approve
            self.state.save_app(app)
            return app

    def install(self, shop: str, app_key: str) -> None:
        with self.state.lock:
            data = self.shop_or_error(shop)
            if app_key not in data.settings.installed_apps:
                data.settings.installed_apps.append(app_key)
                data.save_settings()

    def issue_token(
        self,
        shop: str,
        app_key: str,
        scopes: Iterable[str] = ALL_SCOPES,
        kind: TokenKind = TokenKind.custom,
        value: str | None = None,
    ) -> Token:
        """A new access token (the app is installed on the shop if it was not)."""
        self.install(shop, app_key)
        now = time.time()
        prefix = "shpua_" if kind is TokenKind.online else "shpat_"
        token = Token(
            value=value or prefix + secrets.token_hex(16),
            shop=shop,
            app_key=app_key,
            scopes=sorted(set(scopes)),
            kind=kind,
            created_at=now,
        )
        lifetimes = {
            TokenKind.online: ONLINE_TOKEN_SECONDS,
            TokenKind.expiring_offline: EXPIRING_TOKEN_SECONDS,
            TokenKind.client_credentials: CLIENT_CREDENTIALS_SECONDS,
        }
        if kind in lifetimes:
            token.expires_at = now + lifetimes[kind]
        if kind is TokenKind.expiring_offline:
            token.refresh_token = "shprt_" + secrets.token_hex(16)
            token.refresh_expires_at = now + REFRESH_TOKEN_SECONDS
        with self.state.lock:
            self.state.save_token(token)
        return token

    def revoke_token(self, value: str) -> bool:
        with self.state.lock:
            token = self.state.tokens.get(value)
            if token is None:
                return False
            token.revoked = True
            self.state.save_token(token)
            return True

    def tokens_of(self, shop: str, app_key: str | None = None) -> list[Token]:
        with self.state.lock:
            return [
                t
                for t in self.state.tokens.values()
                if t.shop == shop and (app_key is None or t.app_key == app_key)
            ]

    def uninstall(self, shop: str, app_key: str) -> None:
        """As Shopify: ``app/uninstalled`` goes out, then the app's tokens stop working
        and its webhook subscriptions are removed."""
        with self.state.lock:
            data = self.shop_or_error(shop)
            payload = ShopOps(self.state, data).shop_doc()
            deliveries_for = [s for s in data.subscriptions.values() if s.app_key == app_key]
        self.publish([Event(shop, "app/uninstalled", payload, app_key)])
        self.send_compliance(
            shop,
            compliance.SHOP_REDACT,
            compliance.shop_redact,
            [app_key],
            delay=compliance.SHOP_REDACT_DELAY_SECONDS,
        )
        with self.state.lock:
            for token in self.tokens_of(shop, app_key):
                token.revoked = True
                self.state.save_token(token)
            for sub in deliveries_for:
                data.subscriptions.delete(sub.id)
            if app_key in data.settings.installed_apps:
                data.settings.installed_apps.remove(app_key)
                data.save_settings()

    # --- compliance webhooks ------------------------------------------------------------

    def set_compliance_urls(self, app_key: str, urls: dict[str, str]) -> App:
        """An app's compliance URLs, as its configuration declares them."""
        with self.state.lock:
            app = self.state.apps.get(app_key)
            if app is None:
                raise ShopifyError(404, "Not Found")
            unknown = set(urls) - set(compliance.TOPICS)
            if unknown:
                raise ShopifyError(422, {"topic": [f"not a compliance topic: {sorted(unknown)}"]})
            app.compliance_urls = {topic: url for topic, url in urls.items() if url}
            self.state.save_app(app)
            return app

    def send_compliance(
        self,
        shop: str,
        topic: str,
        payload: Callable[[ShopOps], Doc],
        app_keys: list[str] | None = None,
        delay: float = 0.0,
    ) -> Doc:
        """Send ``topic`` to the compliance URL of each app (default: those installed);
        ``delay`` is in sandbox seconds. Returns the payload sent."""
        with self.state.lock:
            data = self.shop_or_error(shop)
            body = payload(ShopOps(self.state, data))
            keys = list(data.settings.installed_apps) if app_keys is None else app_keys
            deliveries = []
            for key in keys:
                app = self.state.apps.get(key)
                url = app.compliance_urls.get(topic) if app is not None else None
                if app is None or not url:
                    continue
                deliveries.append(
                    direct_delivery(
                        shop, topic, body, url, app.api_secret, data.settings.domain, LATEST_VERSION
                    )
                )
        for delivery in deliveries:
            self.webhooks.send(delivery, delay)
        return body

    def request_customer_data(self, shop: str, customer_id: int) -> Doc:
        request_id = self.state.next_id()
        return self.send_compliance(
            shop,
            compliance.DATA_REQUEST,
            lambda ops: compliance.data_request(ops, customer_id, request_id),
        )

    def redact_customer(self, shop: str, customer_id: int) -> Doc:
        return self.send_compliance(
            shop,
            compliance.CUSTOMER_REDACT,
            lambda ops: compliance.customer_redact(ops, customer_id),
        )

    def authenticate(self, value: str | None, shop_hint: str | None) -> Token:
        """The token a request carries, valid for the shop it addresses, or a 401."""
        if not value:
            raise ShopifyError(401, INVALID_TOKEN)
        with self.state.lock:
            token = self.state.tokens.get(value)
            if token is None or token.revoked:
                raise ShopifyError(401, INVALID_TOKEN)
            if shop_hint is not None and token.shop != shop_hint:
                raise ShopifyError(401, INVALID_TOKEN)
            if token.expires_at is not None and token.expires_at < time.time():
                raise ShopifyError(401, INVALID_TOKEN)
            shop = self.state.shop(token.shop)
            if shop is None or token.app_key not in shop.settings.installed_apps:
                raise ShopifyError(401, INVALID_TOKEN)
            if token.kind is TokenKind.expiring_offline:
                self._retire_previous_refresh(token)
            return token

    def _retire_previous_refresh(self, token: Token) -> None:
        # Since 2026-08-28 an old refresh token keeps working until its replacement's
        # access token is first used.
        for old, current in list(self.state.refresh_tokens.items()):
            if current == token.value and old != token.refresh_token:
                del self.state.refresh_tokens[old]

    def shop_for_host(self, host: str | None) -> str | None:
        """The shop a ``Host`` header names (``{name}.myshopify.com``), if any."""
        if not host:
            return None
        name = host.split(":", 1)[0].lower()
        if not name.endswith(SHOP_DOMAIN_SUFFIX):
            return None
        return name.removesuffix(SHOP_DOMAIN_SUFFIX)

    def shop_doc(self, shop: str) -> Doc:
        return self.run(shop, lambda ops: ops.shop_doc())

    def _next_id(self) -> int:
        with self.state.lock:
            return self.state.next_id()

    def close(self) -> None:
        self.bulk.stop()
        self.webhooks.stop()
        self.state.close()
