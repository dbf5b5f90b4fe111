"""Template expressions: JSONata over JSON only, bounded, with linear-time regexes and
money kept as decimal strings."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import jsonata
import pytest

from tradewind.connectors.template.expressions import (
    TIMEOUT_MS,
    Expression,
    ExpressionError,
    Text,
    plain,
)


def test_an_expression_builds_json_from_its_data() -> None:
    mapping = Expression.compile('{"id": steps.create.body.id, "rate": $money(input.amount)}')
    data = {"steps": {"create": {"body": {"id": 7}}}, "input": {"amount": Decimal("12.5")}}
    assert mapping.evaluate(data) == {"id": 7, "rate": "12.50"}


def test_text_renders_its_parts() -> None:
    path = Text.compile("/orders/{{ input.id }}/lines/{{ input.n }}")
    assert path.render({"input": {"id": "A1", "n": 2}}) == "/orders/A1/lines/2"


def test_an_endless_recursion_is_stopped() -> None:
    endless = Expression.compile("($f := function($x) { $f($x) }; $f(1))")
    with pytest.raises(ExpressionError, match=r"timeout|nests"):
        endless.evaluate({})


def test_a_long_loop_that_never_nests_is_stopped_by_its_time() -> None:
    # Millions of shallow steps: only the clock, read every few steps, stops it.
    long = Expression.compile("$sum([1..2000000].($ * 2))")
    with pytest.raises(ExpressionError, match="timeout"):
        long.evaluate({})


def test_a_regex_that_backtracks_elsewhere_runs_in_linear_time_here() -> None:
    # (a+)+$ over a long run of a's and a b takes exponential time on a backtracking
    # engine; RE2 answers at once (and the bound would stop it if it did not).
    catastrophic = Expression.compile("$match(s, /(a+)+$/)")
    assert catastrophic.evaluate({"s": "a" * 50_000 + "b"}) is None


def test_eval_is_refused_when_the_template_is_read() -> None:
    with pytest.raises(ExpressionError, match=r"\$eval is not allowed"):
        Expression.compile("$eval(body.code)")


def test_only_json_reaches_an_expression() -> None:
    class Secretive:
        pass

    with pytest.raises(TypeError, match="not JSON data"):
        Expression.compile("x").evaluate({"x": Secretive()})


def test_a_non_amount_is_refused_by_money() -> None:
    with pytest.raises(ExpressionError, match="not an amount"):
        Expression.compile("$money(x)").evaluate({"x": "twelve"})


ALL = range(100, 600)


@pytest.mark.parametrize(
    ("when", "statuses"),
    [
        ("status = 401", {401}),
        ("401 = status", {401}),
        ("status >= 400 and status < 403", {400, 401, 402}),
        ("(status = 401 or status = 403)", {401, 403}),
        ("status in [409, 422]", {409, 422}),
        ("status = 200 and body.status = 'ERROR'", {200}),
        ("status = 401 and status = 403", set()),
        # Anything else may match every status: the rule is run on each answer.
        ("status = 429 or body.error", set(ALL)),
        ("$number(status) >= 500", set(ALL)),
        ("status[0] = 401", set(ALL)),
        ("status = '401'", set(ALL)),
        ("body.code = 'E'", set(ALL)),
    ],
)
def test_the_statuses_an_expression_can_be_true_for_are_read_from_its_tree(
    when: str, statuses: set[int]
) -> None:
    assert Expression.compile(when).true_for("status", ALL) == statuses


def test_one_copy_of_the_data_serves_several_expressions_unchanged() -> None:
    copied = plain({"input": {"amount": Decimal("3.5"), "tags": ["b", "a"]}})
    assert Expression.compile("$sort(input.tags)").evaluate(copied) == ["a", "b"]
    assert Expression.compile("input").evaluate(copied) == {"amount": "3.5", "tags": ["b", "a"]}
    assert Text.compile("{{ input.amount }}").render(copied) == "3.5"


def test_time_the_thread_spends_waiting_does_not_count_against_an_expression() -> None:
    # A busy machine (or the engine's other threads) can hold an evaluation up for longer
    # than its bound; only the work the expression itself does counts.
    class Waits(jsonata.Jsonata.JFunctionCallable):  # type: ignore[misc]
        def call(self, input: Any, args: Any) -> int:
            time.sleep(TIMEOUT_MS / 1000 * 1.5)
            return 1

    waiting = Expression.compile("$wait() + 1")
    waiting._compiled.register_function("wait", jsonata.Jsonata.JFunction(Waits(), "<:n>"))
    assert waiting.evaluate({}) == 2
