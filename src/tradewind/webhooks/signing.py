"""Standard Webhooks v1 signatures (the tests check them against the ``standardwebhooks``
package and the spec's vectors): secrets shown as ``whsec_`` + base64 of 32 random
bytes, one ``v1,<base64>`` signature per secret in force, space-separated in
``webhook-signature`` (during a rotation the old secret signs too, so receivers can
switch at their own pace)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(secrets_in_force: Sequence[str], msg_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header for ``body`` (the exact text sent) sent as
    ``msg_id`` at ``timestamp`` (Unix seconds of this attempt)."""
    return Signer(secrets_in_force).sign(msg_id, timestamp, body)


class Signer:
    """``signature`` with the secrets' keys decoded once (an endpoint signs thousands of
    deliveries with the same few keys): the same HMAC-SHA256 of
    ``{msg_id}.{timestamp}.{body}`` the ``standardwebhooks`` package computes, which the
    spec's test vectors check."""

    __slots__ = ("_keys",)

    def __init__(self, secrets_in_force: Sequence[str]) -> None:
        self._keys = [base64.b64decode(secret.removeprefix(PREFIX)) for secret in secrets_in_force]

    def sign(self, msg_id: str, timestamp: int, body: str) -> str:
        message = f"{msg_id}.{timestamp}.{body}".encode()
        return " ".join(
            "v1," + base64.b64encode(hmac.digest(key, message, hashlib.sha256)).decode()
            for key in self._keys
        )


def redacted(header: str) -> str:
    """A signature header as it is kept with an attempt: versions, never the values."""
    return " ".join(part.split(",", 1)[0] + ",…" for part in header.split(" ") if part)
