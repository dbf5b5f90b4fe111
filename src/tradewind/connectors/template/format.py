"""The template format, ``tradewind-template/v1``: what each key means is in
``docs/templates.md``; the JSON Schema editors use is generated from these models
(``schema.py``). Every object refuses keys it does not know.

Strings marked ``Expr`` are whole JSONata expressions; strings marked ``Text`` may hold
``{{ expression }}`` parts. Durations are seconds.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA = "tradewind-template/v1"
NAME = r"^[a-z][a-z0-9_]{0,63}$"
SEMVER = r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$"

Expr = Annotated[
    str,
    Field(min_length=1, max_length=4096, json_schema_extra={"x-tradewind": "jsonata"}),
]
Text = Annotated[str, Field(max_length=4096, json_schema_extra={"x-tradewind": "text"})]
Seconds = Annotated[float, Field(gt=0, le=3600)]
Category = Literal["shipping", "tax", "storefront", "marketplace", "accounting", "custom"]
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
ErrorKind = Literal["AuthFailed", "RateLimited", "Unavailable", "Rejected"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Limits(Model):
    """The platform's request limit, as a leaky bucket every process shares for the
    account: ``burst`` requests at once, refilled at ``per_second``."""

    burst: int = Field(default=40, ge=1, le=10_000)
    per_second: float = Field(default=10, gt=0, le=10_000)


class Environment(Model):
    # Where its API is; it may name settings ("https://{{ settings.shop }}.example.com").
    base_url: Text = Field(pattern=r"^(https?://|\{\{)")
    # Its own limit, in place of the template's (test keys often get a smaller one).
    limits: Limits | None = None


class EnvironmentFrom(Model):
    """Which environment a plugin uses: the value of a setting, or the prefix of one
    (``sk_test_…`` → test)."""

    setting: str
    prefixes: dict[str, str] = Field(default_factory=dict)


class Setting(Model):
    type: Literal["string", "integer", "number", "boolean"] = "string"
    title: str = ""
    description: str = ""
    secret: bool = False  # stored encrypted, never shown again, only ``auth`` reads it
    required: bool = True  # unless it has a default
    default: str | int | float | bool | None = None
    enum: list[str | int] | None = None
    pattern: str | None = None  # RE2 syntax
    minimum: float | None = None
    maximum: float | None = None


class Inject(Model):
    """Where a credential goes on every request: a header or a query parameter."""

    header: str | None = None
    query: str | None = None
    value: Text


class ApiKeyAuth(Model):
    kind: Literal["api_key"]
    inject: Inject


class BasicAuth(Model):
    kind: Literal["basic"]
    username: Text
    password: Text = ""


class BearerAuth(Model):
    kind: Literal["bearer"]
    token: Text


class NoAuth(Model):
    kind: Literal["none"]


class Refresh(Model):
    margin: Seconds = 300  # refresh this long before the token expires
    rotate_refresh_token: bool = True  # a new refresh token in the answer replaces the old


class OAuth2CodeAuth(Model):
    kind: Literal["oauth2_code"]
    authorize_url: Text
    token_url: Text
    scopes: list[str] = Field(default_factory=list)
    pkce: bool = True
    client_id: Text
    client_secret: Text = ""
    client_auth: Literal["basic", "body"] = "body"
    refresh: Refresh = Refresh()


class OAuth2ClientAuth(Model):
    kind: Literal["oauth2_client_credentials"]
    token_url: Text
    scopes: list[str] = Field(default_factory=list)
    client_id: Text
    client_secret: Text
    client_auth: Literal["basic", "body"] = "body"
    refresh: Refresh = Refresh()


class Request(Model):
    method: Method = "GET"
    path: Text  # joined to the environment's base URL
    query: dict[str, Text] = Field(default_factory=dict)
    headers: dict[str, Text] = Field(default_factory=dict)
    body: Expr | None = None  # a JSON body
    form: dict[str, Text] | None = None  # a form body
    # How much of ``limits`` it takes; 0: none (the service counts it under another,
    # far larger limit, such as the reads a poll makes).
    cost: float = Field(default=1, ge=0, le=100)


class SessionAuth(Model):
    """A login request whose answer holds a token used on every later request."""

    kind: Literal["session_token"]
    login: Request
    token: Expr  # over the login's ``status``, ``headers``, ``body``
    expires_in: Seconds = 3600
    inject: Inject  # ``token`` is the session token here


Auth = Annotated[
    ApiKeyAuth | BasicAuth | BearerAuth | NoAuth | OAuth2CodeAuth | OAuth2ClientAuth | SessionAuth,
    Field(discriminator="kind"),
]


class Defaults(Model):
    headers: dict[str, Text] = Field(default_factory=dict)
    timeout: Seconds = 20


class ErrorRule(Model):
    """A response that means one of the four typed errors (first match wins; what no
    rule matches follows HTTP: 401/403 auth, 429 rate limited, 5xx unavailable, other
    4xx rejected)."""

    when: Expr  # over ``status``, ``headers``, ``body``
    raise_: ErrorKind = Field(alias="raise")
    message: Expr | None = None
    retry_after: Expr | None = None  # seconds; default: the Retry-After header


class Probe(Model):
    """Test connection: one request and what a working answer looks like."""

    request: Request
    expect: Expr = "status >= 200 and status < 300"
    account: Expr | None = None  # the account it reached, shown to the merchant


class Poll(Model):
    interval: Seconds = 2
    max: Seconds = 60


class Step(Model):
    name: str = Field(pattern=NAME)
    when: Expr | None = None  # skipped unless true
    foreach: Expr | None = None  # the request once per item (``item``), up to ``max_items``
    max_items: int = Field(default=50, ge=1, le=200)
    until: Expr | None = None  # repeated (with ``poll``) until true
    poll: Poll = Poll()
    accept_status: list[Annotated[int, Field(ge=100, le=599)]] = Field(default_factory=list)
    request: Request


Record = Literal[
    "Order",
    "OrderList",
    "StockPush",
    "StockPushResult",
    "ConnectionReport",
    "ShipmentRequest",
    "Rates",
    "LabelRequest",
    "Label",
    "Tracking",
    "TaxRequest",
    "Tax",
    "FulfilmentOrder",
    "Json",
]


class Hook(Model):
    """A named action: its steps run in order, each reading earlier ones as
    ``steps.<name>.{request,status,headers,body}``; ``output`` maps them onto ``returns``."""

    on: str | None = None  # the store event it answers; none: run on demand
    description: str = ""
    input: Record = "Json"
    steps: list[Step] = Field(min_length=1, max_length=10)
    output: Expr | None = None
    returns: Record = "Json"


class Paginate(Model):
    kind: Literal["cursor", "page", "offset", "link"]
    param: str = "page"  # the query parameter that takes the cursor, page or offset
    next: Expr | None = None  # cursor: the next cursor from the response (none: done)
    size: int = Field(default=50, ge=1, le=1000)
    size_param: str | None = None  # page and offset: the query parameter of the page size
    start: int = 1  # page: the first page number (offset: 0)


class Incremental(Model):
    """Read only what changed since: ``param`` takes the window's start (ISO 8601)."""

    param: str
    until_param: str | None = None


