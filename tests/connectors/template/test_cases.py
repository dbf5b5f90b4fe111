"""Every shipped template carries recorded cases, and they pass: the template still
sends what was recorded and maps the answers to what the hub expects. The case runner
says what differs, with a diff, when a request or an output is not the recorded one."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradewind.app import templates
from tradewind.cli import app
from tradewind.connectors.template import load_template
from tradewind.connectors.template.cases import (
    CaseResult,
    CasesInvalid,
    cases_path,
    load_cases,
    run_case,
    run_cases,
)
from tradewind.connectors.template.sources import CASES_SUFFIX, is_cases_file
from tradewind.hub import Hub
from tradewind.settings import Settings

SHIPPED = files("tradewind.integrations").joinpath("templates")
TEMPLATE_FILES = sorted(
    (entry for entry in SHIPPED.iterdir() if entry.name.endswith(".yaml")),
    key=lambda entry: entry.name,
)
TEMPLATES = [entry for entry in TEMPLATE_FILES if not is_cases_file(entry.name)]


def _cases_of(template: Traversable) -> Traversable:
    return SHIPPED.joinpath(template.name.removesuffix(".yaml") + CASES_SUFFIX)


def _shipped_cases() -> list[tuple[str, str]]:
    return [
        (template.name, case.name)
        for template in TEMPLATES
        if _cases_of(template).is_file()
        for case in load_cases(
            _cases_of(template).read_text(), load_template(template.read_text())
        ).cases
    ]


def test_the_shipped_templates_are_found() -> None:
    assert "rest_storefront.yaml" in [template.name for template in TEMPLATES]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda entry: entry.name)
def test_every_shipped_template_has_cases_for_each_hook_and_pull(template: Traversable) -> None:
    found = _cases_of(template)
    assert found.is_file(), f"{template.name} has no recorded cases ({found.name})"
    loaded = load_template(template.read_text())
    cases = load_cases(found.read_text(), loaded)
    assert {case.hook for case in cases.cases} >= set(loaded.hooks)
    assert {case.pull for case in cases.cases} >= set(loaded.pulls)


@pytest.mark.parametrize(("template_file", "case"), _shipped_cases())
def test_the_shipped_cases_pass(template_file: str, case: str) -> None:
    template = load_template(SHIPPED.joinpath(template_file).read_text())
    cases = load_cases(_cases_of(SHIPPED.joinpath(template_file)).read_text(), template)
    (chosen,) = [c for c in cases.cases if c.name == case]
    result = run_case(template, cases, chosen)
    assert result.ok, result.detail


# ----------------------------------------------------------------------- the runner

TEMPLATE = SHIPPED.joinpath("rest_storefront.yaml").read_text()
CASES = SHIPPED.joinpath("rest_storefront.cases.yaml").read_text()


def run(cases: str, template: str = TEMPLATE) -> dict[str, CaseResult]:
    loaded = load_template(template)
    return {result.name: result for result in run_cases(loaded, load_cases(cases, loaded))}


def one(cases: str, name: str) -> CaseResult:
    results = run(cases)
    others = [r for r in results.values() if r.name != name and not r.ok]
    assert not others, others  # only the case changed fails
    assert not results[name].ok
    return results[name]


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_a_request_to_another_path_fails_with_a_diff() -> None:
    cases = edit(
        CASES,
        "      - request:\n          path: /orders/100\n",
        "      - request:\n          path: /orders/101\n",
    )
    result = one(cases, "get_order reads one order")
    assert not result.ok
    assert result.detail.startswith("request 1 differs from the recording (- recorded, + sent):")
    assert '-  "path": "/orders/101",' in result.detail
    assert '+  "path": "/orders/100",' in result.detail


def test_a_named_header_is_compared_and_the_others_are_not() -> None:
    # The first recording names Authorization and Accept; the 404 one names none.
    cases = edit(
        CASES,
        "Bearer test-token-0001, Accept: application/json}\n        response:\n"
        "          body:\n            order:",
        "Bearer other, Accept: application/json}\n        response:\n"
        "          body:\n            order:",
    )
    result = one(cases, "get_order reads one order")
    assert '-    "authorization": "Bearer other"' in result.detail
    assert '+    "authorization": "Bearer test-token-0001"' in result.detail
    # A header recorded as null must not be sent.
    absent = edit(
        CASES,
        "      - request: {path: /orders/999}",
        "      - request: {path: /orders/999, headers: {Accept: null}}",
    )
    result = one(absent, "get_order of an order the store does not have is none")
    assert '+    "accept": "application/json"' in result.detail


def test_a_different_body_fails_with_a_diff() -> None:
    cases = edit(
        CASES,
        "              - {sku: REFUSED, location: loc-1, available: 0}\n        response:",
        "              - {sku: REFUSED, location: loc-1, available: 1}\n        response:",
    )
    result = one(cases, "push_stock sets levels and reports each")
    assert '-        "available": 1,' in result.detail
    assert '+        "available": 0,' in result.detail


def test_a_query_is_compared_whole() -> None:
    cases = edit(
        CASES,
        '{by: created_at, since: "2026-01-01T00:00:00+00:00", until: ""}',
        '{by: created_at, since: "2026-01-01T00:00:00+00:00"}',
    )
    result = one(cases, "import_orders reads two pages")
    assert '+    "until": ""' in result.detail


def test_a_request_beyond_the_recording_and_a_recording_never_asked_for_fail() -> None:
    # The pull stops at one page: the second recording is never asked for.
    cases = edit(CASES, '            next_cursor: "2"', "            next_cursor: null")
    result = one(cases, "import_orders reads two pages")
    assert result.detail == (
        "exchange 2 (GET /orders) was recorded but never requested (1 of 2 were)"
    )
    # It goes on past the last page recorded.
    cases = edit(
        CASES,
        "                lines: []\n            next_cursor: null",
        '                lines: []\n            next_cursor: "4"',
    )
    result = one(cases, "import_orders reads two pages")
    assert result.detail.startswith("request 3 was not recorded (only 2 were):")
    assert '"cursor": "4"' in result.detail


def test_a_different_output_fails_with_a_diff() -> None:
    cases = edit(
        CASES,
        "      fulfillment_status: partially_fulfilled\n      source: web\n      placed_at",
        "      fulfillment_status: fulfilled\n      source: web\n      placed_at",
    )
    result = one(cases, "get_order reads one order")
    assert result.detail.startswith("the output differs from the expected one:")
    assert '-  "fulfillment_status": "fulfilled",' in result.detail
    assert '+  "fulfillment_status": "partially_fulfilled",' in result.detail


def test_a_pull_says_what_it_skipped() -> None:
    cases = edit(CASES, '    skipped: ["103"]', "    skipped: []")
    result = one(cases, "import_orders reads two pages")
    assert '+    "103"' in result.detail


def test_an_output_that_does_not_fit_its_record_fails_even_as_recorded() -> None:
    # The store's answer lacks a currency; the template maps what it gets.
    cases = edit(
        CASES,
        '              updated_at: "2026-01-02T08:00:00+00:00"\n              currency: EUR\n',
        '              updated_at: "2026-01-02T08:00:00+00:00"\n',
    )
    cases = edit(
        cases,
        '      updated_at: "2026-01-02T08:00:00+00:00"\n      currency: EUR\n',
        '      updated_at: "2026-01-02T08:00:00+00:00"\n',
    )
    result = one(cases, "get_order reads one order")
    assert result.detail == "the output does not fit OrderRecord: currency: Field required"


def test_an_expected_error_must_be_the_one_raised() -> None:
    kind = edit(CASES, "    error: {kind: AuthFailed,", "    error: {kind: Rejected,")
    assert one(kind, "get_order with a revoked token is AuthFailed").detail == (
        "expected Rejected, but it raised AuthFailed: get_order.order: HTTP 401 — token revoked"
    )
    said = edit(
        CASES, "message: slow down, retry_after: 30}", "message: calm down, retry_after: 30}"
    )
    assert (
        "saying 'calm down'"
        in one(said, "push_stock while rate limited waits as the store says").detail
    )
    wait = edit(
        CASES, "message: slow down, retry_after: 30}", "message: slow down, retry_after: 60}"
    )
    assert one(wait, "push_stock while rate limited waits as the store says").detail == (
        "expected a wait of 60 s, but it says 30.0"
    )
    succeeded = edit(CASES, "    output: null\n", "    error: {kind: Rejected}\n")
    assert one(succeeded, "get_order of an order the store does not have is none").detail == (
        "expected Rejected, but it succeeded"
    )


def test_a_case_file_that_cannot_run_says_where() -> None:
    loaded = load_template(TEMPLATE)
    bad = edit(
        CASES,
        '    hook: get_order\n    input: {id: "999"}',
        '    hook: get_ordr\n    input: {id: "999"}',
    )
    bad = edit(bad, "template: rest_storefront", "template: rest_store")
    bad = edit(
        bad,
        "  - name: push_stock refused by the store is Rejected\n",
        "  - name: push_stock refused by the store is Rejected\n    verb: POST\n",
    )
    with pytest.raises(CasesInvalid) as refused:
        load_cases(bad, loaded)
    assert [str(problem) for problem in refused.value.problems] == [
        "line 232, column 5: cases[7].verb: unknown key 'verb'"
    ]
    with pytest.raises(CasesInvalid) as refused:
        load_cases(edit(bad, "    verb: POST\n", ""), loaded)
    assert [str(problem) for problem in refused.value.problems] == [
        "line 5, column 1: template: these cases are for 'rest_store', not 'rest_storefront'",
        "line 174, column 5: cases[3].hook: the template has no hook 'get_ordr' "
        "(did you mean 'get_order'?)",
    ]


def test_the_case_file_sits_beside_its_template() -> None:
    assert cases_path(Path("a/shop.yaml")) == Path("a/shop.cases.yaml")
    assert cases_path(Path("shop.yml")) == Path("shop.cases.yaml")


# -------------------------------------------------------------------------- the CLI


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["templates", "test", *args])
    return result.exit_code, result.stdout, result.stderr


def test_the_cli_prints_a_line_per_case() -> None:
    path = Path(str(SHIPPED.joinpath("rest_storefront.yaml")))
    code, out, _ = cli(str(path))
    assert code == 0, out
    lines = out.splitlines()
    names = [case.name for case in load_cases(CASES, load_template(TEMPLATE)).cases]
    assert lines == [f"ok   {name}" for name in names] + [f"{len(names)} passed, 0 failed"]


def test_the_cli_fails_on_a_failed_case_and_shows_the_diff(tmp_path: Path) -> None:
    template = tmp_path / "shop.yaml"
    template.write_text(TEMPLATE)
    other = tmp_path / "recorded.yaml"
    other.write_text(
        edit(CASES, "      - request: {path: /orders/999}", "      - request: {path: /orders/998}")
    )
    code, out, _ = cli(str(template), "--cases", str(other))
    assert code == 1
    assert "FAIL get_order of an order the store does not have is none" in out
    assert '-  "path": "/orders/998",' in out
    assert out.splitlines()[-1] == "8 passed, 1 failed"


def test_the_cli_finds_the_cases_beside_the_template_or_says_there_are_none(
    tmp_path: Path,
) -> None:
    template = tmp_path / "shop.yaml"
    template.write_text(TEMPLATE)
    code, _, err = cli(str(template))
    assert code == 2
    assert err.strip().splitlines() == [
        f"error: {tmp_path / 'shop.cases.yaml'}: no case file (write one, or name it with --cases)"
    ]
    (tmp_path / "shop.cases.yaml").write_text(
        edit(CASES, "template: rest_storefront", "template: shop")
    )
    code, _, err = cli(str(template))
    assert code == 1
    assert err.strip() == (
        f"{tmp_path / 'shop.cases.yaml'}:5:1: template: these cases are for 'shop', "
        "not 'rest_storefront'"
    )


def test_the_example_in_the_docs_runs() -> None:
    text = (Path(__file__).resolve().parents[3] / "docs" / "templates.md").read_text()
    (block,) = [
        b.split("```")[0]
        for b in text.split("```yaml\n")[1:]
        if b.startswith("format: tradewind-template-cases/v1")
    ]
    results = run(block)
    assert len(results) == 2
    assert all(result.ok for result in results.values()), results


# A template of one's own: OAuth tokens already held, a form body, a step that polls.
LABELS = """\
schema: tradewind-template/v1
id: labels
version: 1.0.0
display_name: Labels
category: shipping
environments:
  live: {base_url: "https://api.labels.example/v2"}
