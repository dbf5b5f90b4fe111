"""The meaning of a template, once its shape holds: every expression compiles; the
steps, settings and events it names exist (with a "did you mean"); secrets are read
only by ``auth``; each capability it claims has the hook or pull that does it; an
output that builds its hub record with keys written out builds that record (``fit.py``).

``check`` yields (path, message); the loader adds the line and column.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass

import re2

from tradewind.connectors.capabilities import Capability
from tradewind.connectors.template.expressions import Expression, ExpressionError, Text
from tradewind.connectors.template.fit import RECORDS, misfits
from tradewind.connectors.template.format import (
    ApiKeyAuth,
    BasicAuth,
    BearerAuth,
    InboundWebhook,
    OAuth2ClientAuth,
    OAuth2CodeAuth,
    Request,
    SessionAuth,
    Template,
)

Path = tuple[str | int, ...]
Found = Iterator[tuple[Path, str]]

# The store events a hook can answer.
EVENTS = frozenset(
    {
        "order.created",
        "order.updated",
        "order.fulfilled",
        "order.cancelled",
        "shipment.rates_requested",
        "shipment.label_requested",
        "shipment.created",
        "checkout.tax_requested",
        "stock.changed",
        "product.created",
        "product.updated",
        "customer.created",
        "customer.updated",
    }
)
# Service capabilities (shipping, tax) a channel combines, beside the connector SDK's.
SERVICE_CAPABILITIES = frozenset(
    {
        "get_rates",
        "buy_label",
        "void_label",
        "track",
        "calculate_tax",
        "commit_tax",
        "refund_tax",  # part of commit_tax's plugin: a channel does not name it apart
        "push_order_for_fulfilment",
    }
)
# What each SDK capability needs in a template: (hooks, pulls).
BINDINGS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    Capability.TEST_CONNECTION: ((), ()),
    Capability.IMPORT_ORDERS: (("get_order",), ("orders",)),
    Capability.PUSH_STOCK: (("push_stock",), ()),
    Capability.RECEIVE_WEBHOOKS: ((), ()),
    Capability.IMPORT_PRODUCTS: ((), ("products",)),
    Capability.LOCATIONS: ((), ("locations",)),
    Capability.OAUTH: ((), ()),  # given by `auth.kind: oauth2_code`
}
# The record the engine reads from each bound hook or pull, whatever its `returns` says.
BOUND_RECORDS: Mapping[tuple[str, str], str] = {
    ("hooks", "get_order"): "Order",
    ("hooks", "push_stock"): "StockPushResult",
    ("pulls", "orders"): "Order",
    ("pulls", "products"): "Product",
    ("pulls", "locations"): "Location",
}


@dataclass(frozen=True)
class Scope:
    """What the expressions at one place may read."""

    steps: Collection[str] = ()  # the steps before this one
    secrets: bool = False


def check(template: Template) -> Found:
    settings = template.settings
    yield from _auth(template)
    yield from _environments(template)
    for name, setting in settings.items():
        if setting.pattern is not None:
            try:
                re2.compile(setting.pattern)
            except re2.error as exc:
                yield ("settings", name, "pattern"), f"not a regular expression: {exc}"
    plain = Scope()
    for index, rule in enumerate(template.errors):
        base: Path = ("errors", index)
        yield from _expr(template, (*base, "when"), rule.when, plain)
        yield from _expr(template, (*base, "message"), rule.message, plain)
        yield from _expr(template, (*base, "retry_after"), rule.retry_after, plain)
    probe = template.test_connection
    yield from _request(template, ("test_connection", "request"), probe.request, plain)
    yield from _expr(template, ("test_connection", "expect"), probe.expect, plain)
    yield from _expr(template, ("test_connection", "account"), probe.account, plain)
    for name in template.hooks:
        yield from _hook(template, name)
    for name, pull in template.pulls.items():
        base = ("pulls", name)
        yield from _request(template, (*base, "request"), pull.request, plain)
        yield from _expr(template, (*base, "records"), pull.records, plain)
        yield from _output(
            template, (*base, "map"), pull.map, plain, bound_record(template, ("pulls", name))
        )
        if pull.paginate is not None:
            yield from _expr(template, (*base, "paginate", "next"), pull.paginate.next, plain)
            if pull.paginate.kind == "cursor" and pull.paginate.next is None:
                yield (*base, "paginate", "next"), "a cursor pagination needs `next`"
    for name, inbound in template.inbound_webhooks.items():
        base = ("inbound_webhooks", name)
        yield from _expr(template, (*base, "subject_id"), inbound.subject_id, plain)
        yield from _expr(template, (*base, "delivery_id"), inbound.delivery_id, plain)
        verify = inbound.verify
        if verify.kind != "none":
            if verify.secret is None:
                yield (*base, "verify", "secret"), f"a {verify.kind} check needs the setting"
            elif verify.secret not in settings:
                yield (*base, "verify", "secret"), _unknown("setting", verify.secret, settings)
            elif not settings[verify.secret].secret:
                yield (*base, "verify", "secret"), f"{verify.secret!r} must be a secret setting"
        if verify.kind == "hmac" and not verify.header:
            yield (*base, "verify", "header"), "an hmac check needs the signature's header"
        yield from _fetch(template, base, inbound)
    yield from _capabilities(template)


def _auth(template: Template) -> Found:
    auth = template.auth
    scope = Scope(secrets=True)
    texts: dict[str, str] = {}
    if isinstance(auth, ApiKeyAuth | SessionAuth):
        texts["inject.value"] = auth.inject.value
        if not (auth.inject.header or auth.inject.query):
            yield ("auth", "inject"), "say where the credential goes: `header` or `query`"
    if isinstance(auth, BasicAuth):
        texts |= {"username": auth.username, "password": auth.password}
    if isinstance(auth, BearerAuth):
        texts["token"] = auth.token
    if isinstance(auth, OAuth2CodeAuth | OAuth2ClientAuth):
        texts |= {
            "token_url": auth.token_url,
            "client_id": auth.client_id,
            "client_secret": auth.client_secret,
        }
    if isinstance(auth, OAuth2CodeAuth):
        texts["authorize_url"] = auth.authorize_url
    for key, text in texts.items():
        yield from _text(template, ("auth", *key.split(".")), text, scope)
    if isinstance(auth, SessionAuth):
        yield from _request(template, ("auth", "login"), auth.login, scope)
        yield from _expr(template, ("auth", "token"), auth.token, scope)


def _environments(template: Template) -> Found:
    for name, environment in template.environments.items():
        yield from _text(
            template, ("environments", name, "base_url"), environment.base_url, Scope()
        )
    chooser = template.environment_from
    if chooser is None:
        if len(template.environments) > 1:
            yield (
                ("environment_from",),
                (
                    "with more than one environment, say which one a plugin uses "
                    "(`environment_from`)"
                ),
            )
        return
    if chooser.setting not in template.settings:
        yield (
            ("environment_from", "setting"),
            _unknown("setting", chooser.setting, template.settings),
        )
    for prefix, target in chooser.prefixes.items():
        if target not in template.environments:
            yield (
                ("environment_from", "prefixes", prefix),
                _unknown("environment", target, template.environments),
            )


def _hook(template: Template, name: str) -> Found:
    hook = template.hooks[name]
    base: Path = ("hooks", name)
    if hook.on is not None and hook.on not in EVENTS:
        yield (*base, "on"), _unknown("store event", hook.on, EVENTS)
    earlier: list[str] = []
    for index, step in enumerate(hook.steps):
        at: Path = (*base, "steps", index)
        if step.name in earlier:
            yield (*at, "name"), f"a step {step.name!r} comes earlier in this hook"
        scope = Scope(steps=tuple(earlier))
        yield from _expr(template, (*at, "when"), step.when, scope)
        yield from _expr(template, (*at, "foreach"), step.foreach, scope)
        yield from _request(template, (*at, "request"), step.request, scope)
        yield from _expr(template, (*at, "until"), step.until, Scope(steps=(*earlier, step.name)))
        earlier.append(step.name)
    yield from _output(
        template,
        (*base, "output"),
        hook.output,
        Scope(steps=tuple(earlier)),
        bound_record(template, ("hooks", name)),
    )


def _capabilities(template: Template) -> Found:
    known = {str(capability) for capability in Capability} | SERVICE_CAPABILITIES
    for index, capability in enumerate(template.capabilities):
        if capability not in known:
            yield ("capabilities", index), _unknown("capability", capability, known)
            continue
        hooks, pulls = BINDINGS.get(capability, ((capability,), ()))
        for hook in hooks:
            if hook not in template.hooks:
                yield ("capabilities", index), f"{capability} needs a hook named {hook!r}"
        for pull in pulls:
            if pull not in template.pulls:
                yield ("capabilities", index), f"{capability} needs a pull named {pull!r}"
    if Capability.RECEIVE_WEBHOOKS in template.capabilities and not template.inbound_webhooks:
        yield ("capabilities",), "receive_webhooks needs at least one of `inbound_webhooks`"
    if Capability.OAUTH in template.capabilities and not isinstance(template.auth, OAuth2CodeAuth):
        yield ("capabilities",), "oauth comes with `auth.kind: oauth2_code`, and only with it"


def _fetch(template: Template, base: Path, inbound: InboundWebhook) -> Found:
    """A shipment delivery is thin: it says where the shipments are (``fetch``), read
    with a pull that builds shipments."""
    fetch = inbound.fetch
    if fetch is None:
        if inbound.subject == "shipment":
            yield (*base, "fetch"), "a shipment delivery needs `fetch` (where to read them)"
        return
    if inbound.subject != "shipment":
        yield (*base, "fetch"), "`fetch` reads shipments: it goes with `subject: shipment`"
    yield from _expr(template, (*base, "fetch", "url"), fetch.url, Scope())
    if fetch.order_url is not None:
        yield from _text(template, (*base, "fetch", "order_url"), fetch.order_url, Scope())
    pull = template.pulls.get(fetch.pull)
    if pull is None:
        yield (*base, "fetch", "pull"), _unknown("pull", fetch.pull, template.pulls)
    elif pull.returns != "Shipment":
        yield (*base, "fetch", "pull"), f"the pull {fetch.pull!r} must return Shipment"
    for index, host in enumerate(fetch.hosts):
        if not re2.fullmatch(r"(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9-]+)+", host):
            yield (*base, "fetch", "hosts", index), f"{host!r} is not a host name"


def _request(template: Template, path: Path, request: Request, scope: Scope) -> Found:
    yield from _text(template, (*path, "path"), request.path, scope)
    for group in ("query", "headers", "form"):
        for key, value in (getattr(request, group) or {}).items():
            yield from _text(template, (*path, group, key), value, scope)
    yield from _expr(template, (*path, "body"), request.body, scope)


def bound_record(template: Template, at: tuple[str, str]) -> str:
    """The record a hook's output (or a pull's map) must build: the one its capability
    reads when it has one, else its `returns`."""
    kind, name = at
    bound = BOUND_RECORDS.get(at)
    claimed = {
        capability
        for capability in template.capabilities
        if name in BINDINGS.get(capability, ((), ()))[0 if kind == "hooks" else 1]
    }
    if bound is not None and claimed:
        return bound
    return template.hooks[name].returns if kind == "hooks" else template.pulls[name].returns


def _output(template: Template, path: Path, source: str | None, scope: Scope, record: str) -> Found:
    if source is None:
        return
    try:
        expression = Expression.compile(source)
    except ExpressionError as exc:
        yield path, f"does not compile: {exc}"
        return
    yield from _names(template, path, expression, scope)
    model = RECORDS.get(record)
    if model is None:
        return
    for misfit in misfits(expression, model):
        where = f"{misfit.within}: " if misfit.within else ""
        name = misfit.record.__name__
        if misfit.unknown is not None:
            hint = f" (did you mean {misfit.meant!r}?)" if misfit.meant else ""
            yield path, f"{where}unknown {name} field {misfit.unknown!r}{hint}"
        else:
            needed = ", ".join(repr(field) for field in misfit.missing)
            yield path, f"{where}the {name} it builds leaves out {needed} (required)"


def _text(template: Template, path: Path, source: str, scope: Scope) -> Found:
    try:
        expressions = Text.compile(source).expressions()
    except ExpressionError as exc:
        yield path, f"does not compile: {exc}"
        return
    for expression in expressions:
        yield from _names(template, path, expression, scope)


def _expr(template: Template, path: Path, source: str | None, scope: Scope) -> Found:
    if source is None:
        return
    try:
        expression = Expression.compile(source)
    except ExpressionError as exc:
        yield path, f"does not compile: {exc}"
        return
    yield from _names(template, path, expression, scope)


def _names(template: Template, path: Path, expression: Expression, scope: Scope) -> Found:
    for names in expression.names():
        root, rest = names[0], names[1:]
        if root == "secrets" and not scope.secrets:
            yield path, "only `auth` may read secrets"
        elif root == "secrets" and rest:
            yield from _setting(template, path, rest[0], secret=True)
        elif root == "settings" and rest:
            yield from _setting(template, path, rest[0], secret=False)
        elif root == "steps" and rest and rest[0] not in scope.steps:
            yield path, _unknown("step", rest[0], scope.steps)


def _setting(template: Template, path: Path, name: str, *, secret: bool) -> Found:
    setting = template.settings.get(name)
    if setting is None:
        yield path, _unknown("setting", name, template.settings)
    elif setting.secret and not secret:
        yield path, f"{name!r} is a secret: only `auth` reads it, as secrets.{name}"
    elif secret and not setting.secret:
        yield path, f"{name!r} is not a secret: read it as settings.{name}"


def _unknown(what: str, name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown {what} {name!r}{hint}"
