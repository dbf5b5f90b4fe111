"""A template's ``limits`` are the bucket its plugins share on the account: a template
that says nothing gets a modest default, an environment may have its own (a test key's
smaller one), and each request takes its ``cost`` from it (0: a request the service
counts under another, larger limit)."""

from __future__ import annotations

from typing import Any

import httpx2

from tests.connectors.template.test_catalog_pulls import CATALOG
from tradewind.connectors.ratelimit import BucketPolicy, Priority, UnlimitedBudget
from tradewind.connectors.template import connector_class, load_template
from tradewind.connectors.testing import suite_context


class Spent(UnlimitedBudget):
    """Never refuses; keeps what each request took."""

    def __init__(self) -> None:
        self.costs: list[float] = []

    def acquire(self, cost: float, priority: Priority = Priority.LIVE) -> None:
        self.costs.append(cost)


def _made(text: str, **settings: str) -> tuple[Any, list[BucketPolicy], Spent]:
    made = connector_class(load_template(text))
    seen: list[BucketPolicy] = []
    spent = Spent()
    context = suite_context(httpx2.MockTransport(lambda _: httpx2.Response(200, json={})))

    def budget(policy: BucketPolicy) -> Spent:
        seen.append(policy)
        return spent

    connector = made(
        made.info.settings(**settings),
        context.__class__(**{**context.__dict__, "budget": budget}),
    )
    return connector, seen, spent


def _policy(text: str, **settings: str) -> BucketPolicy:
    connector, seen, _ = _made(text, **settings)
    connector.close()
    (policy,) = seen
    return policy


def test_a_templates_limits_are_its_bucket_and_the_default_is_modest() -> None:
    limited = CATALOG.replace(
        "auth: {kind: none}", "auth: {kind: none}\nlimits: {burst: 5, per_second: 18}"
    )
    policy = _policy(limited)
    assert (policy.name, policy.capacity, policy.leak_per_second) == (
        "template:catalog_store",
        5,
        18,
    )
    default = _policy(CATALOG)
    assert (default.capacity, default.leak_per_second) == (40, 10)


KEYED = CATALOG.replace(
    """environments:
  live: {base_url: "https://store.example"}
""",
    """environments:
  live: {base_url: "https://store.example"}
  test:
    base_url: "https://store.example"
    limits: {burst: 2, per_second: 0.5}
environment_from: {setting: api_key, prefixes: {test_: test, live_: live}}
settings:
  api_key: {type: string, secret: true}
""",
).replace("auth: {kind: none}", "auth: {kind: none}\nlimits: {burst: 5, per_second: 18}")


def test_an_environment_may_have_its_own_limits() -> None:
    test = _policy(KEYED, api_key="test_0001")
    assert (test.name, test.capacity, test.leak_per_second) == (
        "template:catalog_store:test",
        2,
        0.5,
    )
    live = _policy(KEYED, api_key="live_0001")  # no limits of its own: the template's
    assert (live.name, live.capacity, live.leak_per_second) == ("template:catalog_store", 5, 18)


def test_each_request_takes_its_cost_from_the_limit() -> None:
    text = CATALOG.replace(
        "    request: {path: /locations}",
        "    request: {path: /locations, cost: 0}",
    )
    connector, _, spent = _made(text)
    connector.runner.pull("products", cursor=None)
    connector.runner.pull("locations", cursor=None)
    connector.close()
    assert spent.costs == [1, 0]
