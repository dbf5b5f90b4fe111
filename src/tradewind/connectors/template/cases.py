"""Recorded cases of a template: each runs one hook, pull or the connection test against
the exchanges recorded for it and says whether the template still sends what was
recorded and maps the answers to what was expected. A case file sits next to its
template (``shop.yaml`` → ``shop.cases.yaml``); ``docs/templates.md`` describes it.

The template runs for real — its settings form, environment, auth, error rules, steps,
pagination and mappings — through the SDK's ``HttpClient``; only the transport is a
``httpx2.MockTransport`` that checks each request against the next recorded one and
answers with the recorded response. A difference is reported with a diff.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl

import httpx2
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tradewind.connectors.base import ConnectorContext
from tradewind.connectors.errors import ConnectorError, RateLimited
from tradewind.connectors.outbound import OutboundPolicy
from tradewind.connectors.ratelimit import UnlimitedBudget
from tradewind.connectors.template.checks import bound_record
from tradewind.connectors.template.connector import TemplateConnector, connector_class
from tradewind.connectors.template.expressions import as_json
from tradewind.connectors.template.fit import RECORDS
from tradewind.connectors.template.format import ErrorKind, Method, Template
from tradewind.connectors.template.loader import (
    Problem,
    TemplateInvalid,
    dotted,
    parse_yaml,
    shape_problems,
)
from tradewind.connectors.template.runtime import Runner
from tradewind.connectors.template.sources import CASES_SUFFIX
from tradewind.connectors.testing import CallList, MemoryCredentials
from tradewind.vocabulary import Toggle


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RecordedRequest(_Model):
    """What the template must send. ``path`` is below the environment's base URL;
    ``query`` is compared whole, ``headers`` only for the names given (``null``: must not
    be sent, names in any case); no ``body`` and no ``form``: a request without a body."""

    method: Method = "GET"
    path: str
    query: dict[str, str | list[str]] = Field(default_factory=dict)
    headers: dict[str, str | None] = Field(default_factory=dict)
    body: Any = None  # JSON
    form: dict[str, str] | None = None


class RecordedResponse(_Model):
    status: int = Field(default=200, ge=100, le=599)
    headers: dict[str, str] = Field(default_factory=dict)
    body: Any = None  # JSON; none with ``text``
    text: str | None = None  # a body that is not JSON


class Exchange(_Model):
    request: RecordedRequest
    response: RecordedResponse = RecordedResponse()


class ExpectedError(_Model):
    kind: ErrorKind
    message: str | None = None  # a part of the error's message
    retry_after: float | None = None  # RateLimited: the seconds it says to wait


class PullInput(_Model):
    cursor: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    by: Literal["updated_at", "created_at"] = "updated_at"


class Case(_Model):
    """One run: a ``hook`` with its ``input``, a ``pull`` followed page by page (up to
    ``pages``), or the ``test_connection``; then its ``output`` or its ``error``."""

    name: str = Field(min_length=1, max_length=120)
    hook: str | None = None
    pull: str | None = None
    test_connection: bool = False
    input: Any = None
    settings: dict[str, Any] = Field(default_factory=dict)  # over the file's settings
    exchanges: list[Exchange] = Field(default_factory=list)
    output: Any = None
    skipped: list[str] = Field(default_factory=list)  # pull: the ids of records not mapped
    pages: int | None = Field(default=None, ge=1)
    next_cursor: str | None = None  # pull: the cursor after the last page read
    error: ExpectedError | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Case:
        if [self.hook is not None, self.pull is not None, self.test_connection].count(True) != 1:
            raise ValueError("a case runs one of `hook`, `pull` or `test_connection: true`")
        return self


class CasesFile(_Model):
    format: Literal["tradewind-template-cases/v1"]
    template: str  # the id of the template it tests
    settings: dict[str, Any] = Field(default_factory=dict)  # the plugin's (test values only)
    credentials: dict[str, str] = Field(default_factory=dict)  # OAuth / session tokens held
    # What ``now`` is while the cases run: a recording does not age.
    now: dt.datetime = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    cases: list[Case] = Field(min_length=1)


class CasesInvalid(TemplateInvalid):
    """A case file that cannot be run, with every problem found."""


@dataclass(frozen=True)
class CaseResult:
    name: str
    ok: bool
    detail: str = ""  # why it failed, with a diff


class _Mismatch(Exception):
    """A request the recording does not have: ends the case."""


def cases_path(template: Path) -> Path:
    """Where the cases of the template file ``template`` are."""
    return template.with_name(
        template.name.removesuffix(".yaml").removesuffix(".yml") + CASES_SUFFIX
    )


def load_cases(text: str, template: Template) -> CasesFile:
    """The case file in ``text`` for ``template``; ``CasesInvalid`` lists what is wrong,
    each problem with its line and column."""
    try:
        data, positions = parse_yaml(text)
    except TemplateInvalid as exc:
        raise CasesInvalid(exc.problems) from None
    if not isinstance(data, dict):
        raise CasesInvalid([Problem("", "a case file is a mapping of keys")])
    try:
        loaded = CasesFile.model_validate(data)
    except ValidationError as exc:
        raise CasesInvalid(list(shape_problems(exc, positions))) from None
    problems = [
        Problem(dotted(path), message, *positions.of(path))
        for path, message in _check(loaded, template)
    ]
    if problems:
        raise CasesInvalid(problems)
    return loaded


def _check(cases: CasesFile, template: Template) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if cases.template != template.id:
        yield ("template",), f"these cases are for {cases.template!r}, not {template.id!r}"
    seen: set[str] = set()
    for index, case in enumerate(cases.cases):
        at: tuple[str | int, ...] = ("cases", index)
        if case.name in seen:
            yield (*at, "name"), f"a case {case.name!r} comes earlier in this file"
        seen.add(case.name)
        if case.hook is not None and case.hook not in template.hooks:
            yield (*at, "hook"), _unknown("hook", case.hook, list(template.hooks))
        if case.pull is not None and case.pull not in template.pulls:
            yield (*at, "pull"), _unknown("pull", case.pull, list(template.pulls))
        if case.pull is not None and case.input is not None:
            try:
                PullInput.model_validate(case.input)
            except ValidationError as exc:
                yield (*at, "input"), f"not a pull's input: {_why(exc)}"
        if case.error is not None and case.output is not None:
            yield (*at, "output"), "a case expects an `output` or an `error`, not both"
        if case.pull is None and (case.skipped or case.pages or case.next_cursor):
            yield (*at,), "`skipped`, `pages` and `next_cursor` are for a pull"


def _unknown(what: str, name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"the template has no {what} {name!r}" + (
        f" (did you mean {close[0]!r}?)" if close else ""
    )


def run_cases(template: Template, cases: CasesFile) -> list[CaseResult]:
    return [run_case(template, cases, case) for case in cases.cases]


def run_case(template: Template, cases: CasesFile, case: Case) -> CaseResult:
    """Run ``case`` against its recorded exchanges."""
    transport = _Replay(case.exchanges)
    try:
        connector = _connector(template, {**cases.settings, **case.settings}, cases, transport)
    except (ValidationError, ValueError) as exc:
        return CaseResult(case.name, False, f"the settings do not fit the template: {exc}")
    transport.base_path = httpx2.URL(connector.http.base_url).path.rstrip("/")
    try:
        output, skipped, cursor = _run(connector, template, case)
    except _Mismatch as exc:
        return CaseResult(case.name, False, str(exc))
    except ConnectorError as exc:
        ok, detail = _judge_error(case, exc)
        if ok and transport.unused():
            return CaseResult(case.name, False, transport.unused())
        return CaseResult(case.name, ok, detail)
    except Exception as exc:  # a template that fails otherwise (an expression) fails its case
        return CaseResult(case.name, False, f"it failed: {type(exc).__name__}: {exc}")
    finally:
        connector.close()
    if transport.unused():
        return CaseResult(case.name, False, transport.unused())
    if case.error is not None:
        return CaseResult(case.name, False, f"expected {case.error.kind}, but it succeeded")
    return CaseResult(case.name, *_judge_output(template, case, output, skipped, cursor))


def _connector(
    template: Template, settings: Mapping[str, Any], cases: CasesFile, transport: _Replay
) -> TemplateConnector:
    kind = connector_class(template)
    context = ConnectorContext(
        plugin_id=1,
        plugin_name=f"cases of {template.id}",
        webhook_url="http://127.0.0.1:9/hooks/1",
        credentials=MemoryCredentials(cases.credentials),
        budget=lambda _policy: UnlimitedBudget(),
        recorder=CallList(),
        transport=transport,
        outbound=OutboundPolicy(),
    )
    connector = kind(kind.info.settings.model_validate(dict(settings)), context)
    runner, clock = connector.runner, _Clock()
    connector.runner = Runner(
        template,
        settings=runner.settings,
        secrets=runner.secrets,
        client=runner.client,
        environment=runner.environment,
        tokens=runner.tokens,
        compiled=runner.compiled,
        clock=clock,
        sleep=clock.sleep,
        wall=lambda: cases.now,
    )
    return connector


class _Clock:
    """Time that passes only while the template waits: a polling step goes through its
    recorded answers at once, and its ``poll.max`` still ends it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _run(
    connector: TemplateConnector, template: Template, case: Case
) -> tuple[Any, list[str], str | None]:
    if case.test_connection:
        report = connector.test_connection(frozenset[Toggle](), frozenset())
        return report.model_dump(mode="json"), [], None
    if case.hook is not None:
        return as_json(connector.runner.run_hook(case.hook, case.input).output), [], None
    if case.pull is None:
        raise ValueError("a case runs a hook, a pull or the connection test")
    given = PullInput.model_validate(case.input or {})
    records: list[Any] = []
    skipped: list[str] = []
    cursor = given.cursor
    # Followed to its last page, or ``pages``; a template that never stops runs out of
    # recorded exchanges first.
    for _ in range(case.pages or len(case.exchanges) + 1):
        page = connector.runner.pull(
            case.pull, cursor=cursor, since=given.since, until=given.until, by=given.by
        )
        records.extend(page.records)
        skipped.extend(ident for ident, _ in page.skipped)
        cursor = page.next_cursor
        if cursor is None:
            break
    # As the engine takes them: a record that does not fit its hub record is skipped.
    model = RECORDS.get(bound_record(template, ("pulls", case.pull)))
    fitting: list[Any] = []
    for record in as_json(records):
        if model is None or _fits(model, record):
            fitting.append(record)
        else:
            skipped.append(str(record.get("external_id", "?") if isinstance(record, dict) else "?"))
    return fitting, skipped, cursor


