"""Structured logs: console for people, JSON for collectors, secrets redacted."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from tradewind.settings import Settings

_SECRET_KEYS = re.compile(r"(token|secret|password|authorization|api[_-]?key)", re.IGNORECASE)


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """No log line carries a credential, whatever a caller passes."""
    for key in list(event):
        if _SECRET_KEYS.search(key):
            event[key] = "[redacted]"
    return event


def to_stderr(*_: Any) -> structlog.PrintLogger:
    """Logs go to stderr, so that a command's output (``tradewind templates schema >
    file``) is only its output; looked up at each call, so a redirected stderr is used."""
    return structlog.PrintLogger(sys.stderr)


def configure_logging(settings: Settings) -> None:
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=to_stderr,
    )
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # Libraries that log every request or task at INFO: our own call records say more.
    for chatty in ("huey", "httpx2", "httpcore2", "httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(max(level, logging.WARNING))
