"""A real Vendure server for the tests: installed from npm with the committed lockfile
(``npm ci``, skipped while ``node_modules`` matches the lockfile), started on a free
127.0.0.1 port with a fresh SQLite file, and stopped by its process id.

One server serves the whole test session (``session_peer``); it is started on first use so
that ``connector_suite``'s platform (a plain context manager, not a fixture) can use it too.
Its companion plugin posts to a *switchboard*: a small ASGI server in this process that
hands each delivery to whichever Tradewind app the running test plugged in.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from filelock import FileLock

PEER = Path(__file__).with_name("peer")
IN_CI = os.environ.get("CI", "").lower() == "true"
MARKER = PEER / "node_modules" / ".tradewind-installed"
BOOT_TIMEOUT = 120.0
# The companion plugin in Vendure posts to /hooks/<this>; the e2e test's plugin gets it.
HOOK_PLUGIN_ID = 1
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"tradewind-vendure-e2e-secret-32b").decode()
CONNECTOR_PERMISSIONS = ("ReadCatalog", "UpdateCatalog", "ReadOrder", "UpdateOrder")


class PeerUnavailable(RuntimeError):
    pass


def unavailable(reason: str) -> None:
    """Skip locally with the reason; in CI the Vendure tier is mandatory."""
    if IN_CI:
        pytest.fail(f"the Vendure peer cannot run: {reason} (mandatory in CI)", pytrace=False)
    pytest.skip(f"the Vendure peer cannot run: {reason}")


# ------------------------------------------------------------------------------ install


def lock_digest() -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json", ".npmrc"):
        digest.update((PEER / name).read_bytes())
    return digest.hexdigest()


def ensure_installed() -> float:
    """``npm ci`` when node_modules is missing or was installed from another lockfile;
    returns the seconds spent (0 when cached). Serialized across processes."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise PeerUnavailable(f"`{tool}` is not on PATH (install Node.js 20+ and npm)")
    wanted = lock_digest()
    with FileLock(str(PEER / ".install.lock"), timeout=900):
        if MARKER.exists() and MARKER.read_text() == wanted:
            return 0.0
        started = time.monotonic()
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=PEER,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if done.returncode != 0:
            raise PeerUnavailable(f"npm ci failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
        MARKER.write_text(wanted)
        return time.monotonic() - started


# ------------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class VendureProcess:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    boot_seconds: float

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """SIGTERM to this pid (Vendure closes its database), SIGKILL if it hangs."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_vendure(workdir: Path, *, hooks_url: str | None, secret: str | None) -> VendureProcess:
    port = free_port()
    env = {
        **os.environ,
        "VENDURE_PORT": str(port),
        "VENDURE_DB": str(workdir / "vendure.sqlite"),
        "VENDURE_DISABLE_TELEMETRY": "true",
    }
    if hooks_url and secret:
        env |= {"TRADEWIND_HOOKS_URL": hooks_url, "TRADEWIND_WEBHOOK_SECRET": secret}
    log = workdir / "vendure.log"
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["node", str(PEER / "server.js")],
            cwd=PEER,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = VendureProcess(process, port, log, 0.0)
    while "VENDURE_READY" not in log.read_text(errors="replace"):
        if process.poll() is not None:
            raise PeerUnavailable(f"Vendure exited ({process.returncode}):\n{_tail(log)}")
        if time.monotonic() - started > BOOT_TIMEOUT:
            running.stop()
            raise PeerUnavailable(f"Vendure did not start in {BOOT_TIMEOUT:.0f} s:\n{_tail(log)}")
        time.sleep(0.1)
    running.boot_seconds = time.monotonic() - started
    return running


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


# --------------------------------------------------------------------------- switchboard


class Switchboard:
    """An ASGI app that hands requests to the app a test plugged in (404 otherwise, which
    the companion plugin takes as final), served by uvicorn on a loopback socket."""

    def __init__(self) -> None:
        self.app: Any = None
        self.received: list[str] = []
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(self, lifespan="off", log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        while not self._server.started:
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.received.append(scope["path"])
        app = self.app
        if app is None:
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await app(scope, receive, send)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


# ------------------------------------------------------------------------------ GraphQL


class Gql:
    """A GraphQL endpoint with the session token Vendure hands back in a header."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.client = httpx2.Client(base_url=url, headers=headers or {}, timeout=30.0)
        self.token: str | None = None

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        response = self.client.post(
            "", json={"query": query, "variables": variables or {}}, headers=headers
        )
        token = response.headers.get("vendure-auth-token")
        if token:
            self.token = token
        body = response.json()
        if body.get("errors"):
            raise AssertionError(f"GraphQL errors: {body['errors']}")
        data: dict[str, Any] = body["data"]
        return data

    def close(self) -> None:
        self.client.close()


def ok(value: dict[str, Any]) -> dict[str, Any]:
    """A mutation's object; an error result fails the test with Vendure's words."""
    assert "errorCode" not in value, value
    return value


# --------------------------------------------------------------------------- the store


@dataclass
class VendurePeer:
    """The running server, an admin session, and the connector's API key."""

    server: VendureProcess
    switchboard: Switchboard
    admin: Gql
    api_key: str
    default_location: str
    second_location: str
    install_seconds: float
    _products: int = 0
    _closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def settings(self, **changes: Any) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "api_key": self.api_key,
            "webhook_secret": WEBHOOK_SECRET,
            "barcode_field": "barcode",
            **changes,
        }

    def shop(self) -> Gql:
        session = Gql(f"{self.base_url}/shop-api")
        self._closers.append(session.close)
        return session

    def create_product(
        self, name: str, variants: list[tuple[str, int, int, str]]
    ) -> dict[str, str]:
        """A product with variants ``(sku, price in minor units, stock, barcode)`` at the
        default location; returns ``{sku: variant id}``."""
        self._products += 1
        slug = f"{name.lower().replace(' ', '-')}-{self._products}"
        product = self.admin(
            "mutation($in: CreateProductInput!) { createProduct(input: $in) { id } }",
            {"in": {"enabled": True, "translations": [_tr(name, slug=slug, description="")]}},
        )["createProduct"]
        option_ids: list[list[str]] = [[] for _ in variants]
        if len(variants) > 1:
            group = self.admin(
                "mutation($in: CreateProductOptionGroupInput!) {"
                " createProductOptionGroup(input: $in) { id options { id code } } }",
                {
                    "in": {
                        "code": f"size-{self._products}",
                        "translations": [_tr("Size")],
                        "options": [
                            {"code": sku.lower(), "translations": [_tr(sku.split("-")[-1])]}
                            for sku, *_ in variants
                        ],
                    }
                },
            )["createProductOptionGroup"]
            self.admin(
                "mutation($p: ID!, $g: ID!) { addOptionGroupToProduct(productId: $p,"
                " optionGroupId: $g) { id } }",
                {"p": product["id"], "g": group["id"]},
            )
            codes = {option["code"]: option["id"] for option in group["options"]}
            option_ids = [[codes[sku.lower()]] for sku, *_ in variants]
        made = self.admin(
            "mutation($in: [CreateProductVariantInput!]!) {"
            " createProductVariants(input: $in) { id sku } }",
            {
                "in": [
                    {
                        "productId": product["id"],
                        "sku": sku,
                        "price": price,
                        "stockOnHand": stock,
                        "trackInventory": "TRUE",
                        "optionIds": options,
                        "translations": [_tr(f"{name} {sku}")],
                        "customFields": {"barcode": barcode or None},
                    }
                    for (sku, price, stock, barcode), options in zip(
                        variants, option_ids, strict=True
                    )
                ]
            },
        )["createProductVariants"]
        return {variant["sku"]: variant["id"] for variant in made}

    def stock(self, variant_id: str) -> dict[str, tuple[int, int]]:
        """``{location id: (on hand, allocated)}`` as Vendure holds it now."""
        levels = self.admin(
            "query($id: ID!) { productVariant(id: $id) {"
            " stockLevels { stockLocationId stockOnHand stockAllocated } } }",
            {"id": variant_id},
        )["productVariant"]["stockLevels"]
        return {
            str(level["stockLocationId"]): (level["stockOnHand"], level["stockAllocated"])
            for level in levels
        }

    def saleable(self, variant_id: str) -> int:
        """What Vendure can sell: on hand − allocated over all locations − its threshold."""
        return sum(on_hand - allocated for on_hand, allocated in self.stock(variant_id).values())

    def place_order(self, lines: list[tuple[str, int]], email: str) -> dict[str, Any]:
        """A customer checks out through the Shop API and pays (settled)."""
        shop = self.shop()
        for variant_id, quantity in lines:
            ok(
                shop(
                    "mutation($v: ID!, $q: Int!) { addItemToOrder(productVariantId: $v,"
                    " quantity: $q) { ... on Order { id } ... on ErrorResult { errorCode message } } }",
                    {"v": variant_id, "q": quantity},
                )["addItemToOrder"]
            )
        first, last = email.split("@")[0].capitalize(), "Buyer"
        ok(
            shop(
                "mutation($in: CreateCustomerInput!) { setCustomerForOrder(input: $in) {"
                " ... on Order { id } ... on ErrorResult { errorCode message } } }",
                {"in": {"emailAddress": email, "firstName": first, "lastName": last}},
            )["setCustomerForOrder"]
        )
        ok(
            shop(
                "mutation($in: CreateAddressInput!) { setOrderShippingAddress(input: $in) {"
                " ... on Order { id } ... on ErrorResult { errorCode message } } }",
                {
                    "in": {
                        "fullName": f"{first} {last}",
                        "streetLine1": "1 Harbour Street",
                        "city": "London",
                        "postalCode": "N1 1AA",
                        "countryCode": "GB",
                        "phoneNumber": "+44 20 7946 0000",
                    }
                },
            )["setOrderShippingAddress"]
        )
        method = shop("{ eligibleShippingMethods { id } }")["eligibleShippingMethods"][0]["id"]
        ok(
            shop(
                "mutation($m: [ID!]!) { setOrderShippingMethod(shippingMethodId: $m) {"
                " ... on Order { id } ... on ErrorResult { errorCode message } } }",
                {"m": [method]},
            )["setOrderShippingMethod"]
        )
        ok(
            shop(
                'mutation { transitionOrderToState(state: "ArrangingPayment") {'
                " ... on Order { id } ... on OrderStateTransitionError { errorCode message } } }"
            )["transitionOrderToState"]
        )
        return ok(
            shop(
                'mutation { addPaymentToOrder(input: {method: "standard-payment", metadata: {}}) {'
                " ... on Order { id code state } ... on ErrorResult { errorCode message } } }"
            )["addPaymentToOrder"]
        )

    def cancel_order(self, order_id: str, reason: str) -> dict[str, Any]:
        return ok(
            self.admin(
                "mutation($in: CancelOrderInput!) { cancelOrder(input: $in) {"
                " ... on Order { id state } ... on ErrorResult { errorCode message } } }",
                {"in": {"orderId": order_id, "reason": reason, "cancelShipping": True}},
            )["cancelOrder"]
        )

    def close(self) -> None:
        for close in self._closers:
            close()
        self.admin.close()
        self.server.stop()
        self.switchboard.stop()


