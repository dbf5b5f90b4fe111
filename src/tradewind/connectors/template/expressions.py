"""The one expression language of a template: JSONata, compiled once when the template
is loaded and evaluated under bounds.

* An expression sees JSON only: its data is copied through ``json`` first, so no Python
  object reaches it, and money stays the decimal strings the data holds. Several
  expressions over the same data read one copy (``Plain``).
* Evaluation is bounded in time and depth (an endless recursion or loop is stopped). The
  time is the evaluating thread's own CPU time: a busy machine or the engine's other
  threads slow an expression without it doing more, and must not make it fail.
* Regular expressions run on RE2, which matches in linear time: no pattern can backtrack
  without bound, so patterns are allowed rather than refused.
* ``$eval`` (an expression built from data) is refused when the template is loaded.
* Secrets are not in the data an expression sees, except in ``auth`` (``secrets``).

A string field that is not itself an expression may hold ``{{ expression }}`` parts
(``Text``): a path, a header value.
"""

from __future__ import annotations

import json
import operator
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import jsonata
import re2
from jsonata import tokenizer
from jsonata.jexception import JException
from jsonata.regex_engine import RegexFlags

TIMEOUT_MS = 200
MAX_DEPTH = 64
CLOCK_EVERY = 16
MAX_LENGTH = 4096
REFUSED_FUNCTIONS = frozenset({"eval"})
_PART = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


class ExpressionError(ValueError):
    """An expression that does not compile (``position`` is its offset), or failed."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


def _linear_regex(pattern: str, flags: RegexFlags) -> Any:
    options = re2.Options()
    options.case_sensitive = not flags.case_insensitive
    options.never_nl = False
    prefix = "(?m)" if flags.multiline else ""
    try:
        return re2.compile(prefix + pattern, options)
    except re2.error as exc:
        raise JException("S0301", 0, str(exc)) from None


class _Money(jsonata.Jsonata.JFunctionCallable):  # type: ignore[misc]
    """``$money(x)``: a decimal string of an amount given as a number or a string
    ("12.5" → "12.50"), so money never passes through a float on its way out."""

    def call(self, input: Any, args: Any) -> str | None:
        value = args[0] if args else None
        if value is None:
            return None
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise ExpressionError(f"$money: {value!r} is not an amount") from None
        return str(amount.quantize(Decimal("0.01")))


_MONEY = jsonata.Jsonata.JFunction(_Money(), "<x-:s>")


@dataclass(frozen=True, slots=True)
class Plain:
    """Data already copied to plain JSON values (``plain``): the one copy that several
    expressions over the same data read. Evaluating never changes it."""

    value: Any


def plain(data: Mapping[str, Any] | Plain) -> Plain:
    """``data`` copied to plain JSON values, once."""
    return data if isinstance(data, Plain) else Plain(as_json(data))


@dataclass(frozen=True)
class Expression:
    """A compiled JSONata expression."""

    source: str
    _compiled: jsonata.Jsonata

    @classmethod
    def compile(cls, source: str) -> Expression:
        if len(source) > MAX_LENGTH:
            raise ExpressionError(f"longer than {MAX_LENGTH} characters")
        _refuse_functions(source)
        try:
            compiled = jsonata.Jsonata(source, _linear_regex)
        except JException as exc:
            raise ExpressionError(_message(exc), _position(exc)) from None
        compiled.register_function("money", _MONEY)
        # The data is ``as_json``'s copy: jsonata's own walk over it, checking every value
        # is JSON, would only repeat that (and cost more than many an expression).
        compiled.set_validate_input(False)
        return cls(source, compiled)

    def evaluate(self, data: Mapping[str, Any] | Plain) -> Any:
        """The value of the expression over ``data`` (plain JSON values only)."""
        frame = self._compiled.create_frame(self._compiled.environment)
        _Bounds(frame)
        try:
            return self._compiled.evaluate(plain(data).value, frame)
        except JException as exc:
            raise ExpressionError(_message(exc)) from None
        except RecursionError:
            raise ExpressionError("the expression nests too deeply") from None

    def tree(self) -> Any:
        """The parsed expression (jsonata's syntax tree), for the checks that read an
        expression without running it."""
        return self._compiled.ast

    def true_for(self, name: str, values: Iterable[int]) -> frozenset[int]:
        """Those of ``values`` of the root number ``name`` for which the expression may be
        true, read from its tree: comparisons of ``name`` with a number literal (``=``,
        ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``in [..]``) joined by ``and`` and ``or``
        narrow them; any other expression may be true for all of them. An error rule's
        ``when`` need not be run on an answer whose status it cannot match."""
        universe = frozenset(values)
        return _true_for(self._compiled.ast, name, universe)

    def names(self) -> list[list[str]]:
        """Every path of field names the expression reads from its root, e.g.
        ``[["steps", "create", "body", "id"], ["settings", "label_format"]]``."""
        return _paths(self.source)


_COMPARE: Mapping[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_MIRRORED = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
# The parts of a jsonata node that only place or name it: a node with anything else set
# (a predicate, a stage, a focus, a group...) is not read as a plain name or number.
_BARE = frozenset({"_outer_instance", "id", "type", "value", "position", "steps"})


def _true_for(node: Any, name: str, universe: frozenset[int]) -> frozenset[int]:
    kind, value = getattr(node, "type", None), str(getattr(node, "value", ""))
    if kind == "block" and len(node.expressions or []) == 1:
        return _true_for(node.expressions[0], name, universe)
    if kind != "binary":
        return universe
    if value == "and":
        return _true_for(node.lhs, name, universe) & _true_for(node.rhs, name, universe)
    if value == "or":
        return _true_for(node.lhs, name, universe) | _true_for(node.rhs, name, universe)
    if value == "in" and _is_name(node.lhs, name):
        listed = node.rhs
        if getattr(listed, "type", None) == "unary" and listed.value == "[" and _bare(listed):
            numbers = [_number(item) for item in listed.expressions or []]
            if all(number is not None for number in numbers):
                return frozenset(v for v in universe if v in numbers)
        return universe
    if value in _COMPARE:
        if _is_name(node.lhs, name) and (number := _number(node.rhs)) is not None:
            compare = _COMPARE[value]
        elif _is_name(node.rhs, name) and (number := _number(node.lhs)) is not None:
            compare = _COMPARE[_MIRRORED[value]]
        else:
            return universe
        return frozenset(v for v in universe if compare(v, number))
    return universe


def _bare(node: Any) -> bool:
    return all(
        key in _BARE or key == "expressions" or not found for key, found in vars(node).items()
    )


def _is_name(node: Any, name: str) -> bool:
    """``node`` is the path of the one root field ``name``, nothing more."""
    if getattr(node, "type", None) != "path" or not _bare(node) or len(node.steps or []) != 1:
        return False
    step = node.steps[0]
    return step.type == "name" and step.value == name and _bare(step)


def _number(node: Any) -> float | None:
    if getattr(node, "type", None) != "number" or not _bare(node):
        return None
    value = node.value
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class _Bounds:
    """Stops an evaluation past ``MAX_DEPTH`` nested steps or ``TIMEOUT_MS`` of its
    thread's CPU time (jsonata's own bound counts wall time, so any wait for the
    interpreter or the processor counted against the expression)."""

    def __init__(self, frame: Any) -> None:
        self._started = time.thread_time()
        self._depth = 0
        self._steps = 0
        frame.set_evaluate_entry_callback(self._enter)
        frame.set_evaluate_exit_callback(self._leave)

    def _enter(self, _expr: Any, _input: Any, env: Any) -> None:
        if not env.is_parallel_call:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise JException("D1011", -1)
            self._tick()

    def _leave(self, _expr: Any, _input: Any, env: Any, _result: Any) -> None:
        if not env.is_parallel_call:
            self._depth -= 1
            self._tick()

    def _tick(self) -> None:
        # The clock is read every ``CLOCK_EVERY`` steps, not at each: reading it cost a
        # fifth of a small expression's time, and a few steps are microseconds.
        self._steps += 1
        if self._steps % CLOCK_EVERY:
            return
        if (time.thread_time() - self._started) * 1000 > TIMEOUT_MS:
            raise JException("D1012", -1, TIMEOUT_MS)


def as_json(data: Any) -> Any:
    """``data`` as plain JSON values: decimals become strings, dates ISO strings."""
    return json.loads(json.dumps(data, default=_plain))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON data")


def plain_text(value: Any) -> str:
    """An expression's value as one string: a string as it is, anything else as JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


