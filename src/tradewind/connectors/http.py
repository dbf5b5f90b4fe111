"""The connector's HTTP client: httpx2 with explicit timeouts, the outbound address policy
(every connection goes to a checked, public address; no redirect is followed), an
injectable transport (the test seam), the rate budget, one recorded execution per call,
and the translation of every HTTP outcome into the four typed errors, once, here.

Connectors never retry or sleep: a 429 becomes ``RateLimited(retry_after)``, a timeout or a
5xx becomes ``Unavailable``, a 401/403 ``AuthFailed``, any other 4xx ``Rejected``; the
engine decides what happens next.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import json
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

import httpx2

from tradewind.connectors.errors import (
    AuthFailed,
    ConnectorError,
    RateLimited,
    Rejected,
    Unavailable,
)
from tradewind.connectors.outbound import OutboundPolicy
from tradewind.connectors.ratelimit import Priority, RateBudget, UnlimitedBudget

DEFAULT_TIMEOUT = httpx2.Timeout(connect=5.0, read=30.0, write=30.0, pool=10.0)

# Status → outcome. Connectors may pass their own table for platform quirks.
DEFAULT_ERRORS: Mapping[int, type[ConnectorError]] = MappingProxyType(
    {
        400: Rejected,
        401: AuthFailed,
        402: AuthFailed,  # the shop is frozen (unpaid): a person must act
        403: AuthFailed,
        404: Rejected,
        406: Rejected,
        409: Rejected,
        410: Rejected,
        413: Rejected,
        415: Rejected,
        422: Rejected,
        423: Unavailable,  # locked (shop being set up): try later
        429: RateLimited,
    }
)


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP call as recorded in the execution history."""

    operation: str
    started_at: dt.datetime
    duration_ms: float
    outcome: str  # success | rate_limited | unavailable | auth_failed | rejected
    http_status: int | None
    error: str = ""


class CallRecorder(Protocol):
    def record(self, call: Call) -> None: ...


class _NoRecorder:
    def record(self, call: Call) -> None:
        return None


_OUTCOMES: Mapping[type[ConnectorError], str] = MappingProxyType(
    {
        RateLimited: "rate_limited",
        Unavailable: "unavailable",
        AuthFailed: "auth_failed",
        Rejected: "rejected",
    }
)


def outcome_of(error: ConnectorError | None) -> str:
    return "success" if error is None else _OUTCOMES.get(type(error), "error")