settings:
  client_id: {type: string}
  client_secret: {type: string, secret: true}
auth:
  kind: oauth2_client_credentials
  token_url: https://api.labels.example/token
  client_id: "{{ settings.client_id }}"
  client_secret: "{{ secrets.client_secret }}"
test_connection:
  request: {path: /me}
hooks:
  label:
    steps:
      - name: create
        request: {method: POST, path: /labels, form: {weight: "{{ input.weight }}"}}
      - name: ready
        request: {path: "/labels/{{ steps.create.body.id }}"}
        until: "body.status = 'done'"
        poll: {interval: 1800, max: 3600}
    output: '{"url": steps.ready.body.url}'
"""
LABEL_CASES = """\
format: tradewind-template-cases/v1
template: labels
settings: {client_id: c-1, client_secret: cs-1}
credentials: {access_token: at-1}
cases:
  - name: a label is ready after a poll
    hook: label
    input: {weight: 2}
    exchanges:
      - request:
          method: POST
          path: /labels
          headers: {Authorization: Bearer at-1}
          form: {weight: "2"}
        response: {body: {id: L1}}
      - request: {path: /labels/L1}
        response: {body: {status: queued}}
      - request: {path: /labels/L1}
        response: {body: {status: done, url: "https://files.example/L1.pdf"}}
    output: {url: "https://files.example/L1.pdf"}
  - name: a label never ready stops at poll.max
    hook: label
    input: {weight: 2}
    exchanges:
      - request: {method: POST, path: /labels, form: {weight: "2"}}
        response: {body: {id: L2}}
      - request: {path: /labels/L2}
        response: {body: {status: queued}}
      - request: {path: /labels/L2}
        response: {body: {status: queued}}
      - request: {path: /labels/L2}
        response: {body: {status: queued}}
    error: {kind: Unavailable, message: still not done after 3600 s}
