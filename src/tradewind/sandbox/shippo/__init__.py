"""A Shippo API sandbox that follows Shippo's published contract, so that clients written
for Shippo (its official SDK among them) run against it with only their server URL
changed (see README.md).

Public surface: ``ShippoSandbox`` (in-process runner), ``sign`` (the opt-in webhook
signature); ``create_app``, ``Sandbox`` and ``Options`` for embedding.
"""

from tradewind.sandbox.shippo.app import create_app
from tradewind.sandbox.shippo.core import Options, Sandbox
from tradewind.sandbox.shippo.faults import FaultKind, Limits, RateClass
from tradewind.sandbox.shippo.runner import ShippoSandbox
from tradewind.sandbox.shippo.state import RATE_TABLE, TEST_NUMBERS
from tradewind.sandbox.shippo.webhooks import sign

__all__ = [
    "RATE_TABLE",
    "TEST_NUMBERS",
    "FaultKind",
    "Limits",
    "Options",
    "RateClass",
    "Sandbox",
    "ShippoSandbox",
    "create_app",
    "sign",
]