def _tr(name: str, **extra: str) -> dict[str, str]:
    return {"languageCode": "en", "name": name, **extra}


def _setup(server: VendureProcess, switchboard: Switchboard, install: float) -> VendurePeer:
    """What a merchant does once: a role with the connector's permissions, an API key for
    it, and a second stock location (left unmapped by the tests)."""
    admin = Gql(f"{server.base_url}/admin-api")
    ok(
        admin(
            'mutation { login(username: "superadmin", password: "superadmin") {'
            " ... on CurrentUser { id } ... on ErrorResult { errorCode message } } }"
        )["login"]
    )
    role = admin(
        "mutation($in: CreateRoleInput!) { createRole(input: $in) { id } }",
        {
            "in": {
                "code": "tradewind",
                "description": "Tradewind hub",
                "permissions": list(CONNECTOR_PERMISSIONS),
            }
        },
    )["createRole"]
    key = admin(
        "mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { apiKey } }",
        {"in": {"roleIds": [role["id"]], "translations": [_tr("Tradewind")]}},
    )["createApiKey"]["apiKey"]
    locations = admin("{ stockLocations { items { id } } }")["stockLocations"]["items"]
    second = admin(
        "mutation($in: CreateStockLocationInput!) { createStockLocation(input: $in) { id } }",
        {"in": {"name": "Popup store", "description": "not mapped in Tradewind"}},
    )["createStockLocation"]
    return VendurePeer(
        server=server,
        switchboard=switchboard,
        admin=admin,
        api_key=key,
        default_location=str(locations[0]["id"]),
        second_location=str(second["id"]),
        install_seconds=install,
    )


