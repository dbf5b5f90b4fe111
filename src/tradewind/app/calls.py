"""Calls that reach a platform through its connector, as a person makes them (test
connection, authorize, activate): a connector that breaks is the platform's problem — a
502 on the API, an error line in the UI, a failed command — never a 500 of ours."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.exc import StatementError

from tradewind.connectors.errors import ConnectorError, RateLimited
from tradewind.connectors.registry import UnknownConnector
from tradewind.errors import TradewindError
from tradewind.vault import VaultError

T = TypeVar("T")


def patiently(
    use: Callable[[], T],
    patience: float,
    give_up: Callable[[float, float], BaseException] | None = None,
) -> T:
    """``use()``, a rate limit (the plugin's or the service's) waited out as it says, up
    to ``patience`` seconds in all: a person waits a moment rather than be told to click
    again. Longer than that, the limit is raised — or ``give_up(wait, waited)``."""
    waited = 0.0
    while True:
        try:
            return use()
        except RateLimited as exc:
            wait = exc.retry_after if exc.retry_after is not None else 1.0
            if waited + wait > patience:
                if give_up is None:
                    raise
                raise give_up(wait, waited) from None
            time.sleep(wait)
            waited += wait


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
