"""A template's ``limits`` are the bucket its plugins share on the account: a template
that says nothing gets a modest default."""

from __future__ import annotations

import httpx2

from tests.connectors.template.test_catalog_pulls import CATALOG
from tradewind.connectors.ratelimit import BucketPolicy, UnlimitedBudget
from tradewind.connectors.template import connector_class, load_template
from tradewind.connectors.testing import suite_context


def _policy(text: str) -> BucketPolicy:
    made = connector_class(load_template(text))
    seen: list[BucketPolicy] = []
    context = suite_context(httpx2.MockTransport(lambda _: httpx2.Response(200)))

    def budget(policy: BucketPolicy) -> UnlimitedBudget:
        seen.append(policy)
        return UnlimitedBudget()

    made(made.info.settings(), context.__class__(**{**context.__dict__, "budget": budget}))
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
