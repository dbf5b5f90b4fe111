"""A template as a connector type: a class made from the template, registered next to
the Python connectors, whose plugins are plugins like any other (channels, toggles where
its capabilities allow them, executions, notifications, rate budgets, the failure
policy). Each capability it claims is a hook or a pull of the template (``checks.py``
``BINDINGS``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal, TypeVar

import httpx2
from pydantic import BaseModel, Field, SecretStr, ValidationError, create_model

from tradewind.connectors.base import ConnectorContext, ConnectorInfo, WebhookHeaders
from tradewind.connectors.capabilities import TOGGLE_CAPABILITIES, Capability
from tradewind.connectors.errors import Rejected
from tradewind.connectors.http import HttpClient
from tradewind.connectors.ratelimit import BucketPolicy, Priority
from tradewind.connectors.records import (
    ConnectionReport,
    LocationRecord,
    OrderQuery,
    OrderRecord,
    Page,
    ProductRecord,
    StockPush,
    StockPushResult,
    WebhookEvent,
)
from tradewind.connectors.services import ShippedRecord
from tradewind.connectors.template import auth as template_auth
from tradewind.connectors.template.auth import TokenStore
from tradewind.connectors.template.checks import BINDINGS, SERVICE_CAPABILITIES
from tradewind.connectors.template.format import (
    Fetch,
    OAuth2ClientAuth,
    OAuth2CodeAuth,
    SessionAuth,
    Setting,
    Template,
    Verify,
)
from tradewind.connectors.template.runtime import Compiled, Run, Runner
from tradewind.connectors.template.services import SERVICE_MIXINS
from tradewind.vocabulary import StockMode, Toggle

MAX_LOCATION_PAGES = 20  # a loop guard: a store with more locations is a broken pull
_TYPES: Mapping[str, type] = {"string": str, "integer": int, "number": float, "boolean": bool}


def policy_of(template: Template, environment: str) -> BucketPolicy:
    """The bucket the template's ``limits`` describe (or the environment's own), shared
    by every process on the account like any connector's."""
    own = template.environments[environment].limits
    limits = own or template.limits
    return BucketPolicy(
        name=f"template:{template.id}" + (f":{environment}" if own else ""),
        capacity=limits.burst,
        leak_per_second=limits.per_second,
    )


def settings_model(template: Template) -> type[BaseModel]:
    """The plugin settings form of ``template``: secrets are ``SecretStr`` (stored
    encrypted, never shown again)."""
    fields: dict[str, Any] = {}
    for name, setting in template.settings.items():
        fields[name] = _field(setting)
    model: type[BaseModel] = create_model(f"{template.id.title()}Settings", **fields)
    return model


def _field(setting: Setting) -> tuple[Any, Any]:
    kind: Any = SecretStr if setting.secret else _TYPES[setting.type]
    if setting.enum:
        kind = Literal[tuple(setting.enum)]
    constraints: dict[str, Any] = {"title": setting.title or None}
    if setting.description:
        constraints["description"] = setting.description
    if setting.pattern and not setting.secret:
        constraints["pattern"] = setting.pattern
    if setting.minimum is not None:
        constraints["ge"] = setting.minimum
    if setting.maximum is not None:
        constraints["le"] = setting.maximum
    if setting.default is not None:
        return kind, Field(default=setting.default, **constraints)
    if not setting.required:
        return kind | None, Field(default=None, **constraints)
    return kind, Field(**constraints)