"""


def test_a_template_of_ones_own_runs_its_cases_with_polls_that_do_not_wait() -> None:
    # Polls an hour apart: they pass on the case's own clock, not the wall's.
    results = run(LABEL_CASES, LABELS)
    assert [(r.name, r.ok, r.detail) for r in results.values()] == [
        ("a label is ready after a poll", True, ""),
        ("a label never ready stops at poll.max", True, ""),
    ]
    wrong = edit(
        LABEL_CASES,
        'form: {weight: "2"}}\n        response: {body: {id: L2}}',
        'form: {weight: "3"}}\n        response: {body: {id: L2}}',
    )
    result = run(wrong, LABELS)["a label never ready stops at poll.max"]
    assert '-    "weight": "3"' in result.detail
    assert '+    "weight": "2"' in result.detail


def test_a_shipped_template_exports_as_itself_not_its_cases(settings: Settings) -> None:
    with Hub(settings) as hub:  # the installed connectors, the shipped templates among them
        assert templates.source_of(hub, "rest_storefront") == TEMPLATE


def test_a_case_runs_one_thing_and_expects_one_outcome() -> None:
    loaded = load_template(TEMPLATE)
    head = "format: tradewind-template-cases/v1\ntemplate: rest_storefront\ncases:\n"
    both = head + "  - {name: a, hook: get_order, pull: orders}\n"
    with pytest.raises(CasesInvalid) as refused:
        load_cases(both, loaded)
    assert [str(p) for p in refused.value.problems] == [
        "line 4, column 5: cases[0]: Value error, a case runs one of `hook`, `pull` or "
        "`test_connection: true`"
    ]
    odd = head + (
        "  - {name: a, hook: get_order, output: 1, error: {kind: Rejected}, pages: 2}\n"
        "  - {name: b, pull: orders, input: {since: yesterday}}\n"
        "  - {name: b, test_connection: true}\n"
    )
    with pytest.raises(CasesInvalid) as refused:
        load_cases(odd, loaded)
    found = [str(p) for p in refused.value.problems]
    assert found[:2] == [
        "line 4, column 32: cases[0].output: a case expects an `output` or an `error`, not both",
        "line 4, column 5: cases[0]: `skipped`, `pages` and `next_cursor` are for a pull",
    ]
    assert found[2].startswith("line 5, column 29: cases[1].input: not a pull's input: since:")
    assert found[3:] == ["line 6, column 6: cases[2].name: a case 'b' comes earlier in this file"]
