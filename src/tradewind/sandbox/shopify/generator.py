"""Places realistic orders at a chosen rate, in a background thread (``tradewind demo``).

Arrivals are a Poisson process: exponential gaps averaging ``60 / per_minute`` seconds,
so bursts and lulls happen as in a real shop.
"""

from __future__ import annotations

import random
import threading
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from tradewind.sandbox.shopify.ops.base import ShopifyError

if TYPE_CHECKING:
    from tradewind.sandbox.shopify.control import Control


class GeneratorSpec(BaseModel):
    per_minute: float = Field(default=6.0, gt=0, le=6000)
    limit: int | None = Field(default=None, ge=1, description="stop after this many orders")
    seed: int | None = None


class OrderGenerator:
    def __init__(self, control: Control, shop: str, spec: GeneratorSpec) -> None:
        self.control = control
        self.shop = shop
        self.spec = spec
        self.placed = 0
        self.failed = 0
        self._rng = random.Random(spec.seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"orders-{shop}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        mean_gap = 60.0 / self.spec.per_minute
        while not self._stop.wait(self._rng.expovariate(1.0 / mean_gap)):
            try:
                self.control.random_order(self.shop, self._rng)
                self.placed += 1
            except ShopifyError:
                self.failed += 1
            if self.spec.limit is not None and self.placed >= self.spec.limit:
                return
