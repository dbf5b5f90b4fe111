"""An EasyPost API sandbox that follows EasyPost's published contract, so that clients
written for EasyPost (its official libraries among them) run against it with only their
base URL changed (see README.md).

Public surface: ``EasyPostSandbox`` (in-process runner), ``sign`` (the webhook
signature); ``create_app``, ``Sandbox`` and ``Options`` for embedding.
"""

from tradewind.sandbox.easypost.app import create_app
from tradewind.sandbox.easypost.core import Options, Sandbox
from tradewind.sandbox.easypost.faults import FaultKind, Limits
from tradewind.sandbox.easypost.runner import EasyPostSandbox
from tradewind.sandbox.easypost.state import RATE_TABLE, TEST_CODES
from tradewind.sandbox.easypost.webhooks import sign

__all__ = [
    "RATE_TABLE",
    "TEST_CODES",
    "EasyPostSandbox",
    "FaultKind",
    "Limits",
    "Options",
    "Sandbox",
    "create_app",
    "sign",
]