@dataclass(frozen=True)
class Text:
    """A string with ``{{ expression }}`` parts, rendered to a string."""

    source: str
    parts: tuple[str | Expression, ...]

    @classmethod
    def compile(cls, source: str) -> Text:
        parts: list[str | Expression] = []
        last = 0
        for found in _PART.finditer(source):
            if found.start() > last:
                parts.append(source[last : found.start()])
            try:
                parts.append(Expression.compile(found.group(1).strip()))
            except ExpressionError as exc:
                offset = None if exc.position is None else found.start(1) + exc.position
                raise ExpressionError(
                    f"in {{{{ {found.group(1).strip()} }}}}: {exc}", offset
                ) from None
            last = found.end()
        if last < len(source):
            parts.append(source[last:])
        return cls(source, tuple(parts))

    def render(self, data: Mapping[str, Any] | Plain) -> str:
        if all(isinstance(part, str) for part in self.parts):
            return self.source  # nothing to evaluate: the data need not be copied
        copied = plain(data)
        return "".join(
            part if isinstance(part, str) else _text(part.evaluate(copied)) for part in self.parts
        )

    def expressions(self) -> list[Expression]:
        return [part for part in self.parts if isinstance(part, Expression)]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value) if isinstance(value, list | dict) else str(value)


def _tokens(source: str) -> list[tuple[str, Any, int]]:
    """(type, value, position) of every token, or nothing when it does not tokenize."""
    lexer = tokenizer.Tokenizer(source, _linear_regex)
    found: list[tuple[str, Any, int]] = []
    prefix = True
    try:
        while (token := lexer.next(prefix)) is not None:
            found.append((token.type, token.value, token.position))
            prefix = token.type == "operator" and token.value not in (")", "]", "}")
    except (JException, IndexError):
        return found
    return found


def _refuse_functions(source: str) -> None:
    for kind, value, position in _tokens(source):
        if kind == "variable" and value in REFUSED_FUNCTIONS:
            raise ExpressionError(
                f"${value} is not allowed in a template (it would run data as an expression)",
                position,
            )


def _paths(source: str) -> list[list[str]]:
    """The dotted name paths at the start of each path in ``source`` (a reader's view:
    names that follow a ``.`` after a name continue its path)."""
    paths: list[list[str]] = []
    current: list[str] | None = None
    expect_name = False
    for kind, value, _ in _tokens(source):
        if kind == "name":
            if current is not None and expect_name:
                current.append(str(value))
            else:
                current = [str(value)]
                paths.append(current)
            expect_name = False
        elif kind == "operator" and value == ".":
            expect_name = current is not None
        else:
            current = None if not (kind == "operator" and value == ".") else current
            expect_name = False
    return paths


def _message(exc: JException) -> str:
    text = str(exc) or getattr(exc, "error", "") or "invalid expression"
    return text.rstrip(".")


def _position(exc: JException) -> int | None:
    position = getattr(exc, "location", None)
    return position if isinstance(position, int) and position >= 0 else None
