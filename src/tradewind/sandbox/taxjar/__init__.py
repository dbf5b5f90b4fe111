"""A TaxJar API sandbox that follows TaxJar's published contract, so that clients written
for TaxJar run against it with only their base URL changed (see README.md).

Public surface: ``TaxJarSandbox`` (in-process runner) and ``create_app`` with its
``State``, ``Faults`` and ``RateLimiter`` (the ASGI app, for embedding).
"""

from tradewind.sandbox.taxjar.app import create_app
from tradewind.sandbox.taxjar.faults import Faults, RateLimiter
from tradewind.sandbox.taxjar.runner import TaxJarSandbox
from tradewind.sandbox.taxjar.state import State

__all__ = ["Faults", "RateLimiter", "State", "TaxJarSandbox", "create_app"]