def _fits(model: type[BaseModel], record: Any) -> bool:
    try:
        model.model_validate(record)
    except ValidationError:
        return False
    return True


def _judge_error(case: Case, error: ConnectorError) -> tuple[bool, str]:
    got = f"{type(error).__name__}: {error}"
    expected = case.error
    if expected is None:
        return False, f"expected an output, but it raised {got}"
    if type(error).__name__ != expected.kind:
        return False, f"expected {expected.kind}, but it raised {got}"
    if expected.message is not None and expected.message not in str(error):
        return False, f"expected {expected.kind} saying {expected.message!r}, but it raised {got}"
    if expected.retry_after is not None and (
        not isinstance(error, RateLimited) or error.retry_after != expected.retry_after
    ):
        waits = getattr(error, "retry_after", None)
        return False, f"expected a wait of {expected.retry_after:g} s, but it says {waits}"
    return True, ""


def _judge_output(
    template: Template, case: Case, output: Any, skipped: list[str], cursor: str | None
) -> tuple[bool, str]:
    if case.pull is not None:
        got = {"records": output, "skipped": skipped, "next_cursor": cursor}
        expected = {
            "records": case.output or [],
            "skipped": case.skipped,
            "next_cursor": case.next_cursor,
        }
    else:
        got, expected = output, case.output
    if got != as_json(expected):
        return False, "the output differs from the expected one:\n" + diff(expected, got)
    unfit = _unfit(template, case, output)
    return (False, unfit) if unfit else (True, "")


