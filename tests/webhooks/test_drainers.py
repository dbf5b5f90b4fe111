"""One drainer per endpoint at a time: a second drain of an endpoint being drained, in the
same process (its dispatcher) or another (the endpoint's lease in the database), sends
nothing and returns at once; the one in this process is asked for again when the first
ends. Several workers draining one endpoint together never send a delivery twice (on
PostgreSQL the claims take rows ``FOR UPDATE SKIP LOCKED``)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

from sqlalchemy import func, select

from tests import factories
from tests.webhooks.conftest import Received, Receiver, Reply, subscribe
from tradewind.hub import Hub
from tradewind.webhooks.dispatch import Dispatcher
from tradewind.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery


def _products(hub: Hub, count: int) -> None:
    with hub.db.unit_of_work() as session:
        for number in range(count):
            factories.product(session, f"DRAIN-{number}")


def test_an_endpoint_being_drained_is_not_drained_again_here_or_elsewhere(
    hub: Hub, receiver: Receiver
) -> None:
    gate = threading.Event()

    def held(item: Received) -> Reply:
        gate.wait(timeout=60)  # the first answer waits for the test
        return Reply()

    receiver.answer = held
    subscription, _ = subscribe(hub, receiver.url, max_concurrency=1)
    _products(hub, 3)
    kicks: list[tuple[int, dt.datetime | None]] = []
    here = Dispatcher(hub, holder="here", kick=lambda sid, at: kicks.append((sid, at)))
    elsewhere = Dispatcher(hub, holder="elsewhere")
    made: list[int] = []
    first = threading.Thread(target=lambda: made.append(here.drain(subscription.id)))
    first.start()
    receiver.wait_for(1)  # the first drain is sending
    assert here.drain(subscription.id) == 0  # this process drains it already
    assert elsewhere.drain(subscription.id) == 0  # another holds its lease
    assert kicks == []  # not yet: the first drain still runs
    gate.set()
    first.join(timeout=60)
    assert made == [3]
    assert len(receiver.received) == 3  # nothing sent twice, nothing by the others
    assert (subscription.id, None) in kicks  # the drain asked for meanwhile, asked again
    here.close()


def test_workers_draining_one_endpoint_together_never_send_a_delivery_twice(
    hub: Hub, receiver: Receiver
) -> None:
    subscription, _ = subscribe(hub, receiver.url, max_concurrency=4)
    _products(hub, 120)
    workers = [Dispatcher(hub, holder=f"worker-{number}") for number in range(4)]
    start = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def pending() -> int:
        with hub.db.read() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(WebhookDelivery)
                    .where(WebhookDelivery.status == DeliveryStatus.PENDING)
                )
                or 0
            )

    def work(dispatcher: Dispatcher) -> None:
        try:
            start.wait(timeout=60)
            for _ in range(1000):
                if not pending():
                    return
                dispatcher.drain(subscription.id)
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for worker in workers:
        worker.close()
    assert errors == []
    assert pending() == 0
    sent = Counter(item.headers["webhook-id"] for item in receiver.received)
    assert len(sent) == 120 and set(sent.values()) == {1}
    with hub.db.read() as session:
        attempts = Counter(session.scalars(select(WebhookAttempt.delivery_id)))
    assert len(attempts) == 120 and set(attempts.values()) == {1}
