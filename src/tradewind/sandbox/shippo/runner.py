"""An in-process Shippo sandbox for tests and demos: uvicorn in a background thread on
127.0.0.1, plus Python methods mirroring the control API.

    with ShippoSandbox() as sandbox:
        token = sandbox.add_token()                  # shippo_test_…
        client = shippo.Shippo(api_key_header=token, server_url=sandbox.base_url)
"""

from __future__ import annotations

from collections.abc import Callable

from tradewind.sandbox.serving import Running, Served
from tradewind.sandbox.shippo.app import create_app
from tradewind.sandbox.shippo.core import Options, Sandbox
from tradewind.sandbox.shippo.faults import Fault, FaultKind, Limits
from tradewind.sandbox.shippo.state import Doc
from tradewind.sandbox.shippo.webhooks import LOOPBACK_HOSTS, Delivery


class ShippoSandbox(Running):
    """A running sandbox. Options: ``port`` (0: a free one), ``limits``, ``polls`` (GETs a
    QUEUED object takes), ``time_scale`` (webhook retry delays are divided by it),
    ``webhook_hosts`` (None: any host), ``webhook_secret`` (opt-in HMAC), ``clock``
    (epoch seconds: rate age and rate-limit windows)."""

    def __init__(
        self,
        *,
        port: int = 0,
        limits: Limits | None = None,
        polls: int = 2,
        time_scale: float = 1.0,
        webhook_hosts: frozenset[str] | None = LOOPBACK_HOSTS,
        webhook_secret: str | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        options = Options(
            limits=limits or Limits(),
            polls=polls,
            time_scale=time_scale,
            webhook_hosts=webhook_hosts,
            webhook_secret=webhook_secret,
        )
        self.sandbox = Sandbox(options, clock)
        self.app = create_app(self.sandbox)
        self._served = Served(self.app, port=port, name="Shippo sandbox")

    def add_token(self, test: bool = True, token: str | None = None) -> str:
        with self.sandbox.state.lock:
            return self.sandbox.state.add_token(test, token).token

    def revoke_token(self, token: str) -> bool:
        with self.sandbox.state.lock:
            return self.sandbox.state.revoke(token)

    def labels(self, token: str) -> int:
        """Labels bought with ``token`` (a refused duplicate purchase does not count)."""
        with self.sandbox.state.lock:
            return self.sandbox.state.accounts[token].labels

    def advance_track(self, carrier: str, number: str, to: str | None = None) -> Doc:
        return self.sandbox.advance_track(carrier, number, to, self.base_url)

    def inject_fault(
        self,
        kind: FaultKind | str,
        *,
        count: int | None = 1,
        status: int = 500,
        latency_ms: int = 0,
        path_contains: str | None = None,
        token: str | None = None,
        after: bool = False,
    ) -> None:
        self.sandbox.faults.add(
            Fault(FaultKind(kind), count, status, latency_ms, path_contains, token, after)
        )

    def clear_faults(self) -> None:
        self.sandbox.faults.clear()

    def deliveries(self) -> list[Delivery]:
        return self.sandbox.webhooks.recent()

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        return self.sandbox.webhooks.wait_idle(timeout)
