"""An in-process TaxJar sandbox for tests and the CLI: uvicorn in a background thread on
127.0.0.1, plus Python methods mirroring the control API.

    with TaxJarSandbox() as sandbox:
        token = sandbox.create_account().token
        client = taxjar.Client(api_key=token, api_url=sandbox.base_url)
"""

from __future__ import annotations

import time

from tradewind.sandbox.serving import Running, Served
from tradewind.sandbox.taxjar.app import AccountSpec, Control, RegionSpec, create_app
from tradewind.sandbox.taxjar.faults import Clock, Fault, Faults, RateLimiter
from tradewind.sandbox.taxjar.state import DEFAULT_PER_MINUTE, Account, State


class TaxJarSandbox(Running):
    """A running sandbox. ``port`` 0 takes a free one; ``clock`` drives the rate-limit
    windows (tests pass a fake one)."""

    def __init__(self, *, port: int = 0, clock: Clock = time.monotonic) -> None:
        self.state = State()
        self.faults = Faults()
        self.limiter = RateLimiter(clock)
        self.control = Control(self.state, self.faults)
        self.app = create_app(self.state, self.faults, self.limiter)
        self._served = Served(self.app, port=port, name="TaxJar sandbox")

    # --- the control API, in Python -----------------------------------------------------

    def create_account(
        self,
        token: str | None = None,
        *,
        nexus: list[tuple[str, str]] | None = None,
        per_minute: int = DEFAULT_PER_MINUTE,
    ) -> Account:
        regions = None
        if nexus is not None:
            regions = [RegionSpec(country_code=c, region_code=r) for c, r in nexus]
        return self.control.create_account(
            AccountSpec(token=token, nexus=regions, per_minute=per_minute)
        )

    def set_nexus(self, token: str, nexus: list[tuple[str, str]]) -> None:
        self.state.set_nexus(token, [(c.upper(), r.upper()) for c, r in nexus])

    def revoke(self, token: str) -> bool:
        return self.state.revoke(token)

    def inject_fault(
        self,
        token: str,
        status: int | None,
        *,
        count: int = 1,
        path_contains: str | None = None,
        delay_ms: int = 0,
    ) -> None:
        """The next ``count`` requests answer ``status`` (None: normally), ``delay_ms``
        late."""
        self.faults.add(token, Fault(status, count, path_contains, delay_ms))

    def clear_faults(self, token: str) -> None:
        self.faults.clear(token)