class HttpClient:
    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        transport: httpx2.BaseTransport | None = None,
        timeout: httpx2.Timeout = DEFAULT_TIMEOUT,
        errors: Mapping[int, type[ConnectorError]] = DEFAULT_ERRORS,
        budget: RateBudget | None = None,
        recorder: CallRecorder | None = None,
        describe_error: Callable[[httpx2.Response], str] | None = None,
        outbound: OutboundPolicy | None = None,
    ) -> None:
        limits = httpx2.Limits(max_connections=20, max_keepalive_connections=10)
        if transport is None:  # the real network: only through the outbound policy
            transport = (outbound or OutboundPolicy()).transport(limits=limits)
        self._client = httpx2.Client(
            base_url=base_url,
            headers=dict(headers or {}),
            transport=transport,
            timeout=timeout,
            follow_redirects=False,  # a redirect could lead to a host nobody checked
            trust_env=False,  # an environment proxy would connect out of the policy's sight
            limits=limits,
        )
        self._errors = errors
        self.budget: RateBudget = budget or UnlimitedBudget()
        self.recorder: CallRecorder = recorder or _NoRecorder()
        self._describe = describe_error or error_detail

    @property
    def base_url(self) -> str:
        return str(self._client.base_url)

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        cost: float = 1.0,
        priority: Priority = Priority.LIVE,
        budget: RateBudget | None = None,
        allow: Collection[int] = (),
        judge: Callable[[httpx2.Response], ConnectorError | None] | None = None,
    ) -> httpx2.Response:
        """Send one request; return the response on 2xx (or a status in ``allow``, such as
        404 for "does it exist?"), raise a typed error otherwise. ``judge``, when given,
        says which error an answer means (``None``: none) in place of the HTTP rule; an
        integration template's ``errors`` rules read it this way."""
        bucket = budget or self.budget
        started = dt.datetime.now(dt.UTC)
        clock = time.perf_counter()
        status: int | None = None
        try:
            bucket.acquire(cost, priority)
            try:
                response = self._client.request(
                    method, url, params=params, json=json_body, data=data, headers=headers
                )
            except httpx2.TimeoutException as exc:
                raise Unavailable(f"{operation}: the platform did not answer in time") from exc
            except httpx2.TransportError as exc:
                raise Unavailable(f"{operation}: cannot reach the platform ({exc})") from exc
            status = response.status_code
            if judge is not None:
                failure = judge(response)
                if isinstance(failure, RateLimited):
                    bucket.throttled(failure.retry_after)
                if failure is not None:
                    raise failure
            elif status not in allow:
                self._classify(response, operation, bucket)
        except ConnectorError as error:
            self._record(operation, started, clock, outcome_of(error), status, str(error))
            raise
        self._record(operation, started, clock, "success", status, "")
        return response

    @contextlib.contextmanager
    def stream(
        self,
        url: str,
        *,
        operation: str,
        headers: Mapping[str, str] | None = None,
        allow: Collection[int] = (),
    ) -> Iterator[httpx2.Response]:
        """GET a large file (a bulk export's result) read as it arrives: the answer is
        classified as ``request`` does and recorded as one call, outside any rate budget
        (the file is not the API). ``headers`` replace the client's own for this call, so
        an API token is never sent to the storage host the file is on."""
        started = dt.datetime.now(dt.UTC)
        clock = time.perf_counter()
        status: int | None = None
        try:
            try:
                with self._client.stream("GET", url, headers=headers) as response:
                    status = response.status_code
                    if status not in allow and not 200 <= status < 300:
                        response.read()
                        self._classify(response, operation, self.budget)
                    yield response
            except httpx2.TimeoutException as exc:
                raise Unavailable(f"{operation}: the platform did not answer in time") from exc
            except httpx2.TransportError as exc:
                raise Unavailable(f"{operation}: cannot reach the platform ({exc})") from exc
        except ConnectorError as error:
            self._record(operation, started, clock, outcome_of(error), status, str(error))
            raise
        self._record(operation, started, clock, "success", status, "")

    def _classify(self, response: httpx2.Response, operation: str, bucket: RateBudget) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        if status == 429:
            wait = retry_after(response.headers.get("Retry-After"))
            bucket.throttled(wait)
            raise RateLimited(f"{operation}: the platform asked to slow down", retry_after=wait)
        detail = self._describe(response)
        message = f"{operation}: HTTP {status}{f' — {detail}' if detail else ''}"
        error = self._errors.get(status)
        if error is None:
            error = Unavailable if status >= 500 or 300 <= status < 400 else Rejected
        raise error(message)

    def _record(
        self,
        operation: str,
        started: dt.datetime,
        clock: float,
        outcome: str,
        status: int | None,
        error: str,
    ) -> None:
        self.recorder.record(
            Call(
                operation=operation,
                started_at=started,
                duration_ms=(time.perf_counter() - clock) * 1000,
                outcome=outcome,
                http_status=status,
                error=error[:1000],
            )
        )


def retry_after(value: str | None, default: float = 2.0) -> float:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def error_detail(response: httpx2.Response) -> str:
    """The platform's own words, shortened: they are what a merchant can act on. Only a
    JSON error field is quoted, never a body as such: whatever answered is not repeated
    to the caller (an HTML page, another service's reply)."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return ""
    if isinstance(body, Mapping):
        for key in ("errors", "error", "message", "detail"):
            if key in body:
                value = body[key]
                text = value if isinstance(value, str) else json.dumps(value)
                return "".join(char for char in text[:300] if char.isprintable())
    return ""
