"""Standard Webhooks v1 signatures (the ``standardwebhooks`` package signs): secrets
shown as ``whsec_`` + base64 of 32 random bytes, one ``v1,<base64>`` signature per
secret in force, space-separated in ``webhook-signature`` (during a rotation the old
secret signs too, so receivers can switch at their own pace)."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Sequence

from standardwebhooks import Webhook

PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(secrets_in_force: Sequence[str], msg_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header for ``body`` (the exact text sent) sent as
    ``msg_id`` at ``timestamp`` (Unix seconds of this attempt)."""
    # sign() reads the datetime as UTC whatever its zone: hand it an aware UTC one.
    moment = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
    return " ".join(Webhook(secret).sign(msg_id, moment, body) for secret in secrets_in_force)


def redacted(header: str) -> str:
    """A signature header as it is kept with an attempt: versions, never the values."""
    return " ".join(part.split(",", 1)[0] + ",…" for part in header.split(" ") if part)
