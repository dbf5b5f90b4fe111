"""Every request/response example of Shopify's REST reference (API 2025-07) is replayed
against the sandbox, which must answer with the same status class, the same keys and the
same JSON types.

"Same keys" at every level of the document: each key the example shows is present, and
no key is present that Shopify's examples never show for that resource (Shopify's own
examples differ a little between endpoints, e.g. ``tax_code`` on some variant answers
only; the union over all examples is the vocabulary). ``null`` matches any type, since
Shopify's fields are nullable; integers and decimals are both JSON numbers. A list the
example shows non-empty must be non-empty, and each element must match the example's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.sandbox.shopify import world
from tradewind.sandbox.shopify import Options, Sandbox, create_app

FIXTURES = Path(__file__).parent / "fixtures" / "rest_2025-07"
# Objects whose keys are free-form (a gateway's receipt), not part of Shopify's shape.
FREE_FORM = frozenset({"receipt", "extended_authorization_attributes"})


def examples() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(FIXTURES.glob("*.json")):
        data = json.loads(path.read_text())
        for example in data["examples"]:
            yield f"{data['resource']}/{example['example']}", example


EXAMPLES = dict(examples())


# Keys that hold an object of another kind under another name.
ALIASES = {
    "replacement_fulfillment_order": "fulfillment_order",
    "original_fulfillment_order": "fulfillment_order",
    "moved_fulfillment_order": "fulfillment_order",
    "remaining_fulfillment_order": "fulfillment_order",
}


def singular(key: str) -> str:
    key = ALIASES.get(key, key)
    return key[:-1] if key.endswith("s") and not key.endswith("ss") else key


def vocabulary() -> dict[str, set[str]]:
    """Keys seen for each kind of object (named by the key that holds it: an order's
    ``refunds`` hold refunds as ``/refunds.json`` does), over all examples."""
    seen: dict[str, set[str]] = {}

    def walk(value: Any, path: tuple[str, ...]) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item, path)
        elif isinstance(value, dict) and path[-1] not in FREE_FORM:
            seen.setdefault(singular(path[-1]), set()).update(value)
            for key, item in value.items():
                walk(item, (*path, key))

    for example in EXAMPLES.values():
        for key, value in example["response"].items():
            walk(value, (singular(key),))
    return seen


VOCABULARY = vocabulary()


def kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def compare(expected: Any, actual: Any, path: tuple[str, ...], where: str) -> list[str]:
    if expected is None or actual is None:
        return []
    if kind(expected) != kind(actual):
        return [f"{where}: {kind(actual)} where Shopify has {kind(expected)}"]
    if isinstance(expected, list):
        if expected and not actual and len(path) == 1:
            return [f"{where}: no items where Shopify has some"]
        if not expected:
            return []
        problems = []
        for index, item in enumerate(actual):
            problems += compare(expected[0], item, path, f"{where}[{index}]")
        return problems
    if not isinstance(expected, dict) or path[-1] in FREE_FORM:
        return []
    problems = [f"{where}: missing {key!r}" for key in expected if key not in actual]
    allowed = VOCABULARY.get(singular(path[-1]), set(expected))
    problems += [f"{where}: unknown key {key!r}" for key in actual if key not in allowed]
    for key, value in expected.items():
        if key in actual:
            problems += compare(value, actual[key], (*path, key), f"{where}.{key}")
    return problems


def fresh_client() -> TestClient:
    """A new sandbox holding the example world, spoken to in process (ASGI)."""
    sandbox = Sandbox(Options(limits=False, webhook_hosts=frozenset()))
    world.build(sandbox)
    return TestClient(
        create_app(sandbox),
        base_url=f"https://{world.SHOP}.myshopify.com",
        headers={"X-Shopify-Access-Token": world.TOKEN},
    )


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_is_answered_as_shopify_does(name: str) -> None:
    example = EXAMPLES[name]
    request = example["request"]
    client = fresh_client()
    url = request["path"] + (f"?{request['query']}" if request["query"] else "")
    response = client.request(request["method"], url, json=request["body"])
    assert response.status_code < 300, f"{name}: {response.status_code} {response.text[:500]}"
    body = response.json() if response.content else {}
    expected = example["response"]
    assert set(body) == set(expected), f"{name}: top-level keys {sorted(body)}"
    problems: list[str] = []
    for key, value in expected.items():
        problems += compare(value, body[key], (singular(key),), key)
    assert not problems, f"{name}:\n" + "\n".join(problems[:40])


def test_all_187_examples_are_replayed() -> None:
    assert len(EXAMPLES) == 187
