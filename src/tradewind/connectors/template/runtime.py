"""Running a template: its requests, rendered from expressions, sent through the SDK's
``HttpClient`` (the outbound policy, the rate budget, one execution recorded per call as
``<hook>.<step>``), answered into the four typed errors by the template's ``errors``
rules, and its hooks' steps run in order. How a request is authorized is ``auth.py``'s.

What an expression sees is plain JSON: ``input``, ``settings`` (never a secret),
``steps.<name>.{request,status,headers,body}``, ``item`` in a ``foreach`` step, ``env``
and ``now``. Only ``auth`` sees ``secrets``; a rendered request is recorded with every
secret's value redacted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2

from tradewind.connectors.errors import (
    AuthFailed,
    ConnectorError,
    RateLimited,
    Rejected,
    Unavailable,
)
from tradewind.connectors.http import HttpClient, error_detail, retry_after
from tradewind.connectors.ratelimit import Priority
from tradewind.connectors.template.auth import TokenStore, authorize_request
from tradewind.connectors.template.expressions import (
    Expression,
    ExpressionError,
    Text,
    plain,
    plain_text,
)
from tradewind.connectors.template.format import ErrorRule, Hook, Pull, Request, Step, Template

ERRORS: Mapping[str, type[ConnectorError]] = {
    "AuthFailed": AuthFailed,
    "RateLimited": RateLimited,
    "Unavailable": Unavailable,
    "Rejected": Rejected,
}
ANY_STATUS = range(100, 600)
REDACTED = "[redacted]"


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, as a later step (and a dry run) reads it."""

    operation: str
    request: dict[str, Any]  # method, url, headers, body — secrets redacted
    status: int
    headers: dict[str, str]
    body: Any

    def view(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "status": self.status,
            "headers": self.headers,
            "body": self.body,
        }


@dataclass(frozen=True)
class PulledPage:
    """One page of a pull: the mapped records, (raw id, reason) of those that did not
    map, the next page's cursor, and the exchange that read it."""

    records: list[Any]
    skipped: list[tuple[str, str]]
    next_cursor: str | None
    exchange: Exchange


@dataclass
class Run:
    """What one hook run did: every exchange, and its output."""

    exchanges: list[Exchange] = field(default_factory=list)
    output: Any = None


class Compiled:
    """A template's expressions, compiled once (``Expression.compile`` is pure)."""

    def __init__(self) -> None:
        self._expressions: dict[str, Expression] = {}
        self._texts: dict[str, Text] = {}
        self._statuses: dict[str, frozenset[int]] = {}
        self._lock = threading.Lock()

    def expr(self, source: str) -> Expression:
        found = self._expressions.get(source)
        if found is None:
            found = Expression.compile(source)
            with self._lock:
                self._expressions[source] = found
        return found

    def text(self, source: str) -> Text:
        found = self._texts.get(source)
        if found is None:
            found = Text.compile(source)
            with self._lock:
                self._texts[source] = found
        return found

    def may_match(self, rule: ErrorRule, status: int) -> bool:
        """Whether ``rule`` can match an answer of ``status`` (its ``when`` read once)."""
        statuses = self._statuses.get(rule.when)
        if statuses is None:
            statuses = self.expr(rule.when).true_for("status", ANY_STATUS)
            with self._lock:
                self._statuses[rule.when] = statuses
        return status in statuses or status not in ANY_STATUS