class TemplateConnector:
    """What every template's class shares; ``connector_class`` adds the capabilities."""

    info: ClassVar[ConnectorInfo]
    template: ClassVar[Template]
    compiled: ClassVar[Compiled]
    stock_batch_size = 100

    def __init__(self, settings: BaseModel, context: ConnectorContext) -> None:
        values = settings.model_dump()
        secrets = {
            name: value.get_secret_value()
            for name, value in values.items()
            if isinstance(value, SecretStr)
        }
        plain = {name: value for name, value in values.items() if not isinstance(value, SecretStr)}
        environment = self._environment(plain, secrets)
        base_url = self.compiled.text(self.template.environments[environment].base_url).render(
            {"settings": plain}
        )
        if not base_url.startswith(("https://", "http://")):
            raise ValueError(f"the API address {base_url!r} is not an http(s) URL")
        self.http = HttpClient(
            base_url,
            transport=context.transport,
            budget=context.budget(policy_of(self.template, environment)),
            recorder=context.recorder,
            outbound=context.outbound,
        )
        auth = self.template.auth
        tokens = None
        if isinstance(auth, OAuth2CodeAuth | OAuth2ClientAuth):
            tokens = TokenStore(context.credentials, auth.refresh.margin)
        elif isinstance(auth, SessionAuth):
            tokens = TokenStore(context.credentials, 60.0)
        self.runner = Runner(
            self.template,
            settings=plain,
            secrets=secrets,
            client=self.http,
            environment=environment,
            tokens=tokens,
            compiled=self.compiled,
        )

    @classmethod
    def _environment(cls, plain: Mapping[str, Any], secrets: Mapping[str, str]) -> str:
        chooser = cls.template.environment_from
        names = list(cls.template.environments)
        if chooser is None:
            return names[0]
        value = str(plain.get(chooser.setting) or secrets.get(chooser.setting) or "")
        for prefix, environment in chooser.prefixes.items():
            if value.startswith(prefix):
                return environment
        return value if value in cls.template.environments else names[0]

    def close(self) -> None:
        self.http.close()

    def test_connection(
        self, toggles: frozenset[Toggle], uses: frozenset[Capability]
    ) -> ConnectionReport:
        probe = self.template.test_connection
        # Wrong credentials raise AuthFailed, as for any connector: the engine says so.
        answer = self.runner.send("test_connection", probe.request, self.runner.base())
        view = answer.view()
        if not self.compiled.expr(probe.expect).evaluate(view):
            return ConnectionReport(
                ok=False,
                detail=f"the answer (HTTP {answer.status}) is not what the template expects",
            )
        account = self.compiled.expr(probe.account).evaluate(view) if probe.account else ""
        return ConnectionReport(ok=True, account=str(account or ""))

    @classmethod
    def hooks_for(cls, event: str) -> list[str]:
        """The hooks the engine runs when store ``event`` happens: those bound to it,
        except the ones a capability calls itself (``push_stock`` on a stock change)."""
        called = {hook for hooks, _ in BINDINGS.values() for hook in hooks}
        return [
            name
            for name, hook in cls.template.hooks.items()
            if hook.on == event and name not in called and name not in SERVICE_CAPABILITIES
        ]

    def run_hook(self, name: str, input: Any, priority: Priority = Priority.LIVE) -> Run:
        """Run one of the template's hooks (a service capability, or on demand)."""
        if name not in self.template.hooks:
            raise Rejected(f"the template {self.template.id} has no hook {name!r}")
        return self.runner.run_hook(name, input, priority=priority)


class _ImportsOrders:
    runner: Runner
    template: ClassVar[Template]

    def list_orders(
        self, query: OrderQuery, cursor: str | None, priority: Priority
    ) -> Page[OrderRecord]:
        page = self.runner.pull(
            "orders",
            cursor=cursor,
            since=query.since,
            until=query.until,
            by=query.field,
            priority=priority,
        )
        records, refused = _fitting(OrderRecord, page.records, "an order")
        return Page(
            records=records, next_cursor=page.next_cursor, skipped=(*page.skipped, *refused)
        )

    def get_order(self, external_id: str) -> OrderRecord | None:
        output = self.runner.run_hook("get_order", {"id": external_id}).output
        if output is None:
            return None
        order: OrderRecord = _one(OrderRecord, output, "get_order")
        return order


class _ImportsProducts:
    runner: Runner

    def list_products(self, cursor: str | None, priority: Priority) -> Page[ProductRecord]:
        page = self.runner.pull("products", cursor=cursor, priority=priority)
        records, refused = _fitting(ProductRecord, page.records, "a product")
        return Page(
            records=records, next_cursor=page.next_cursor, skipped=(*page.skipped, *refused)
        )


class _ListsLocations:
    runner: Runner

    def list_locations(self) -> list[LocationRecord]:
        """Every page of the ``locations`` pull (a store has few locations)."""
        rows: list[Any] = []
        cursor: str | None = None
        for _ in range(MAX_LOCATION_PAGES):
            page = self.runner.pull("locations", cursor=cursor, priority=Priority.LIVE)
            rows.extend(page.records)
            cursor = page.next_cursor
            if cursor is None:
                break
        return [_one(LocationRecord, row, "locations") for row in rows]


class _PushesStock:
    runner: Runner

    def push_stock(self, pushes: Sequence[StockPush], mode: StockMode) -> list[StockPushResult]:
        input = {"pushes": [push.model_dump(mode="json") for push in pushes], "mode": mode.value}
        output = self.runner.run_hook("push_stock", input).output
        rows = output if isinstance(output, list) else [] if output is None else [output]
        return [_one(StockPushResult, row, "push_stock") for row in rows]