def _unfit(template: Template, case: Case, output: Any) -> str:
    """Why the output would not reach the hub as its record ("" when it would)."""
    if case.hook is None:
        return ""  # a pull's records that do not fit are skipped, a report always fits
    model = RECORDS.get(bound_record(template, ("hooks", case.hook)))
    if model is None or output is None:
        return ""
    for index, row in enumerate(output if isinstance(output, list) else [output]):
        try:
            model.model_validate(row)
        except ValidationError as exc:
            where = f"item {index}" if isinstance(output, list) else "the output"
            return f"{where} does not fit {model.__name__}: {_why(exc)}"
    return ""


class _Replay(httpx2.MockTransport):
    """Answers each request with the next recorded exchange, once the request is the
    recorded one."""

    def __init__(self, exchanges: Sequence[Exchange]) -> None:
        super().__init__(self._answer)
        self.exchanges = list(exchanges)
        self.sent = 0
        self.base_path = ""

    def _answer(self, request: httpx2.Request) -> httpx2.Response:
        index = self.sent
        self.sent += 1
        if index >= len(self.exchanges):
            raise _Mismatch(
                f"request {index + 1} was not recorded (only {len(self.exchanges)} were):\n"
                + json.dumps(self._view(request, None), indent=2)
            )
        recorded = self.exchanges[index]
        expected = self._expected(recorded.request)
        sent = self._view(request, recorded.request.headers)
        if sent != expected:
            raise _Mismatch(
                f"request {index + 1} differs from the recording "
                f"(- recorded, + sent):\n{diff(expected, sent)}"
            )
        answer = recorded.response
        headers = dict(answer.headers)
        if answer.text is not None:
            return httpx2.Response(answer.status, headers=headers, text=answer.text)
        if answer.body is None:
            return httpx2.Response(answer.status, headers=headers)
        return httpx2.Response(answer.status, headers=headers, json=answer.body)

    def unused(self) -> str:
        if self.sent >= len(self.exchanges):
            return ""
        left = self.exchanges[self.sent].request
        return (
            f"exchange {self.sent + 1} ({left.method} {left.path}) was recorded "
            f"but never requested ({self.sent} of {len(self.exchanges)} were)"
        )

    def _expected(self, recorded: RecordedRequest) -> dict[str, Any]:
        view = recorded.model_dump(include={"method", "path", "query"})
        view["headers"] = {name.lower(): value for name, value in recorded.headers.items()}
        view["body"] = recorded.form if recorded.form is not None else as_json(recorded.body)
        return view

    def _view(self, request: httpx2.Request, names: Collection[str] | None) -> dict[str, Any]:
        """The request as a recording says it, with only the headers ``names`` (all of
        them when ``None``)."""
        path = request.url.path
        if self.base_path and (path == self.base_path or path.startswith(self.base_path + "/")):
            path = path[len(self.base_path) :] or "/"
        query: dict[str, str | list[str]] = {}
        for key, value in request.url.params.multi_items():
            held = query.get(key)
            query[key] = value if held is None else [*_listed(held), value]
        named = list(request.headers) if names is None else names
        headers = {name.lower(): request.headers.get(name) for name in named}
        return {
            "method": request.method,
            "path": path,
            "query": query,
            "headers": headers,
            "body": _sent_body(request),
        }


def _listed(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def _sent_body(request: httpx2.Request) -> Any:
    content = request.content
    if not content:
        return None
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(content.decode(), keep_blank_values=True))
    try:
        return json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return content.decode(errors="replace")


def diff(expected: Any, got: Any) -> str:
    """A unified diff of two JSON values (``-`` expected, ``+`` got)."""
    before = json.dumps(expected, indent=2, sort_keys=True, default=str).splitlines()
    after = json.dumps(got, indent=2, sort_keys=True, default=str).splitlines()
    lines = difflib.unified_diff(before, after, "expected", "got", lineterm="", n=3)
    return "\n".join(lines)


def _why(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(map(str, error['loc'])) or 'it'}: {error['msg']}" for error in exc.errors()[:5]
    )
