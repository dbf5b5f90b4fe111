"""Calls that reach a platform through its connector, as a person makes them (test
connection, authorize, activate): a connector that breaks is the platform's problem — a
502 on the API, an error line in the UI, a failed command — never a 500 of ours."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import StatementError

from tradewind.connectors.errors import ConnectorError
from tradewind.connectors.registry import UnknownConnector
from tradewind.errors import TradewindError
from tradewind.vault import VaultError


class ConnectorFailed(TradewindError):
    status = 502
    title = "The platform or its connector failed"


@contextmanager
def connector_calls() -> Iterator[None]:
    """A connector that breaks is the platform's problem (502), never a 500 of ours."""
    try:
        yield
    except (TradewindError, UnknownConnector, OverflowError, StatementError):
        raise  # our own answers (and out-of-range ids) are not the platform's fault
    except (ConnectorError, VaultError) as exc:
        raise ConnectorFailed(str(exc)) from None
    except Exception as exc:
        raise ConnectorFailed(f"the connector failed: {type(exc).__name__}: {exc}") from None