class _ReceivesWebhooks:
    """Deliveries posted to ``/hooks/{plugin}/{name}``: ``name`` is one of the template's
    ``inbound_webhooks``, each checked by an HMAC of the body or a token in the URL
    (``url_token``), both compared in constant time."""

    runner: Runner
    template: ClassVar[Template]

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        lowered = {key.lower(): value for key, value in headers.items()}
        query = headers.query if isinstance(headers, WebhookHeaders) else {}
        for inbound in self.template.inbound_webhooks.values():
            verify = inbound.verify
            if verify.kind == "none":
                return True
            secret = self.runner.secrets.get(verify.secret or "", "")
            if verify.kind == "url_token":
                sent = query.get(verify.param, "")
                if secret and sent and hmac.compare_digest(secret.encode(), sent.encode()):
                    return True
                continue
            sent = lowered.get((verify.header or "").lower(), "")
            if secret and sent and _signed(verify, secret, body, sent):
                return True
        return False

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        inbound = self.template.inbound_webhooks.get(topic)
        if inbound is None:
            known = ", ".join(self.template.inbound_webhooks)
            raise Rejected(f"no inbound webhook {topic!r} in the template (it has: {known})")
        try:
            payload = json.loads(body) if body else None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise Rejected(f"the body is not JSON: {exc}") from None
        view = {"headers": {k.lower(): v for k, v in headers.items()}, "body": payload}
        subject_id = self.compiled.expr(inbound.subject_id).evaluate(view)
        delivery = (
            self.compiled.expr(inbound.delivery_id).evaluate(view)
            if inbound.delivery_id
            else hashlib.sha256(body).hexdigest()
        )
        return WebhookEvent(
            delivery_id=str(delivery or hashlib.sha256(body).hexdigest()),
            topic=topic,
            subject=inbound.subject,
            subject_id="" if subject_id is None else str(subject_id),
        )

    compiled: ClassVar[Compiled]


class _ReportsShipments:
    """A thin shipment delivery (``fetch``): the URL it names is read only where the
    template says the service answers — the API's own host or one of ``fetch.hosts`` —
    so a forged or stray delivery cannot make the hub send the plugin's credentials
    elsewhere; the outbound address policy still applies to the request."""

    runner: Runner
    template: ClassVar[Template]

    def shipments_at(self, webhook: str, resource: str) -> Page[ShippedRecord]:
        inbound = self.template.inbound_webhooks.get(webhook)
        if inbound is None or inbound.fetch is None:
            raise Rejected(f"the template's webhook {webhook!r} does not point at shipments")
        return _read_shipments(self.runner, webhook, inbound.fetch, resource)


def _read_shipments(runner: Runner, webhook: str, fetch: Fetch, url: str) -> Page[ShippedRecord]:
    refused = refused_fetch(url, runner.client.base_url, fetch.hosts)
    if refused:
        raise Rejected(f"{webhook}: {refused}; not read")
    page = runner.fetch(fetch.pull, url)
    records, refused_rows = _fitting(ShippedRecord, page.records, "a shipment")
    return Page(records=records, next_cursor=None, skipped=(*page.skipped, *refused_rows))


class _ListsShipments:
    """``fetch.order_url``: where one handed order's shipments are, read with the same
    pull by the engine's poll (the safety net under a lost notice)."""

    runner: Runner
    template: ClassVar[Template]

    def shipments_of(self, reference: str, external_id: str) -> Page[ShippedRecord]:
        for name, inbound in self.template.inbound_webhooks.items():
            fetch = inbound.fetch
            if fetch is None or fetch.order_url is None:
                continue
            data = self.runner.base(order={"reference": reference, "external_id": external_id})
            at = self.runner.compiled.text(fetch.order_url).render(data)
            url = (
                at
                if "://" in at
                else self.runner.client.base_url.rstrip("/") + "/" + at.lstrip("/")
            )
            return _read_shipments(self.runner, name, fetch, url)
        raise Rejected("the template says nowhere where one order's shipments are")


