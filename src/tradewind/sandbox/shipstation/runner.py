"""An in-process ShipStation sandbox for tests and demos, served on 127.0.0.1, plus
Python methods mirroring the control API.

    with ShipStationSandbox() as sandbox:
        key, secret = sandbox.add_account()
        http = httpx2.Client(base_url=sandbox.base_url, auth=(key, secret))
        http.post("/orders/createorder", json=order)
"""

from __future__ import annotations

from collections.abc import Callable

from tradewind.sandbox.serving import Running, Served
from tradewind.sandbox.shipstation.app import create_app
from tradewind.sandbox.shipstation.control import labels, ship
from tradewind.sandbox.shipstation.core import Options, Sandbox
from tradewind.sandbox.shipstation.faults import Fault, FaultKind, Limits
from tradewind.sandbox.shipstation.state import Doc
from tradewind.sandbox.shipstation.webhooks import LOOPBACK_HOSTS, Delivery


class ShipStationSandbox(Running):
    """A running sandbox. Options: ``port`` (0: a free one), ``limits`` (the rate limit;
    ``Limits(enabled=False)`` to switch it off), ``time_scale`` (webhook retry delays are
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
        self._served = Served(self.app, port=port, name="ShipStation sandbox")

    # --- accounts, labels, shipping -----------------------------------------------------

    def add_account(
        self, key: str | None = None, secret: str | None = None, *, manual_store: bool = True
    ) -> tuple[str, str]:
        with self.sandbox.state.lock:
            account = self.sandbox.state.add_account(key, secret, manual_store)
            return account.key, account.secret

    def revoke(self, key: str) -> bool:
        with self.sandbox.state.lock:
            return self.sandbox.state.revoke(key)

    def set_manual_store(self, key: str, enabled: bool) -> None:
        with self.sandbox.state.lock:
            self.sandbox.state.accounts[key].manual_store = enabled

    def labels(self, key: str | None = None) -> dict[str, int]:
        """``{"bought": n, "voided": m}`` for one account, or summed over every account."""
        return labels(self.sandbox, key)

    def ship_order(
        self,
        key: str,
        order_id: int,
        *,
        carrier_code: str | None = None,
        service_code: str | None = None,
        tracking_number: str | None = None,
    ) -> Doc:
        """Ship an order as a warehouse user would in ShipStation; fires SHIP_NOTIFY."""
        body = {
            "carrierCode": carrier_code,
            "serviceCode": service_code,
            "trackingNumber": tracking_number,
        }
        return ship(self.sandbox, key, str(order_id), body, self.base_url)

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
    ) -> None:
        self.sandbox.faults.add(
            Fault(FaultKind(kind), count, status, latency_ms, path_contains, key)
        )

    def clear_faults(self) -> None:
        self.sandbox.faults.clear()

    def deliveries(self) -> list[Delivery]:
        return self.sandbox.webhooks.recent()

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        """Block until every delivery has succeeded or given up."""
        return self.sandbox.webhooks.wait_idle(timeout)
