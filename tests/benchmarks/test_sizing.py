"""The sizing bench's arithmetic: a span's cost is its own work, the plugins' fixed cost
over as long taken out."""

from __future__ import annotations

from benchmarks.bench_sizing import Meter


def test_a_span_is_charged_only_beyond_the_idle_rate_over_its_length() -> None:
    idle = Meter(
        worker_cpu=2.0, web_cpu=0.2, database_cpu=1.0, worker_sql=100, web_sql=10, seconds=10.0
    )
    span = Meter(
        worker_cpu=9.0, web_cpu=3.0, database_cpu=4.0, worker_sql=900, web_sql=50, seconds=30.0
    )
    assert span.beyond(idle) == Meter(3.0, 2.4, 1.0, 600, 20, 30.0)


def test_a_span_cheaper_than_idle_costs_nothing_rather_than_less_than_nothing() -> None:
    idle = Meter(1.0, 1.0, 1.0, 10, 10, 1.0)
    assert Meter(0.5, 0.5, 0.5, 5, 5, 1.0).beyond(idle) == Meter(0.0, 0.0, 0.0, 0, 0, 1.0)
