"""A ShipStation API V1 sandbox that follows ShipStation's published contract, so that
clients written for ShipStation run against it with only their base URL changed (see
README.md).

Public surface: ``ShipStationSandbox`` (in-process runner), ``LABEL_TABLE`` (the label
costs); ``create_app``, ``Sandbox`` and ``Options`` for embedding.
"""

from tradewind.sandbox.shipstation.app import create_app
from tradewind.sandbox.shipstation.core import Options, Sandbox
from tradewind.sandbox.shipstation.faults import FaultKind, Limits
from tradewind.sandbox.shipstation.runner import ShipStationSandbox
from tradewind.sandbox.shipstation.state import LABEL_TABLE

__all__ = [
    "LABEL_TABLE",
    "FaultKind",
    "Limits",
    "Options",
    "Sandbox",
    "ShipStationSandbox",
    "create_app",
]
