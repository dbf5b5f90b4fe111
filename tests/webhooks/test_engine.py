"""Through the engine (the embedded queue and its consumer): a committed change is sent
without anyone draining by hand, and a dead endpoint does not delay a live one."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pytest
from huey import MemoryHuey

from tests import factories
from tests.webhooks.conftest import Received, Receiver, Reply, subscribe
from tradewind.hub import Hub
from tradewind.sync import worker
from tradewind.sync.worker import Engine


@pytest.fixture
def engine(hub: Hub) -> Iterator[Engine]:
    running = Engine(hub)
    running.start(workers=2)
    try:
        yield running
    finally:
        running.stop()


def test_a_dead_endpoint_does_not_delay_a_live_one(
    hub: Hub, engine: Engine, make_receiver: Callable[[], Receiver]
) -> None:
    dead, live = make_receiver(), make_receiver()
    release = threading.Event()

    def hang(_: Received) -> Reply:
        release.wait(timeout=30)  # answers only once the test has seen the live one served
        return Reply(200)

    dead.answer = hang
    subscribe(hub, dead.url)  # the dead one comes first
    subscribe(hub, live.url)
    try:
        with hub.db.unit_of_work() as session:
            factories.product(session, "SKU-0")
        assert len(dead.wait_for(1)) == 1  # the dead endpoint holds its first delivery
        for number in range(1, 5):
            with hub.db.unit_of_work() as session:
                factories.product(session, f"SKU-{number}")
        served = live.wait_for(5)
        assert len(served) == 5  # all of them, while the dead endpoint still hangs
        assert not release.is_set()
        assert len(dead.received) <= 4  # its concurrency, none answered
    finally:
        release.set()
    everything = dead.wait_for(5)
    ids = {item.headers["webhook-id"] for item in everything}
    assert ids == {item.headers["webhook-id"] for item in served}


def test_deliveries_committed_where_no_engine_runs_are_found_by_the_sweep(
    hub: Hub, make_receiver: Callable[[], Receiver]
) -> None:
    """A change made by the CLI with no queue to announce it: the engine's reconciler
    finds the due delivery and sends it (a lost kick only delays)."""
    receiver = make_receiver()
    subscribe(hub, receiver.url)
    with hub.db.unit_of_work() as session:
        factories.product(session, "MUG")  # nobody is told: hub.deliver listens to no one
    running = Engine(hub)
    running.start(workers=1)  # its first sweep runs at once
    try:
        assert len(receiver.wait_for(1)) == 1
    finally:
        running.stop()


def test_a_commits_announcement_is_dropped_only_right_after_the_same_one(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Announcements of one endpoint are sent once per ``DELIVER_WINDOW`` (not per
    second: one dropped after a drain ended would wait for the reconciler)."""
    now = [1000.0]
    monkeypatch.setattr(worker, "time", SimpleNamespace(monotonic=lambda: now[0]))
    queue = MemoryHuey("deliveries", results=False)
    engine = worker.Engine(hub, huey=queue)
    engine.deliver(7)
    engine.deliver(7)  # the same moment: a repeat
    engine.deliver(8)  # another endpoint
    assert queue.pending_count() == 2
    now[0] += worker.DELIVER_WINDOW * 1.5  # the next commit, a moment later
    engine.deliver(7)
    assert queue.pending_count() == 3
