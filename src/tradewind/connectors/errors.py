"""The four outcomes a connector may raise. The engine alone decides what happens next."""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of the four typed errors. The message must be safe to show to a merchant."""


class AuthFailed(ConnectorError):
    """The credentials no longer work (401, revoked, uninstalled). The plugin goes to
    *needs reauthorization*; its work is paused, not dropped."""


class RateLimited(ConnectorError):
    """The platform asked us to slow down. Rescheduled at ``retry_after`` seconds; not
    counted as a failed attempt."""

    def __init__(self, message: str = "rate limited", *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = max(0.0, retry_after)


class Unavailable(ConnectorError):
    """A transient failure (timeout, 5xx, connection refused). Retried with backoff."""


class Rejected(ConnectorError):
    """The platform refused this one record for a reason that retrying will not fix.
    The record is recorded with the reason; the rest continues."""

    def __init__(self, message: str, *, record: str = "") -> None:
        super().__init__(message)
        self.record = record
