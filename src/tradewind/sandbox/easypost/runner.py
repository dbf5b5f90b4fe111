"""An in-process EasyPost sandbox for tests and demos: uvicorn in a background thread on
127.0.0.1, plus Python methods mirroring the control API.

    with EasyPostSandbox(time_scale=1000) as sandbox:
        key = sandbox.add_key()                       # EZTK…, test mode
        client = easypost.EasyPostClient(key, api_base=sandbox.api_base)
        shipment = client.shipment.create(to_address=…, from_address=…, parcel=…)
"""

from __future__ import annotations

from collections.abc import Callable

from tradewind.sandbox.easypost.app import create_app
from tradewind.sandbox.easypost.control import labels
from tradewind.sandbox.easypost.core import Options, Sandbox
from tradewind.sandbox.easypost.faults import Fault, FaultKind, Limits
from tradewind.sandbox.easypost.state import Doc
from tradewind.sandbox.easypost.webhooks import LOOPBACK_HOSTS, Delivery
from tradewind.sandbox.serving import Running, Served


class EasyPostSandbox(Running):
    """A running sandbox. Options: ``port`` (0: a free one), ``limits`` (the rate limit;
    ``Limits(enabled=False)`` for benchmarks), ``time_scale`` (webhook retry delays are
    divided by it), ``webhook_hosts`` (hosts deliveries may go to; None: any), ``clock``
    (seconds, drives the rate-limit windows)."""

    def __init__(
        self,
        *,
        port: int = 0,
        limits: Limits | None = None,
        time_scale: float = 1.0,
        webhook_hosts: frozenset[str] | None = LOOPBACK_HOSTS,
        clock: Callable[[], float] | None = None,
    ) -> None:
        options = Options(
            limits=limits or Limits(), time_scale=time_scale, webhook_hosts=webhook_hosts
        )
        self.sandbox = Sandbox(options, clock)
        self.app = create_app(self.sandbox)
        self._served = Served(self.app, port=port, name="EasyPost sandbox")

    # --- lifecycle ----------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        """What a client uses instead of ``https://api.easypost.com/v2``."""
        return f"{self.base_url}/v2"

    # --- keys, labels, trackers ---------------------------------------------------------

    def add_key(self, mode: str = "test", key: str | None = None) -> str:
        with self.sandbox.state.lock:
            return self.sandbox.state.add_key(mode, key).key

    def revoke_key(self, key: str) -> bool:
        with self.sandbox.state.lock:
            return self.sandbox.state.revoke(key)

    def labels(self, key: str | None = None) -> dict[str, int]:
        """``{"bought": n, "refunded": m}`` for one key, or summed over every key."""
        return labels(self.sandbox, key)

    def advance_tracker(self, tracker_id: str, to: str | None = None) -> Doc:
        return self.sandbox.advance_tracker(tracker_id, to, self.base_url)

    # --- faults and webhooks ------------------------------------------------------------

    def inject_fault(
        self,
        kind: FaultKind | str,
        *,
        count: int | None = 1,
        status: int = 500,
        latency_ms: int = 0,
        path_contains: str | None = None,
        key: str | None = None,
        after: bool = False,
        retry_after: float | None = None,
    ) -> None:
        self.sandbox.faults.add(
            Fault(
                FaultKind(kind), count, status, latency_ms, path_contains, key, after, retry_after
            )
        )

    def clear_faults(self) -> None:
        self.sandbox.faults.clear()

    def deliveries(self) -> list[Delivery]:
        return self.sandbox.webhooks.recent()

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        """Block until every delivery has succeeded or given up."""
        return self.sandbox.webhooks.wait_idle(timeout)
