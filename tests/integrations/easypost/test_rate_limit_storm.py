"""The carrier 429 storm drill, end to end against the EasyPost sandbox: for a while
every request is answered 429 with a Retry-After. The engine's rating work waits as
long as that says and is never failed for it (a notification says it is throttled and
that nothing is lost); a person's purchase waits up to PATIENCE_SECONDS and then says
clearly that the carrier is rate limiting, with nothing bought and the package free
to buy; once the storm passes everything completes, and no package ever gets a second
label (the sandbox's count of labels)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests import factories
from tests.integrations.easypost.conftest import ADDRESS, Shop, drain
from tests.sync.conftest import Harness, time_passes
from tradewind.app import shipping as actions
from tradewind.core.customers.schemas import Address
from tradewind.core.inventory import service as inventory
from tradewind.core.orders import service as orders
from tradewind.core.shipping import service as shipping
from tradewind.core.shipping.models import PackageState
from tradewind.core.shipping.schemas import ParcelIn
from tradewind.db import utcnow
from tradewind.errors import Conflict
from tradewind.hub import Hub
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync.drain import THROTTLE_NOTICE_AFTER
from tradewind.sync.models import SyncWork, WorkKind, WorkState

PACKAGES = 6
STORM_RETRY_AFTER = 30.0  # longer than a person is kept waiting


def _more_packages(shop: Shop, count: int) -> list[int]:
    made = []
    with shop.hub.db.unit_of_work() as session:
        channel_id = orders.get_order(
            session, shipping.get_package(session, shop.package_id).order_id
        ).channel_id
        mug = orders.get_order(session, shipping.get_package(session, shop.package_id).order_id)
        line = mug.lines[0]
        assert line.product_id is not None and mug.warehouse_id is not None
        inventory.receive(session, line.product_id, mug.warehouse_id, count)
        for number in range(count):
            data = factories.order_in(f"S{number}", ("MUG", 1)).model_copy(
                update={"external_id": None, "shipping_address": Address(**ADDRESS)}
            )
            order = orders.create_manual_order(session, channel_id, data)
            package = shipping.prepare_package(session, order.id, [ParcelIn(weight=Decimal("900"))])
            made.append(package.id)
    return made


def _rating_work(hub: Hub, packages: list[int]) -> list[SyncWork]:
    with hub.db.read() as session:
        return list(
            session.scalars(
                select(SyncWork).where(
                    SyncWork.kind == WorkKind.GET_RATES,
                    SyncWork.key.in_([str(package) for package in packages]),
                )
            )
        )


def _quotes(hub: Hub, package_id: int) -> int:
    with hub.db.read() as session:
        return len(shipping.get_package(session, package_id).quotes)


def test_a_carrier_429_storm_delays_work_and_people_and_never_buys_twice(shop: Shop) -> None:
    packages = [shop.package_id, *_more_packages(shop, PACKAGES - 1)]
    first = shipping.cheapest(actions.get_rates(shop.hub, shop.package_id))  # before it
    assert first is not None
    harness = Harness(shop.hub)

    # The storm: every request answered 429, Retry-After 30 s, until it is cleared.
    shop.sandbox.inject_fault("rate_limit", count=None, retry_after=STORM_RETRY_AFTER)

    # The engine rates the packages: throttled, waiting as long as it was told, never failed.
    for _ in range(THROTTLE_NOTICE_AFTER):
        started = utcnow()
        harness.run(shop.plugin_id)
        work = _rating_work(shop.hub, packages[1:])  # the first was rated by a person
        assert {row.state for row in work} == {WorkState.PENDING}
        assert all(row.attempts == 0 for row in work)  # a throttle is not a failure
        waited = [row for row in work if row.throttled]
        assert waited  # the carrier was asked and said wait …
        assert all(  # … and it waits at least that long
            row.not_before >= started + dt.timedelta(seconds=STORM_RETRY_AFTER - 1)
            for row in waited
        )
        time_passes(shop.hub)
    with shop.hub.db.read() as session:
        (told,) = notifications.open_notifications(
            session, kind=NotificationKind.RATE_LIMITED, plugin_id=shop.plugin_id
        )
        assert "Nothing is lost" in told.message
    assert all(_quotes(shop.hub, package) == 0 for package in packages[1:])

    # A person buys: kept waiting no longer than PATIENCE_SECONDS, then told, nothing bought.
    for _ in range(3):
        time_passes(shop.hub)  # the carrier itself answers, not the plugin's budget
        with pytest.raises(actions.StillRateLimited, match="is rate limited by the service"):
            actions.buy_label(shop.hub, shop.package_id, first.id)
    with shop.hub.db.read() as session:
        assert shipping.get_package(session, shop.package_id).state is PackageState.DRAFT
    assert shop.sandbox.labels(shop.key)["bought"] == 0

    # The storm passes.
    shop.sandbox.clear_faults()
    drain(shop.hub, shop.plugin_id)  # at the plugin's own pace (19 a second)
    assert {row.state for row in _rating_work(shop.hub, packages)} == {WorkState.DONE}
    assert all(_quotes(shop.hub, package) > 0 for package in packages)
    with shop.hub.db.read() as session:
        assert not notifications.open_notifications(
            session, kind=NotificationKind.RATE_LIMITED, plugin_id=shop.plugin_id
        )
    for package in packages:
        with shop.hub.db.read() as session:
            cheapest = shipping.cheapest(shipping.get_package(session, package).quotes)
            assert cheapest is not None
        actions.buy_label(shop.hub, package, cheapest.id)
        with pytest.raises(Conflict, match="has its label already"):
            actions.buy_label(shop.hub, package, cheapest.id)
    assert shop.sandbox.labels(shop.key)["bought"] == PACKAGES  # one each, never two


def test_a_short_storm_is_waited_out_for_a_person(shop: Shop) -> None:
    cheapest = shipping.cheapest(actions.get_rates(shop.hub, shop.package_id))
    assert cheapest is not None
    # Two 429s asking for a fifth of a second each: well within a person's patience.
    shop.sandbox.inject_fault("rate_limit", count=2, retry_after=0.2, path_contains="/buy")
    label = actions.buy_label(shop.hub, shop.package_id, cheapest.id)
    assert label.tracking_number
    assert shop.sandbox.labels(shop.key)["bought"] == 1
    assert actions.PATIENCE_SECONDS > 2 * 0.2
