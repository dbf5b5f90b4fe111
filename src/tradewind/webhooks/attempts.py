"""One attempt and what comes of it: the POST itself (redirects not followed, at most
64 KiB of the answer read), the outcome of its answer (``classify``), when the next try
is due (``SCHEDULE``, ``Retry-After``) and the row that records it. The sender
(``dispatch``) owns claims and transactions; this module owns none.

* 2xx succeeds; an answer with ``webhook-delivery: abort-message`` fails without
  retries; network errors, timeouts, 408, 429 and 5xx are retried on ``SCHEDULE`` with
  ±20 % jitter (``Retry-After`` wins when given, up to an hour); 410 disables the
  endpoint; anything else (3xx included: redirects are not followed) fails the delivery.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx2

from tradewind.connectors.errors import Unavailable
from tradewind.connectors.outbound import OutboundRefused
from tradewind.webhooks.models import AttemptTrigger

# Seconds before attempt n+1 (the first is immediate): about 47 hours in all.
SCHEDULE: tuple[int, ...] = (0, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400)
MAX_ATTEMPTS = len(SCHEDULE)
JITTER = 0.2
RETRY_AFTER_CAP = 3600.0
TIMEOUT = httpx2.Timeout(15.0, connect=5.0)
# No attempt lasts longer: 5 s to connect, 15 s for the whole answer (a receiver that
# drips it is cut off). The sender starts an attempt only while its claim has this long
# left, so two live workers never send one claim.
ATTEMPT_SECONDS = 20.0
ANSWER_SECONDS = 15.0
READ_LIMIT = 64 * 1024  # read at most this much of an answer
KEEP_BODY = 4 * 1024  # and keep this much with the attempt
USER_AGENT = "Tradewind-Webhooks/1.0"
RETRIED_STATUSES = frozenset({408, 429})


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    RETRY = "retry"
    FAILED = "failed"
    GONE = "gone"  # 410: the endpoint is disabled


@dataclass(frozen=True, slots=True)
class Answer:
    """What one attempt got: a status with headers and the start of the body, or an
    error of a kind (timeout, connect, refused, network)."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error_kind: str | None = None
    error: str = ""
    duration_ms: int = 0


@dataclass(frozen=True, slots=True)
class Claimed:
    delivery_id: int
    event_id: str
    event_type: str
    body: str
    number: int  # this attempt's number
    trigger: AttemptTrigger


@dataclass(frozen=True, slots=True)
class Sent:
    """An attempt made (``answer``), or, with ``answer`` ``None``, one not started
    because its claim was running out: it is handed back, due as it was."""

    claimed: Claimed
    request_headers: dict[str, str]
    started_at: dt.datetime
    answer: Answer | None


def classify(answer: Answer) -> Outcome:
    if answer.status is None:
        return Outcome.RETRY  # network error, timeout, refused by the policy (DNS may change)
    if 200 <= answer.status < 300:
        return Outcome.SUCCEEDED
    if answer.headers.get("webhook-delivery", "").lower() == "abort-message":
        return Outcome.FAILED  # the receiver asks for no more tries of this one
    if answer.status == 410:
        return Outcome.GONE
    if answer.status in RETRIED_STATUSES or answer.status >= 500:
        return Outcome.RETRY
    return Outcome.FAILED


def retry_after(headers: dict[str, str], now: dt.datetime) -> float | None:
    """``Retry-After`` in seconds (a number or an HTTP date), 1 s to an hour."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 1.0), RETRY_AFTER_CAP)  # never a tight loop on "0"


def next_delay(attempts_made: int, rng: Callable[[], float] = random.random) -> float | None:
    """Seconds until the next attempt after ``attempts_made``, or ``None`` when they are
    spent."""
    if attempts_made >= MAX_ATTEMPTS:
        return None
    base = SCHEDULE[attempts_made]
    return base * (1 - JITTER + 2 * JITTER * rng())


def post(client: httpx2.Client, url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body``; the answer with at most ``READ_LIMIT`` bytes of its body read."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        with client.stream("POST", url, content=body, headers=headers) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_raw():
                chunks.append(chunk)
                size += len(chunk)
                if size >= READ_LIMIT:
                    break  # the rest is not read: closing drops the connection
                if time.monotonic() - started > ANSWER_SECONDS:
                    return Answer(
                        error_kind="timeout",
                        error=f"the answer took longer than {ANSWER_SECONDS:.0f} s",
                        duration_ms=took(),
                    )
            return Answer(
                status=response.status_code,
                headers=header_map(response.headers.items()),
                body=b"".join(chunks)[:READ_LIMIT],
                duration_ms=took(),
            )
    except httpx2.TimeoutException as exc:
        return Answer(error_kind="timeout", error=str(exc) or "timed out", duration_ms=took())
    except httpx2.ConnectError as exc:
        return Answer(error_kind="connect", error=str(exc), duration_ms=took())
    except OutboundRefused as exc:
        return Answer(error_kind="refused", error=str(exc), duration_ms=took())
    except Unavailable as exc:  # the name does not resolve
        return Answer(error_kind="dns", error=str(exc), duration_ms=took())
    except httpx2.HTTPError as exc:
        return Answer(error_kind="network", error=str(exc), duration_ms=took())


def attempt_row(sent: Sent, answer: Answer, outcome: Outcome) -> dict[str, Any]:
    """The ``WebhookAttempt`` row of an attempt made."""
    ok = outcome is Outcome.SUCCEEDED
    return {
        "delivery_id": sent.claimed.delivery_id,
        "number": sent.claimed.number,
        "trigger": sent.claimed.trigger,
        "started_at": sent.started_at,
        "duration_ms": answer.duration_ms,
        "request_headers": sent.request_headers,
        "response_status": answer.status,
        "response_headers": answer.headers,
        "response_body": answer.body[:KEEP_BODY].decode("utf-8", "replace"),
        "error_kind": answer.error_kind or (None if ok else "http"),
        "error": answer.error[:2000],
        "succeeded": ok,
    }


def describe(answer: Answer) -> str:
    """The delivery's ``last_error`` after ``answer``."""
    if answer.status is None:
        return f"{answer.error_kind}: {answer.error}"[:500]
    if 300 <= answer.status < 400:
        return f"HTTP {answer.status} (redirects are not followed)"
    return f"HTTP {answer.status}"


def header_map(headers: Iterable[tuple[Any, Any]]) -> dict[str, str]:
    """An answer's headers as kept: names lowercased, at most 50, values cut to 500."""
    kept: dict[str, str] = {}
    for name, value in headers:
        if len(kept) >= 50:
            break
        kept[str(name).lower()] = str(value)[:500]
    return kept
