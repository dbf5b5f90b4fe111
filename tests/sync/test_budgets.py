"""Rate budgets: a call a person waits for takes the bucket's next room and sleeps until
it, so calls in a row go out at the bucket's pace with none of it lost to starting over;
the engine's work is still refused at once; a platform's block is waited out or refused."""

from __future__ import annotations

import pytest

from tradewind.connectors.errors import RateLimited
from tradewind.connectors.ratelimit import BucketPolicy, BucketState, Priority, reserve, take
from tradewind.db import Database
from tradewind.sync.budgets import PatientBudget, SharedBudget

TEN_A_SECOND = BucketPolicy(name="t", capacity=1, leak_per_second=10)


def _reserve(state: BucketState, now: float, within: float) -> tuple[float, bool]:
    wait, taken = reserve(state, TEN_A_SECOND, 1, Priority.LIVE, now, within=within)
    return round(wait, 9), taken


def test_reserved_room_is_spoken_for_and_the_next_wait_counts_from_it() -> None:
    state = BucketState()
    assert take(state, TEN_A_SECOND, 1, Priority.LIVE, 100.0) == 0
    # The next room is at 100.1, the one after at 100.2: each reservation takes its own.
    assert _reserve(state, 100.05, within=1) == (0.05, True)
    assert _reserve(state, 100.05, within=1) == (0.15, True)
    # A caller that does not wait is told when the room after those is.
    assert take(state, TEN_A_SECOND, 1, Priority.LIVE, 100.05) == pytest.approx(0.25)
    assert take(state, TEN_A_SECOND, 1, Priority.LIVE, 100.3) == 0


def test_nothing_is_reserved_past_the_patience_or_while_blocked() -> None:
    state = BucketState()
    take(state, TEN_A_SECOND, 1, Priority.LIVE, 100.0)
    assert _reserve(state, 100.0, within=0.05) == (0.1, False)
    assert state.level == 1
    state.blocked_until = 103.0
    assert _reserve(state, 101.0, within=10) == (2.0, False)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_patient_call_sleeps_until_its_room_and_an_impatient_one_is_refused(
    db: Database,
) -> None:
    # One call a minute: the real time the test takes cannot free the bucket.
    shared = SharedBudget(
        db, "easypost:acct", BucketPolicy(name="t", capacity=1, leak_per_second=1 / 60)
    )
    clock = _Clock()
    patient = PatientBudget(shared, 90.0, clock=clock, sleep=clock.sleep)
    patient.acquire(1)  # room at once
    patient.acquire(1)  # the next room is a minute away, within the patience: slept for
    assert len(clock.slept) == 1 and 59 < clock.slept[0] <= 60
    with pytest.raises(RateLimited) as refused:
        shared.acquire(1)  # the engine's work: refused, told the room after the reserved one
    assert refused.value.retry_after is not None and refused.value.retry_after > 119


def test_a_block_longer_than_the_patience_is_refused(db: Database) -> None:
    shared = SharedBudget(db, "easypost:acct", TEN_A_SECOND)
    shared.throttled(30.0)  # the platform said 429, come back in 30 s
    clock = _Clock()
    with pytest.raises(RateLimited):
        PatientBudget(shared, 5.0, clock=clock, sleep=clock.sleep).acquire(1)
    assert clock.slept == []


def test_each_account_draws_from_its_own_bucket(db: Database) -> None:
    """The bucket's statements are built once with its key bound per call: spending one
    account's room (and its platform's block) leaves another account's untouched."""
    once_a_minute = BucketPolicy(name="t", capacity=1, leak_per_second=1 / 60)
    first = SharedBudget(db, "easypost:first", once_a_minute)
    second = SharedBudget(db, "easypost:second", once_a_minute)
    first.acquire(1)
    with pytest.raises(RateLimited):
        first.acquire(1)
    second.acquire(1)  # room of its own
    with pytest.raises(RateLimited):
        second.acquire(1)
    third = SharedBudget(db, "easypost:third", once_a_minute)
    first.throttled(600.0)
    with pytest.raises(RateLimited) as blocked:
        first.reserve(1, Priority.LIVE, within=1000.0)
    assert blocked.value.retry_after is not None and blocked.value.retry_after > 500
    assert third.reserve(1, Priority.LIVE, within=0.0) == 0.0
