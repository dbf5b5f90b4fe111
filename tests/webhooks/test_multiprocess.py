"""The scale-out path: PostgreSQL + Redis + three ``tradewind worker`` processes sending
to a real receiver, one worker killed with SIGKILL while it holds deliveries in flight.
Every event arrives at every endpoint at least once; a repeat carries the same
``webhook-id`` and body, and only what the killed worker had in flight is repeated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.sync.test_multiprocess import _environment
from tests.webhooks.conftest import Received, Receiver, Reply, subscribe
from tradewind.db import utcnow
from tradewind.hub import Hub
from tradewind.sync.worker import announce_through_queue
from tradewind.webhooks.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)

EVENTS = 300
ENDPOINTS = 2


@pytest.mark.slow
def test_workers_one_killed_every_event_arrives_and_repeats_share_their_id(
    postgres_url: str, tmp_path: Path
) -> None:
    env, settings = _environment(
        postgres_url, tmp_path, lease_seconds="5", drain_seconds="5", log_level="WARNING"
    )
    receiver = Receiver()

    def slow_ok(_: Received) -> Reply:
        time.sleep(0.03)  # the receiver's own latency: deliveries are in flight long enough
        return Reply(200)

    receiver.answer = slow_ok
    try:
        with Hub(settings) as hub:
            announce_through_queue(hub)  # committed deliveries are announced on Redis
            endpoints = [
                subscribe(hub, f"{receiver.url}/{number}")[0].id for number in range(ENDPOINTS)
            ]
            command = [sys.executable, "-m", "tradewind", "worker", "--threads", "3"]
            workers = [
                subprocess.Popen(
                    command,
                    env=env,
                    cwd=tmp_path,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
                for _ in range(3)
            ]
            try:
                for start in range(0, EVENTS, 50):
                    with hub.db.unit_of_work() as session:
                        for number in range(start, start + 50):
                            factories.product(session, f"SKU-{number:04d}")
                victim = _kill_one_in_flight(hub, workers)
                _wait_all_succeeded(hub, workers, victim)
            finally:
                for worker in workers:
                    if worker.poll() is None:
                        worker.send_signal(signal.SIGTERM)
                for worker in workers:
                    worker.wait(timeout=30)
            assert victim.returncode == -signal.SIGKILL
            with hub.db.read() as session:
                events = set(session.scalars(select(WebhookEvent.id)))
                bodies = dict(session.execute(select(WebhookEvent.id, WebhookEvent.body)).all())
    finally:
        receiver.close()
    assert len(events) == EVENTS
    for number, subscription_id in enumerate(endpoints):
        got = [r for r in receiver.received if r.path.endswith(f"/{number}")]
        ids = Counter(r.headers["webhook-id"] for r in got)
        assert set(ids) == events  # every event, at least once
        for item in got:  # a repeat is the same event: same id, same bytes
            assert bodies[item.headers["webhook-id"]] == item.body
            assert item.headers["tradewind-subscription-id"] == str(subscription_id)
        repeated = sum(count - 1 for count in ids.values())
        # At least once, not twice over: a repeat is a delivery whose claim lapsed — the
        # killed worker's (up to one claim, 32), or one a loaded machine kept past its
        # lease — never the stream sent again.
        assert repeated < len(events) // 2, ids.most_common(5)


def _kill_one_in_flight(
    hub: Hub, workers: list[subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes]:
    """SIGKILL the worker holding an endpoint while some of its deliveries are claimed."""
    pids = {worker.pid: worker for worker in workers}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with hub.db.read() as session:
            sent = (
                session.scalar(
                    select(func.count())
                    .select_from(WebhookDelivery)
                    .where(WebhookDelivery.status == DeliveryStatus.SUCCEEDED)
                )
                or 0
            )
            holders = session.scalars(
                select(WebhookSubscription.lease_holder)
                .join(WebhookDelivery, WebhookDelivery.subscription_id == WebhookSubscription.id)
                .where(
                    WebhookSubscription.lease_until > utcnow(),
                    WebhookDelivery.lease_until > utcnow(),
                    WebhookDelivery.status == DeliveryStatus.PENDING,
                )
            ).all()
        for holder in holders:
            parts = holder.split(":")
            pid = int(parts[1]) if len(parts) >= 3 and parts[1].isdigit() else 0
            if pid in pids and sent >= 20:
                os.kill(pid, signal.SIGKILL)
                pids[pid].wait(timeout=10)
                return pids[pid]
        for worker in workers:
            if worker.poll() is not None:
                raise AssertionError(worker.stderr.read().decode() if worker.stderr else "died")
        time.sleep(0.01)
    raise AssertionError(f"no worker ever held deliveries to kill ({sent} sent)")


def _wait_all_succeeded(
    hub: Hub, workers: list[subprocess.Popen[bytes]], victim: subprocess.Popen[bytes]
) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with hub.db.read() as session:
            left = session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.status != DeliveryStatus.SUCCEEDED)
            )
        if left == 0:
            return
        for worker in workers:
            if worker is not victim and worker.poll() is not None:
                raise AssertionError(worker.stderr.read().decode() if worker.stderr else "died")
        time.sleep(0.25)
    raise AssertionError(f"{left} deliveries never succeeded")
