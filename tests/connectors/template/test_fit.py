"""An output that builds its hub record with keys written out is checked against the
record when the template loads: a key the record does not have (with the likely fix), a
required field left out, in nested records too. An output that cannot be read without
running it is not judged."""

from __future__ import annotations

from importlib.resources import files
from types import SimpleNamespace
from typing import cast

import pytest

from tradewind.connectors.records import OrderRecord
from tradewind.connectors.template import TemplateInvalid, load_template, shipped_templates
from tradewind.connectors.template.expressions import Expression
from tradewind.connectors.template.fit import misfits

STORE = """\
schema: tradewind-template/v1
id: shop
version: 1.0.0
display_name: Shop
category: storefront
capabilities: [import_orders, push_stock]
environments:
  live: {base_url: "https://api.shop.example"}
auth: {kind: none}
test_connection:
  request: {path: /me}
hooks:
  get_order:
    steps:
      - name: order
        request: {path: "/orders/{{ input.id }}"}
        accept_status: [404]
    output: |
      steps.order.status = 404 ? null : (
        $o := steps.order.body;
        {"external_id": $o.id, "number": $o.number, "currency": $o.currency,
         "placed_at": $o.placed_at, "updated_at": $o.updated_at,
         "lines": [$o.lines.{"external_id": id, "quantity": quantity}]})
  push_stock:
    steps:
      - name: push
        request: {method: POST, path: /stock, body: "input"}
    output: |
      [$map(steps.push.body, function($r) {
        {"product_id": $r.product, "location_ref": $r.location, "ok": $r.ok}})]
    returns: StockPushResult
pulls:
  orders:
    request: {path: /orders}
    records: body
    map: |
      {"external_id": record.id, "number": record.number, "currency": record.currency,
       "placed_at": record.placed_at, "updated_at": record.updated_at, "lines": []}
    returns: Order
  catalogue:
    request: {path: /products}
    records: body
    map: '{"external_id": record.id, "title": record.title}'
    returns: Product
"""


def problems(text: str) -> list[str]:
    with pytest.raises(TemplateInvalid) as refused:
        load_template(text)
    return [str(problem) for problem in refused.value.problems]


def test_outputs_that_build_their_records_load() -> None:
    template = load_template(STORE)
    assert set(template.hooks) == {"get_order", "push_stock"}


def test_the_shipped_storefront_builds_its_records_and_is_read_not_skipped() -> None:
    text = files("tradewind.integrations").joinpath("templates/rest_storefront.yaml").read_text()
    assert load_template(text).id in {t.id for t in shipped_templates()}
    for record in ('"currency": $o.currency', '"currency": record.currency'):
        assert text.count(record) == 1
    found = problems(
        text.replace('"currency": $o.currency', '"curency": $o.currency')
        .replace('"ok": $r.ok', '"okk": $r.ok')
        .replace('"currency": record.currency,', "")
    )
    assert [problem.split(": ", 1)[1] for problem in found] == [
        "hooks.get_order.output: unknown OrderRecord field 'curency' (did you mean 'currency'?)",
        "hooks.push_stock.output: unknown StockPushResult field 'okk' (did you mean 'ok'?)",
        "pulls.orders.map: the OrderRecord it builds leaves out 'currency' (required)",
    ]


def test_an_unknown_key_is_named_at_the_output_with_the_likely_fix() -> None:
    found = problems(STORE.replace('"number": $o.number', '"numbr": $o.number'))
    assert found == [
        "line 18, column 5: hooks.get_order.output: unknown OrderRecord field 'numbr' "
        "(did you mean 'number'?)"
    ]


def test_a_missing_required_field_is_named() -> None:
    found = problems(STORE.replace('"currency": record.currency,', ""))
    assert found == [
        "line 36, column 5: pulls.orders.map: the OrderRecord it builds leaves out "
        "'currency' (required)"
    ]
    found = problems(STORE.replace('"number": record.number, "currency": record.currency,', ""))
    assert found == [
        "line 36, column 5: pulls.orders.map: the OrderRecord it builds leaves out "
        "'number', 'currency' (required)"
    ]


def test_a_key_unlike_any_field_is_named_without_a_guess() -> None:
    found = problems(STORE.replace('"title": record.title}', '"title": record.title, "zz": 1}'))
    assert found == ["line 43, column 5: pulls.catalogue.map: unknown ProductRecord field 'zz'"]


def test_nested_records_are_checked_where_they_sit() -> None:
    found = problems(STORE.replace('"quantity": quantity', '"quantty": quantity'))
    assert found == [
        "line 18, column 5: hooks.get_order.output: lines: unknown OrderLineRecord field "
        "'quantty' (did you mean 'quantity'?)"
    ]


def test_an_item_built_in_map_is_checked_as_the_record() -> None:
    found = problems(STORE.replace('"ok": $r.ok', '"okay": $r.ok'))
    assert found == [
        "line 28, column 5: hooks.push_stock.output: unknown StockPushResult field 'okay' "
        "(did you mean 'ok'?)"
    ]


def test_a_pull_is_checked_against_its_returns() -> None:
    found = problems(STORE.replace('"title": record.title', '"titel": record.title'))
    assert found == [
        "line 43, column 5: pulls.catalogue.map: unknown ProductRecord field 'titel' "
        "(did you mean 'title'?)"
    ]


def test_a_hook_a_capability_reads_is_checked_as_that_record() -> None:
    # get_order says nothing of `returns`; import_orders reads it as an order all the same.
    assert "returns" not in STORE.split("get_order:")[1].split("push_stock:")[0]
    found = problems(STORE.replace('"currency": $o.currency,', ""))
    assert found == [
        "line 18, column 5: hooks.get_order.output: the OrderRecord it builds leaves out "
        "'currency' (required)"
    ]


@pytest.mark.parametrize(
    "output",
    [
        # The record passed through whole, merged, or with a key known only when it runs.
        "steps.order.body",
        '$merge([{"external_id": steps.order.body.id}, steps.order.body])',
        '{("external" & "_id"): steps.order.body.id, "lines": []}',
        # Items of an array inside the array are not records.
        '[[{"whatever": 1}]]',
        "steps.order.body{id: {'numbr': number}}",
    ],
)
def test_an_output_that_cannot_be_read_without_running_it_is_not_judged(output: str) -> None:
    start = STORE.index("    output: |\n      steps.order.status")
    end = STORE.index("  push_stock:")
    text = STORE[:start] + f"    output: {output!r}\n" + STORE[end:]
    assert load_template(text).hooks["get_order"].output == output


def test_a_json_output_is_anything() -> None:
    text = STORE.replace("capabilities: [import_orders, push_stock]", "capabilities: []")
    text = text.replace("    returns: StockPushResult\n", "")
    text = text.replace('"ok": $r.ok', '"okay": $r.ok')
    assert load_template(text).hooks["push_stock"].returns == "Json"


def test_a_syntax_tree_of_an_unforeseen_shape_is_not_judged() -> None:
    class Odd:
        def tree(self) -> object:
            # An object constructor whose pairs are not (key, value): not what jsonata builds.
            return SimpleNamespace(type="unary", value="{", lhs_object=[("external_id",)])

    assert list(misfits(cast(Expression, Odd()), OrderRecord)) == []
    assert list(misfits(Expression.compile('{"numbr": 1}'), OrderRecord))  # a real one is