def refused_fetch(url: str, base_url: str, hosts: Sequence[str]) -> str:
    """Why ``url`` may not be read with the plugin's credentials ("" if it may)."""
    try:
        target, base = httpx2.URL(url), httpx2.URL(base_url)
    except (httpx2.InvalidURL, TypeError):
        return f"{url[:200]!r} is not a URL"
    if target.scheme != "https" and not (target.scheme == base.scheme == "http"):
        return f"{target.scheme or 'no'} scheme in {url[:200]!r}, https is needed"
    host = target.host.lower()
    if (host, target.port) == (base.host.lower(), base.port):
        return ""
    for allowed in hosts:
        wanted = allowed.lower()
        if wanted.startswith("*.") and host.endswith(wanted[1:]) and target.port is None:
            return ""
        if host == wanted and target.port is None:
            return ""
    return f"{host} is not the service's host ({base.host})"


class _Authorizes:
    """``auth.kind: oauth2_code``: the hub's Authorize / Reauthorize flow (``Authorizes``),
    an authorization code grant with PKCE whose tokens the runner then uses and refreshes."""

    runner: Runner

    def authorization_url(self, state: str, redirect_uri: str) -> str:
        return template_auth.authorization_url(self.runner, state, redirect_uri)

    def complete_authorization(self, params: Mapping[str, str], redirect_uri: str) -> None:
        template_auth.complete_authorization(self.runner, params, redirect_uri)


def _signed(verify: Verify, secret: str, body: bytes, sent: str) -> bool:
    digest = hmac.new(secret.encode(), body, verify.algorithm).digest()
    expected = digest.hex() if verify.encoding == "hex" else base64.b64encode(digest).decode()
    return hmac.compare_digest(verify.prefix + expected, sent.strip())


_MIXINS: Mapping[Capability, type] = {
    Capability.RECEIVE_WEBHOOKS: _ReceivesWebhooks,
    Capability.IMPORT_ORDERS: _ImportsOrders,
    Capability.PUSH_STOCK: _PushesStock,
    Capability.IMPORT_PRODUCTS: _ImportsProducts,
    Capability.LOCATIONS: _ListsLocations,
    Capability.OAUTH: _Authorizes,
}


def connector_class(template: Template) -> type[TemplateConnector]:
    """The connector type of ``template`` (its key is the template's id)."""
    capabilities = {Capability.TEST_CONNECTION} | {
        Capability(name) for name in template.capabilities if name in set(Capability)
    }
    # OAuth is the auth kind's to give: the hub sends merchants to a platform only for
    # a template that can take them there and back.
    capabilities.discard(Capability.OAUTH)
    if isinstance(template.auth, OAuth2CodeAuth):
        capabilities.add(Capability.OAUTH)
    toggles = frozenset(
        toggle for toggle, needed in TOGGLE_CAPABILITIES.items() if needed <= capabilities
    )
    unsupported = {
        toggle: f"the {template.display_name} template does not do this"
        for toggle in Toggle
        if toggle not in toggles
    }
    info = ConnectorInfo(
        key=template.id,
        name=template.display_name,
        version=template.version,
        settings=settings_model(template),
        toggles=toggles,
        unsupported=unsupported,
        capabilities=frozenset(capabilities),
        guide=template.guide,
        stock_modes=frozenset({StockMode.OFF, StockMode.ABSOLUTE}),
    )
    bases = tuple(mixin for capability, mixin in _MIXINS.items() if capability in capabilities)
    bases += tuple(mixin for name, mixin in SERVICE_MIXINS.items() if name in template.capabilities)
    if any(inbound.fetch for inbound in template.inbound_webhooks.values()):
        bases += (_ReportsShipments,)
    if any(
        inbound.fetch and inbound.fetch.order_url for inbound in template.inbound_webhooks.values()
    ):
        bases += (_ListsShipments,)
    return type(
        f"{template.id.title().replace('_', '')}Template",
        (*bases, TemplateConnector),
        {"info": info, "template": template, "compiled": Compiled()},
    )


_R = TypeVar("_R", bound=BaseModel)


def _fitting(
    model: type[_R], rows: Sequence[Any], what: str
) -> tuple[list[_R], list[tuple[str, str]]]:
    """The mapped rows that fit ``model``, and (id, reason) of those that do not: one bad
    record never blocks the page."""
    records: list[_R] = []
    refused: list[tuple[str, str]] = []
    for row in rows:
        try:
            records.append(model.model_validate(row))
        except ValidationError as exc:
            ident = row.get("external_id", "?") if isinstance(row, dict) else "?"
            refused.append((str(ident), f"the mapping does not fit {what}: {_why(exc)}"))
    return records, refused


def _one(model: type[Any], row: Any, hook: str) -> Any:
    try:
        return model.model_validate(row)
    except ValidationError as exc:
        raise Rejected(f"{hook}: the output does not fit a {model.__name__}: {_why(exc)}") from None


def _why(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()[:5]
    )