class Pull(Model):
    """A paged read mapped to hub records."""

    request: Request
    records: Expr  # the list of raw records in a response
    map: Expr  # one raw record (``record``) → the hub record
    returns: Literal["Order", "Product", "Customer", "Location", "Shipment"]
    paginate: Paginate | None = None
    incremental: Incremental | None = None


class Verify(Model):
    kind: Literal["hmac", "url_token", "none"]
    header: str | None = None  # hmac: the header with the signature
    secret: str | None = None  # the setting that holds the shared secret (or the token)
    param: str = Field(default="token", min_length=1)  # url_token: the query parameter
    algorithm: Literal["sha256", "sha1", "sha512"] = "sha256"
    encoding: Literal["base64", "hex"] = "base64"
    prefix: str = ""  # written before the signature in the header ("sha256=")


class Fetch(Model):
    """A thin delivery that only points at what changed: the hub GETs ``url`` (with the
    plugin's credentials, through the outbound address policy) and reads the answer with
    the pull ``pull``. The URL must be on the API's own host or one of ``hosts``
    (``*.example.com`` takes any subdomain), over https unless the API itself is http."""

    url: Expr  # over ``headers`` and ``body``
    pull: str = Field(pattern=NAME)
    hosts: list[str] = Field(default_factory=list, max_length=10)
    # Where one handed order's shipments are (a path below the API, over ``order.reference``
    # and ``order.external_id``): the engine's hourly poll reads it with the same pull.
    order_url: Text | None = None


class InboundWebhook(Model):
    verify: Verify
    subject: Literal["order", "inventory", "customer", "product", "tracking", "shipment", "app"]
    subject_id: Expr  # over ``headers`` and ``body``
    delivery_id: Expr | None = None  # default: a digest of the body
    fetch: Fetch | None = None  # ``subject: shipment``: where the shipments are read


class Template(Model):
    schema_: Literal["tradewind-template/v1"] = Field(alias="schema")
    id: str = Field(pattern=NAME)
    version: str = Field(pattern=SEMVER)
    display_name: str = Field(min_length=1, max_length=80)
    description: str = ""
    category: Category
    capabilities: list[str] = Field(default_factory=list)
    environments: dict[str, Environment] = Field(min_length=1)
    environment_from: EnvironmentFrom | None = None
    settings: dict[str, Setting] = Field(default_factory=dict)
    auth: Auth
    defaults: Defaults = Defaults()
    limits: Limits = Limits()
    errors: list[ErrorRule] = Field(default_factory=list)
    test_connection: Probe
    hooks: dict[str, Hook] = Field(default_factory=dict)
    inbound_webhooks: dict[str, InboundWebhook] = Field(default_factory=dict)
    pulls: dict[str, Pull] = Field(default_factory=dict)
    guide: str = ""  # the Integration Guide, Markdown