_PEER: VendurePeer | None = None
_FAILED: str | None = None
_LOCK = threading.Lock()


def session_peer() -> VendurePeer:
    """The session's Vendure, started on first use (skips or fails when it cannot run)."""
    global _PEER, _FAILED
    with _LOCK:
        if _PEER is None and _FAILED is None:
            try:
                _PEER = _boot()
            except PeerUnavailable as exc:
                _FAILED = str(exc)
        if _PEER is None:
            unavailable(_FAILED or "unknown")
        assert _PEER is not None
        return _PEER


def _boot() -> VendurePeer:
    install = ensure_installed()
    workdir = Path(tempfile.mkdtemp(prefix="tradewind-vendure-"))
    switchboard = Switchboard()
    try:
        server = start_vendure(
            workdir,
            hooks_url=f"{switchboard.url}/hooks/{HOOK_PLUGIN_ID}",
            secret=WEBHOOK_SECRET,
        )
    except BaseException:
        switchboard.stop()
        raise
    try:
        peer = _setup(server, switchboard, install)
    except BaseException:
        server.stop()
        switchboard.stop()
        raise
    atexit.register(stop_session_peer)
    return peer


def stop_session_peer() -> None:
    global _PEER
    with _LOCK:
        if _PEER is not None:
            _PEER.close()
            shutil.rmtree(_PEER.server.log.parent, ignore_errors=True)
            _PEER = None
