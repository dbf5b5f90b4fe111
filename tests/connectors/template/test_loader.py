"""A bad template is refused with each problem's line, column and path, worded so that
a person can fix it; nothing dangerous is built from a file."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tradewind.connectors.template import TemplateInvalid, load_template, shipped_templates
from tradewind.connectors.template.loader import MAX_BYTES, parse_yaml
from tradewind.connectors.template.schema import json_schema, published

GOOD = """\
schema: tradewind-template/v1
id: parcels
version: 1.2.0
display_name: Parcels
category: shipping
capabilities: [get_rates]
environments:
  live: {base_url: "https://api.parcels.example"}
settings:
  api_key: {type: string, secret: true}
  label_format: {type: string, enum: [PDF, PNG], default: PDF}
auth:
  kind: api_key
  inject: {header: X-Key, value: "{{ secrets.api_key }}"}
test_connection:
  request: {path: /me}
hooks:
  get_rates:
    on: shipment.rates_requested
    steps:
      - name: shipment
        request: {method: POST, path: /shipments, body: '{"format": settings.label_format}'}
      - name: rates
        request: {path: "/shipments/{{ steps.shipment.body.id }}/rates"}
    output: steps.rates.body
"""


def problems(text: str) -> list[str]:
    with pytest.raises(TemplateInvalid) as refused:
        load_template(text)
    return [str(problem) for problem in refused.value.problems]


def test_a_good_template_loads_with_its_hook_bound_to_its_event() -> None:
    template = load_template(GOOD)
    assert (template.id, template.version) == ("parcels", "1.2.0")
    assert template.hooks["get_rates"].on == "shipment.rates_requested"  # not YAML 1.1's True
    assert [step.name for step in template.hooks["get_rates"].steps] == ["shipment", "rates"]


def test_a_misspelled_step_is_named_with_its_line_and_the_likely_fix() -> None:
    found = problems(GOOD.replace("steps.shipment.body.id", "steps.shipmnt.body.id"))
    assert found == [
        "line 24, column 19: hooks.get_rates.steps[1].request.path: unknown step 'shipmnt' "
        "(did you mean 'shipment'?)"
    ]


def test_a_step_cannot_read_a_later_one() -> None:
    text = GOOD.replace("settings.label_format}", "steps.rates.body}")
    assert problems(text) == [
        "line 22, column 51: hooks.get_rates.steps[0].request.body: unknown step 'rates'"
    ]


def test_an_unknown_key_is_pointed_at() -> None:
    found = problems(GOOD.replace("request: {path: /me}", "request: {path: /me, verb: GET}"))
    assert found == ["line 16, column 24: test_connection.request.verb: unknown key 'verb'"]


def test_each_problem_is_reported_not_only_the_first() -> None:
    text = GOOD.replace("category: shipping", "category: freight").replace(
        "version: 1.2.0", "version: one"
    )
    found = problems(text)
    assert len(found) == 2
    assert found[0].startswith("line 3, column 1: version: String should match pattern")
    assert found[1].startswith("line 5, column 1: category: Input should be 'shipping'")


def test_an_expression_that_does_not_compile_is_refused_where_it_is() -> None:
    found = problems(GOOD.replace("output: steps.rates.body", "output: steps.rates.body +"))
    assert found == [
        "line 25, column 5: hooks.get_rates.output: does not compile: Unexpected end of expression"
    ]


def test_a_secret_outside_auth_is_refused() -> None:
    found = problems(GOOD.replace("settings.label_format", "secrets.api_key"))
    assert found == [
        "line 22, column 51: hooks.get_rates.steps[0].request.body: only `auth` may read secrets"
    ]
    found = problems(GOOD.replace("settings.label_format", "settings.api_key"))
    assert found == [
        "line 22, column 51: hooks.get_rates.steps[0].request.body: 'api_key' is a secret: "
        "only `auth` reads it, as secrets.api_key"
    ]


def test_unknown_settings_events_and_capabilities_are_named() -> None:
    text = (
        GOOD.replace("settings.label_format", "settings.label_fromat")
        .replace("on: shipment.rates_requested", "on: shipment.rate_requested")
        .replace("capabilities: [get_rates]", "capabilities: [get_rates, buy_label]")
    )
    assert problems(text) == [
        "line 19, column 5: hooks.get_rates.on: unknown store event 'shipment.rate_requested' "
        "(did you mean 'shipment.rates_requested'?)",
        "line 22, column 51: hooks.get_rates.steps[0].request.body: unknown setting "
        "'label_fromat' (did you mean 'label_format'?)",
        "line 6, column 27: capabilities[1]: buy_label needs a hook named 'buy_label'",
    ]


def test_a_key_written_twice_is_refused() -> None:
    found = problems(GOOD.replace("display_name: Parcels", "display_name: Parcels\nid: other"))
    assert found == ["line 5, column 1: id: this key appears twice"]


def test_anchors_and_aliases_are_refused_before_anything_is_built() -> None:
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
    bomb += "".join(f"c{n}: &c{n} [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" for n in range(8))
    assert problems(bomb) == [
        "line 1, column 4: YAML anchors and aliases are not allowed in a template"
    ]


def test_a_file_over_the_limit_is_refused_unread() -> None:
    text = GOOD + "description: " + "x" * MAX_BYTES + "\n"
    assert problems(text) == ["the template is larger than 256 KiB"]


def test_yaml_that_does_not_parse_says_where() -> None:
    (found,) = problems("id: [unclosed\n")
    assert found.startswith("line 2, column 1: not valid YAML:")


def test_every_shipped_template_loads() -> None:
    assert {template.id for template in shipped_templates()} >= {"rest_storefront"}


def test_the_published_schema_is_the_formats_and_closes_every_object() -> None:
    root = Path(__file__).resolve().parents[3]
    assert (root / "docs" / "template-v1.schema.json").read_text() == published()
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    objects = [schema, *schema["$defs"].values()]
    assert all(o.get("additionalProperties") is False for o in objects if "properties" in o)
    # An editor validating with the schema accepts a good template and names a bad key.
    validator = jsonschema.Draft202012Validator(schema)
    assert not list(validator.iter_errors(parse_yaml(GOOD)[0]))
    bad = parse_yaml(GOOD.replace("request: {path: /me}", "request: {path: /me, verb: 1}"))[0]
    (error,) = validator.iter_errors(bad)
    assert "verb" in error.message
    assert json.loads(published()) == schema


def test_the_complete_examples_in_the_docs_load() -> None:
    text = (Path(__file__).resolve().parents[3] / "docs" / "templates.md").read_text()
    blocks = [b.split("```")[0] for b in text.split("```yaml\n")[1:]]
    complete = [b for b in blocks if b.startswith("schema:") and "…" not in b]
    assert complete  # the carrier example
    for block in complete:
        assert load_template(block).version