class Runner:
    """One plugin's template at work: its settings, secrets and HTTP client."""

    def __init__(
        self,
        template: Template,
        *,
        settings: Mapping[str, Any],
        secrets: Mapping[str, str],
        client: HttpClient,
        environment: str,
        tokens: TokenStore | None = None,
        compiled: Compiled | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.template = template
        self.settings = dict(settings)
        self.secrets = dict(secrets)
        self.client = client
        self.environment = environment
        self.tokens = tokens
        self.compiled = compiled or Compiled()
        self._clock = clock
        self._sleep = sleep
        self._wall = wall

    # --------------------------------------------------------------------- context

    def base(self, **more: Any) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "env": {"name": self.environment},
            "now": self._wall().isoformat(),
            **more,
        }

    def auth_data(self, **more: Any) -> dict[str, Any]:
        return {**self.base(**more), "secrets": self.secrets}

    # -------------------------------------------------------------------- requests

    def send(
        self,
        operation: str,
        request: Request,
        data: Mapping[str, Any],
        *,
        accept: tuple[int, ...] = (),
        priority: Priority = Priority.LIVE,
        authorize: bool = True,
        query: Mapping[str, str] | None = None,
        url: str | None = None,
    ) -> Exchange:
        """Render ``request`` over ``data``, send it, and judge the answer. ``query`` is
        added to the rendered query as it is; ``url`` replaces the rendered path (a next
        page's link)."""
        copied = plain(data)  # one copy for every part of the request
        path = url or self.compiled.text(request.path).render(copied)
        params = {k: self.compiled.text(v).render(copied) for k, v in request.query.items()}
        params |= dict(query or {})
        headers = {
            k: self.compiled.text(v).render(copied)
            for k, v in {**self.template.defaults.headers, **request.headers}.items()
        }
        body = None if request.body is None else self.compiled.expr(request.body).evaluate(copied)
        form = (
            None
            if request.form is None
            else {k: self.compiled.text(v).render(copied) for k, v in request.form.items()}
        )
        if authorize:
            authorize_request(self, headers, params)
        shown = {
            "method": request.method,
            "url": path,
            "query": params,
            "headers": headers,
            "body": body if form is None else form,
        }
        response = self.client.request(
            request.method,
            path,
            operation=operation,
            params=params or None,
            json_body=body,
            data=form,
            headers=headers,
            cost=request.cost,
            priority=priority,
            allow=ANY_STATUS,
            judge=lambda answer: self._judge(answer, operation, accept),
        )
        return Exchange(
            operation=operation,
            request=self.redact(shown),
            status=response.status_code,
            headers=dict(response.headers),
            body=_body(response),
        )

    def _judge(
        self, response: httpx2.Response, operation: str, accept: tuple[int, ...]
    ) -> ConnectorError | None:
        """The typed error an answer means, by the template's rules first."""
        status = response.status_code
        if status in accept:
            return None
        rules = [rule for rule in self.template.errors if self.compiled.may_match(rule, status)]
        if rules:
            view = {"status": status, "headers": dict(response.headers), "body": _body(response)}
            copied = plain(view)
            for rule in rules:
                if _true(self.compiled.expr(rule.when).evaluate(copied)):
                    return self._raise(rule, view, operation)
        if 200 <= status < 300:
            return None
        detail = error_detail(response)
        message = f"{operation}: HTTP {status}{f' — {detail}' if detail else ''}"
        if status == 429:
            return RateLimited(
                message, retry_after=retry_after(response.headers.get("Retry-After"))
            )
        if status in (401, 403):
            return AuthFailed(message)
        if status >= 500 or 300 <= status < 400:
            return Unavailable(message)
        return Rejected(message)

    def _raise(self, rule: ErrorRule, view: dict[str, Any], operation: str) -> ConnectorError:
        said = ""
        if rule.message is not None:
            try:
                said = plain_text(self.compiled.expr(rule.message).evaluate(view))
            except ExpressionError as exc:
                said = f"(the error message could not be read: {exc})"
        message = f"{operation}: HTTP {view['status']}{f' — {said}' if said else ''}"
        if rule.raise_ == "RateLimited":
            wait = retry_after(view["headers"].get("retry-after"))
            if rule.retry_after is not None:
                with contextlib.suppress(ExpressionError, TypeError, ValueError):
                    wait = max(0.0, float(self.compiled.expr(rule.retry_after).evaluate(view)))
            return RateLimited(message, retry_after=wait)
        return ERRORS[rule.raise_](message)

    def redact(self, value: Any) -> Any:
        """``value`` with every secret (and the live token) replaced."""
        hidden = [s for s in (*self.secrets.values(), *self._live_tokens()) if s and len(s) >= 4]
        text = json.dumps(value)
        for secret in sorted(hidden, key=len, reverse=True):
            text = text.replace(json.dumps(secret)[1:-1], REDACTED)
        return json.loads(text)

    def _live_tokens(self) -> list[str]:
        return self.tokens.known() if self.tokens is not None else []

    # ----------------------------------------------------------------------- hooks

    def run_hook(self, name: str, input: Any, *, priority: Priority = Priority.LIVE) -> Run:
        hook = self.template.hooks[name]
        run = Run()
        steps: dict[str, Any] = {}
        for step in hook.steps:
            data = self.base(input=input, steps=steps)
            if step.when is not None and not _true(self.compiled.expr(step.when).evaluate(data)):
                continue
            if step.foreach is None:
                exchange = self._step(name, step, data, priority)
                run.exchanges.append(exchange)
                steps[step.name] = exchange.view()
                continue
            items = self.compiled.expr(step.foreach).evaluate(data)
            items = [] if items is None else items if isinstance(items, list) else [items]
            if len(items) > step.max_items:
                raise Rejected(
                    f"{name}.{step.name}: {len(items)} items, more than its max_items "
                    f"({step.max_items})"
                )
            views = []
            for item in items:
                exchange = self._step(name, step, {**data, "item": item}, priority)
                run.exchanges.append(exchange)
                views.append(exchange.view())
            steps[step.name] = {"each": views}
        if hook.output is not None:
            run.output = self.compiled.expr(hook.output).evaluate(
                self.base(input=input, steps=steps)
            )
        return run

    def _step(self, hook: str, step: Step, data: dict[str, Any], priority: Priority) -> Exchange:
        operation = f"{hook}.{step.name}"
        accept = tuple(step.accept_status)
        exchange = self.send(operation, step.request, data, accept=accept, priority=priority)
        if step.until is None:
            return exchange
        deadline = self._clock() + step.poll.max
        while True:
            view = {
                **data,
                **exchange.view(),
                "steps": {**data["steps"], step.name: exchange.view()},
            }
            if _true(self.compiled.expr(step.until).evaluate(view)):
                return exchange
            if self._clock() + step.poll.interval > deadline:
                raise Unavailable(
                    f"{operation}: still not done after {step.poll.max:g} s of polling"
                )
            self._sleep(step.poll.interval)
            exchange = self.send(operation, step.request, data, accept=accept, priority=priority)

    # ------------------------------------------------------------------------ pulls

    def pull(
        self,
        name: str,
        *,
        cursor: str | None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        by: str = "updated_at",
        priority: Priority = Priority.BACKGROUND,
    ) -> PulledPage:
        """One page of a pull."""
        pull = self.template.pulls[name]
        request = pull.request
        paging = pull.paginate
        position = cursor
        if paging is not None and paging.kind in ("page", "offset") and position is None:
            position = str(paging.start if paging.kind == "page" else 0)
        data = self.base(cursor=position, since=_iso(since), until=_iso(until), by=by)
        extra: dict[str, str] = {}
        if pull.incremental is not None and since is not None:
            extra[pull.incremental.param] = since.isoformat()
            if pull.incremental.until_param and until is not None:
                extra[pull.incremental.until_param] = until.isoformat()
        if paging is not None and position is not None and paging.kind != "link":
            extra[paging.param] = position
        if paging is not None and paging.size_param:
            extra[paging.size_param] = str(paging.size)
        link = position if paging is not None and paging.kind == "link" else None
        if link is not None and not self._same_host(link):
            raise Rejected(f"{name}: the next page's link leaves {self.client.base_url}")
        exchange = self.send(
            f"{name}.page", request, data, priority=priority, query=extra, url=link
        )
        return self._page(pull, exchange, position)

    def fetch(self, name: str, url: str, *, priority: Priority = Priority.BACKGROUND) -> PulledPage:
        """What a thin delivery points to: ``url`` read (its own query, none of the pull's)
        and mapped by the pull ``name``. The caller has checked where ``url`` leads."""
        pull = self.template.pulls[name]
        request = pull.request.model_copy(update={"method": "GET", "query": {}, "body": None})
        exchange = self.send(f"{name}.fetch", request, self.base(), priority=priority, url=url)
        page = self._page(pull, exchange, None)
        return PulledPage(page.records, page.skipped, None, exchange)

    def _page(self, pull: Pull, exchange: Exchange, position: str | None) -> PulledPage:
        view = exchange.view()
        raw = self.compiled.expr(pull.records).evaluate(view)
        raw = [] if raw is None else raw if isinstance(raw, list) else [raw]
        mapped: list[Any] = []
        skipped: list[tuple[str, str]] = []
        mapper = self.compiled.expr(pull.map)
        for record in raw:
            try:
                mapped.append(mapper.evaluate(self.base(record=record)))
            except ExpressionError as exc:
                ident = record.get("id", "?") if isinstance(record, dict) else "?"
                skipped.append((str(ident), f"the template could not map it: {exc}"))
        following = self._next(pull.paginate, view, position, len(raw))
        return PulledPage(mapped, skipped, following, exchange)

    def _same_host(self, link: str) -> bool:
        return httpx2.URL(link).host == httpx2.URL(self.client.base_url).host

    def _next(
        self, paging: Any, view: dict[str, Any], position: str | None, count: int
    ) -> str | None:
        if paging is None:
            return None
        if paging.kind == "cursor" and paging.next is not None:
            found = self.compiled.expr(paging.next).evaluate(view)
            return None if found in (None, "") else plain_text(found)
        if paging.kind == "link":
            return _next_link(view["headers"].get("link", ""))
        if count < paging.size:
            return None
        step = 1 if paging.kind == "page" else paging.size
        return str(int(position or 0) + step)


def _body(response: httpx2.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return response.text[:10_000]


def _true(value: Any) -> bool:
    return value is True or (value not in (None, False, 0, "", [], {}) and value is not False)


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _next_link(header: str) -> str | None:
    for part in header.split(","):
        if 'rel="next"' in part:
            return part.split(";")[0].strip().strip("<>")
    return None


def hooks_bound_to(template: Template, event: str) -> Iterator[tuple[str, Hook]]:
    """The hooks that answer ``event``."""
    return ((name, hook) for name, hook in template.hooks.items() if hook.on == event)
