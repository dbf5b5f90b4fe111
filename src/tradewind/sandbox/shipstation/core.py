"""The sandbox's parts held together: the accounts, the faults, the rate limiter and the
webhook worker, and ``run``, the one way an operation changes the accounts."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tradewind.sandbox.shipstation.faults import Faults, Limits, RateLimiter
from tradewind.sandbox.shipstation.ops import Ops
from tradewind.sandbox.shipstation.state import Account, State
from tradewind.sandbox.shipstation.webhooks import LOOPBACK_HOSTS, WebhookWorker


@dataclass
class Options:
    limits: Limits = field(default_factory=Limits)
    time_scale: float = 1.0
    webhook_hosts: frozenset[str] | None = LOOPBACK_HOSTS


class Sandbox:
    """One ShipStation: the accounts, the faults, the limiter and the webhook worker."""

    def __init__(
        self, options: Options | None = None, clock: Callable[[], float] | None = None
    ) -> None:
        self.options = options or Options()
        self.state = State()
        self.faults = Faults()
        self.limiter = (
            RateLimiter(self.options.limits, clock) if clock else RateLimiter(self.options.limits)
        )
        self.webhooks = WebhookWorker(
            self.state, self.options.time_scale, self.options.webhook_hosts
        )

    def run(self, account: Account, base_url: str, action: Callable[[Ops], Any]) -> Any:
        """Run one operation under the lock, then hand its notices to the worker."""
        with self.state.lock:
            ops = Ops(self.state, account)
            result = copy.deepcopy(action(ops))  # answered after the lock is released
        self.webhooks.publish(ops.notices, base_url)
        return result
