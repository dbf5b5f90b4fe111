"""Shopify's rate limits, checked against the bucket arithmetic with a frozen clock.

REST: a bucket of 40 calls leaking 2/s on the standard plan (80/4 Advanced, 400/20 Plus):
a burst of 60 calls at one instant gets exactly 20 refusals (HTTP 429, ``Retry-After:
2.0``), and each second then lets exactly 2 more through. GraphQL: 2000 points restoring
100/s; a query that does not fit is throttled with HTTP 200 and ``THROTTLED``.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest

from tests.sandbox.shopify.conftest import APP_KEY, SHOP, TOKEN, catalog
from tradewind.sandbox.shopify import ShopifySandbox

SHOP_URL = "/admin/api/2025-07/shop.json"


class FrozenClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def limited(clock: FrozenClock) -> Iterator[ShopifySandbox]:
    with ShopifySandbox(clock=clock) as sandbox:
        sandbox.create_shop(SHOP, token=TOKEN, app_key=APP_KEY)
        yield sandbox


@pytest.fixture
def http(limited: ShopifySandbox) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=limited.base_url, headers={"X-Shopify-Access-Token": TOKEN}) as c:
        yield c


def test_a_burst_of_60_gets_exactly_the_429s_the_bucket_predicts(
    http: httpx2.Client, clock: FrozenClock
) -> None:
    answers = [http.get(SHOP_URL) for _ in range(60)]
    statuses = [a.status_code for a in answers]
    assert statuses == [200] * 40 + [429] * 20
    assert [a.headers["X-Shopify-Shop-Api-Call-Limit"] for a in answers[:3]] == [
        "1/40",
        "2/40",
        "3/40",
    ]
    assert answers[39].headers["X-Shopify-Shop-Api-Call-Limit"] == "40/40"
    refused = answers[40]
    assert refused.headers["Retry-After"] == "2.0"
    assert refused.headers["X-Shopify-Shop-Api-Call-Limit"] == "40/40"
    assert refused.json() == {
        "errors": "Exceeded 2 calls per second for api client. Reduce request rates to "
        "resume uninterrupted service."
    }

    clock.now += 1.0  # leaks 2 calls
    assert [http.get(SHOP_URL).status_code for _ in range(3)] == [200, 200, 429]
    clock.now += 20.0  # fully drained
    assert http.get(SHOP_URL).headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"


def test_a_concurrent_burst_is_counted_the_same(http: httpx2.Client) -> None:
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(lambda _: http.get(SHOP_URL).status_code, range(60)))
    assert statuses.count(200) == 40
    assert statuses.count(429) == 20


def test_the_429_arithmetic_under_a_steady_stream(http: httpx2.Client, clock: FrozenClock) -> None:
    """5 calls per second against a leak of 2: the bucket fills by 3 a second."""
    statuses = []
    for _ in range(20):  # 20 seconds
        statuses += [http.get(SHOP_URL).status_code for _ in range(5)]
        clock.now += 1.0
    # Simulate the documented bucket and compare call by call.
    level, expected, now = 0.0, [], 0.0
    for second in range(20):
        level = max(0.0, level - 2.0 * (second - now))
        now = second
        for _ in range(5):
            if level + 1 <= 40:
                level += 1
                expected.append(200)
            else:
                expected.append(429)
    assert statuses == expected
    assert statuses.count(429) > 0


@pytest.mark.parametrize(("plan", "size"), [("advanced", 80), ("plus", 400)])
def test_advanced_and_plus_buckets(
    limited: ShopifySandbox, http: httpx2.Client, clock: FrozenClock, plan: str, size: int
) -> None:
    limited.set_plan(SHOP, plan)
    statuses = [http.get(SHOP_URL).status_code for _ in range(size + 5)]
    assert statuses == [200] * size + [429] * 5
    leak = {"advanced": 4, "plus": 20}[plan]
    clock.now += 1.0
    statuses = [http.get(SHOP_URL).status_code for _ in range(leak + 1)]
    assert statuses == [200] * leak + [429]


def test_buckets_are_per_app(limited: ShopifySandbox, http: httpx2.Client) -> None:
    limited.create_app("other-app", "other-secret")
    other = limited.issue_token(SHOP, app_key="other-app")
    assert [http.get(SHOP_URL).status_code for _ in range(41)][-1] == 429
    answer = http.get(SHOP_URL, headers={"X-Shopify-Access-Token": other})
    assert answer.status_code == 200
    assert answer.headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"


COSTLY = "{ products(first: 150) { nodes { title variants(first: 3) { nodes { sku } } } } }"


def graphql(http: httpx2.Client, query: str) -> dict[str, object]:
    answer = http.post("/admin/api/2025-07/graphql.json", json={"query": query})
    assert answer.status_code == 200  # throttling is a 200, as at Shopify
    return answer.json()  # type: ignore[no-any-return]


def test_graphql_cost_bucket_throttles_with_http_200(
    limited: ShopifySandbox, http: httpx2.Client, clock: FrozenClock
) -> None:
    catalog(limited)
    first = graphql(http, COSTLY)
    cost = first["extensions"]["cost"]  # type: ignore[index]
    assert cost["requestedQueryCost"] == 2 + 150 * (1 + 2 + 3)
    assert cost["actualQueryCost"] == 2 + 2 * (1 + 2 + 1)
    assert cost["throttleStatus"] == {
        "maximumAvailable": 2000.0,
        "currentlyAvailable": 2000 - cost["actualQueryCost"],
        "restoreRate": 100.0,
    }
    # Other calls of this app took most of the bucket.
    limited.sandbox.limiter.graphql(SHOP, APP_KEY, 2000, 100, 1_900)
    throttled = graphql(http, COSTLY)
    assert throttled["errors"][0]["extensions"]["code"] == "THROTTLED"  # type: ignore[index]
    assert "data" not in throttled
    cost = throttled["extensions"]["cost"]  # type: ignore[index]
    assert cost["actualQueryCost"] is None
    wait = (cost["requestedQueryCost"] - cost["throttleStatus"]["currentlyAvailable"]) / 100.0
    clock.now += wait
    assert "errors" not in graphql(http, COSTLY)


def test_graphql_refuses_a_query_over_1000_points(
    limited: ShopifySandbox, http: httpx2.Client
) -> None:
    answer = graphql(
        http, "{ products(first: 250) { nodes { variants(first: 10) { nodes { sku } } } } }"
    )
    error = answer["errors"][0]  # type: ignore[index]
    assert error["message"] == (
        "Query cost is 3252, which exceeds the single query max cost limit (1000)."
    )
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"


def test_limits_can_be_switched_off() -> None:
    with ShopifySandbox(limits=False) as sandbox:
        sandbox.create_shop(SHOP, token=TOKEN)
        with httpx2.Client(
            base_url=sandbox.base_url, headers={"X-Shopify-Access-Token": TOKEN}
        ) as http:
            answers = [http.get(SHOP_URL) for _ in range(100)]
    assert {a.status_code for a in answers} == {200}
    assert all(a.headers["X-Shopify-Shop-Api-Call-Limit"].endswith("/40") for a in answers)
