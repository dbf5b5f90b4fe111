"""``templates.hook_overhead``: what running a hook from a template costs beyond its HTTP
calls. A 3-step hook (a JSON body built from the input, a path from the first answer, a
query from the second, and an output mapping) runs against an in-process transport that
answers at once, beside the same three calls made with a bare ``HttpClient`` on the same
transport; the difference, per step, is the template engine's own time (rendering,
expressions, error rules, redaction). Target: at most 2 ms a step at the median."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterable

import httpx2

from benchmarks.harness import Figure
from tradewind.connectors.http import HttpClient
from tradewind.connectors.template import load_template
from tradewind.connectors.template.runtime import Runner

RUNS = 400
TEMPLATE = """\
schema: tradewind-template/v1
id: bench
version: 1.0.0
display_name: Bench
category: shipping
environments:
  live: {base_url: "https://api.bench.example"}
settings:
  api_key: {type: string, secret: true}
  label_format: {type: string, default: PDF}
auth:
  kind: api_key
  inject: {header: X-Key, value: "{{ secrets.api_key }}"}
errors:
  - {when: "status = 429", raise: RateLimited}
  - {when: "status >= 400", raise: Rejected, message: body.error}
test_connection:
  request: {path: /me}
hooks:
  get_rates:
    steps:
      - name: shipment
        request:
          method: POST
          path: /shipments
          body: |
            {"to": input.to, "parcels": [input.parcels.{"weight": $string(weight)}],
             "format": settings.label_format}
      - name: rates
        request: {path: "/shipments/{{ steps.shipment.body.id }}/rates"}
      - name: carrier
        request:
          path: /carriers
          query: {code: "{{ steps.rates.body.rates[0].carrier }}"}
    output: |
      [steps.rates.body.rates.{"carrier": carrier, "amount": $money(amount),
        "service": service, "name": steps.carrier.body.name}]
"""
INPUT = {
    "to": {"name": "Ada", "city": "Oslo", "country": "NO"},
    "parcels": [{"weight": 1.5}, {"weight": 2}],
}
ANSWERS = {
    "/shipments": {"id": "shp_1"},
    "/shipments/shp_1/rates": {
        "rates": [{"carrier": "ups", "amount": "12.5", "service": "ground"}] * 5
    },
    "/carriers": {"name": "UPS"},
}


def _answer(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, json=ANSWERS[request.url.path])


def _client() -> HttpClient:
    return HttpClient("https://api.bench.example", transport=httpx2.MockTransport(_answer))


def _bare(client: HttpClient) -> None:
    first = client.request(
        "POST", "/shipments", operation="a", json_body={"to": INPUT["to"]}
    ).json()
    rates = client.request("GET", f"/shipments/{first['id']}/rates", operation="b").json()
    client.request("GET", "/carriers", operation="c", params={"code": rates["rates"][0]["carrier"]})


def _timed(work: object) -> list[float]:
    assert callable(work)
    for _ in range(20):  # warm up: compiled expressions, connection pool
        work()
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    return sorted(samples)


def run() -> Iterable[Figure]:
    template = load_template(TEMPLATE)
    runner = Runner(
        template,
        settings={"label_format": "PDF"},
        secrets={"api_key": "sk_bench_123456"},
        client=_client(),
        environment="live",
    )
    output = runner.run_hook("get_rates", INPUT).output
    assert json.dumps(output).count("12.50") == 5
    hook = _timed(lambda: runner.run_hook("get_rates", INPUT))
    bare_client = _client()
    bare = _timed(lambda: _bare(bare_client))
    steps = 3
    for name, index in (("p50", 0.50), ("p99", 0.99)):
        at = min(len(hook) - 1, int(len(hook) * index))
        per_step = max(0.0, (hook[at] - bare[at]) / steps)
        yield Figure(
            "templates.hook_overhead",
            f"{name}_ms_per_step",
            round(per_step, 3),
            "ms",
            target=2.0 if name == "p50" else None,
            note=(
                f"3-step hook {hook[at]:.2f} ms vs the same calls with bare HttpClient "
                f"{bare[at]:.2f} ms ({name} of {RUNS}); in-process transport, no network"
            ),
        )
    yield Figure(
        "templates.hook_overhead",
        "median_hook_ms",
        round(statistics.median(hook), 3),
        "ms",
        note="the whole 3-step hook, HTTP included (in-process transport)",
    )
