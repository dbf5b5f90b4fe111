"""The sandbox's parts held together: the accounts, the faults, the rate limiter and the
webhook worker, and ``run``, the one way an operation changes the accounts."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tradewind.sandbox.shippo.faults import Faults, Limits, RateLimiter
from tradewind.sandbox.shippo.ops import Ops
from tradewind.sandbox.shippo.state import Account, Doc, State
from tradewind.sandbox.shippo.webhooks import LOOPBACK_HOSTS, WebhookWorker


@dataclass
class Options:
    limits: Limits = field(default_factory=Limits)
    polls: int = 2  # GETs a QUEUED shipment or transaction takes to finish
    time_scale: float = 1.0
    webhook_hosts: frozenset[str] | None = LOOPBACK_HOSTS
    # Opt-in HMAC (``Shippo-Auth-Signature``); Shippo signs only when asked to.
    webhook_secret: str | None = None


class Sandbox:
    def __init__(
        self, options: Options | None = None, clock: Callable[[], float] | None = None
    ) -> None:
        self.options = options or Options()
        self.clock = clock or time.time
        self.state = State(self.clock, self.options.polls)
        self.faults = Faults()
        self.limiter = RateLimiter(self.options.limits, self.clock)
        self.webhooks = WebhookWorker(
            self.state,
            self.options.time_scale,
            self.options.webhook_hosts,
            self.options.webhook_secret,
        )

    def run(self, account: Account, base_url: str, action: Callable[[Ops], Any]) -> Any:
        """Run one operation under the lock, then hand its events to the worker."""
        with self.state.lock:
            ops = Ops(self.state, account, base_url)
            result = copy.deepcopy(action(ops))
        self.webhooks.publish(ops.events)
        return result

    def advance_track(self, carrier: str, number: str, to: str | None, base_url: str) -> Doc:
        with self.state.lock:
            account = self.state.find_track(carrier, number)
        if account is None:
            raise KeyError(number)
        return dict(self.run(account, base_url, lambda ops: ops.advance(carrier, number, to)))
