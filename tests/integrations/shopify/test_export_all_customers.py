"""Export all customers against the sandbox (issue 18, point 1): a customer base seeded
into a store, matched by email first, never a duplicate, resumable after a failure
mid-way, with a dry-run count before it starts."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from tests.api.conftest import make_token
from tests.cli.test_cli import ok
from tests.integrations.shopify.conftest import World
from tests.sync.conftest import time_passes
from tradewind.app import actions
from tradewind.auth import service as auth
from tradewind.auth.models import Role, TokenScope
from tradewind.core.customers import service as customers
from tradewind.core.customers.models import Customer
from tradewind.core.customers.schemas import CustomerIn
from tradewind.core.links.models import CustomerLink
from tradewind.core.plugins import service as plugins
from tradewind.errors import Invalid
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.sandbox.shopify import ShopifySandbox
from tradewind.server import create_app
from tradewind.sync.models import BackfillState, CustomerExport
from tradewind.vocabulary import Toggle

N = 5000


class SandboxClock:
    """The store's clock for its rate limits: time passes when the test says so."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


CLOCK = SandboxClock()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ShopifySandbox]:
    """The shared sandbox, but with a clock this module moves on with Tradewind's."""
    with ShopifySandbox(time_scale=10_000, clock=CLOCK) as running:
        yield running


def _make_customers(world: World, count: int, *, without_email: int = 0) -> None:
    with world.hub.db.unit_of_work() as session:
        for n in range(count):
            customers.create_customer(
                session,
                CustomerIn(email=f"Buyer{n}@Example.com", first_name="Buyer", last_name=str(n)),
            )
        for n in range(without_email):
            customers.create_customer(session, CustomerIn(first_name="Walk", last_name=str(n)))
        customers.generic_customer(session, "shopify:pos", "Walk-in")


def _switch_on_export(world: World) -> None:
    with world.hub.db.unit_of_work() as session:
        plugins.set_toggle(
            session, ShopifyConnector.info, world.plugin_id, Toggle.EXPORT_CUSTOMERS, True
        )


def _run(world: World, run_id: int) -> CustomerExport:
    return actions.customer_export_run(world.hub, world.plugin_id, run_id)


def _finish(world: World, run_id: int) -> CustomerExport:
    """Drain, letting time pass whenever the store's rate budget is spent (a standard
    plan takes two calls a second: four thousand creates are half an hour for real)."""
    for _ in range(2000):  # a loop guard, not a clock
        world.harness.run(world.plugin_id, rounds=50)
        run = _run(world, run_id)
        if run.state is not BackfillState.RUNNING:
            return run
        time_passes(world.hub)
        CLOCK.now += 60  # the store's bucket has leaked empty too
    raise AssertionError("the export did not finish")


def _store_emails(world: World) -> Counter[str]:
    return Counter(
        str(c.get("email") or "").casefold() for c in world.sandbox.state(world.shop)["customers"]
    )


def _links(world: World) -> int:
    with world.hub.db.read() as session:
        count = session.scalar(
            select(func.count())
            .select_from(CustomerLink)
            .where(CustomerLink.plugin_id == world.plugin_id)
        )
        return int(count or 0)


def test_five_thousand_customers_with_a_thousand_in_the_store_create_exactly_four_thousand(
    world: World,
) -> None:
    world.sandbox.set_plan(world.shop, "plus")  # a store that size: ten times the calls
    _make_customers(world, N, without_email=3)
    # The store's thousand, made through the sandbox's control API (the merchant's own,
    # from before Tradewind): the same emails, in the store's own case and names.
    world.sandbox.add_customers(
        world.shop,
        [{"email": f"buyer{n}@example.com", "first_name": "Old"} for n in range(0, N, 5)],
    )
    assert len(_store_emails(world)) == N // 5
    _switch_on_export(world)

    preview = actions.preview_customer_export(world.hub, world.plugin_id)
    assert (preview.to_export, preview.no_email, preview.already_linked) == (N, 3, 0)
    assert preview.sentence().startswith(f"{N} customer(s) would be exported")
    assert len(_store_emails(world)) == N // 5  # the dry run sent nothing

    run, started = actions.export_all_customers(world.hub, world.plugin_id)
    assert started and run.total == N
    done = _finish(world, run.id)

    assert done.state is BackfillState.DONE
    assert (done.created, done.matched, done.already_linked, done.failed) == (
        N - N // 5,
        N // 5,
        0,
        0,
    )
    emails = _store_emails(world)
    assert len(emails) == N and max(emails.values()) == 1
    assert _links(world) == N
    # A matched customer is linked, not overwritten with Tradewind's profile.
    old = [
        c
        for c in world.sandbox.state(world.shop)["customers"]
        if c["email"] == "buyer0@example.com"
    ]
    assert old[0]["first_name"] == "Old"

    # Again: everyone is known now; nothing more is created.
    again, started = actions.export_all_customers(world.hub, world.plugin_id)
    assert started
    repeat = _finish(world, again.id)
    assert (repeat.created, repeat.matched, repeat.already_linked) == (0, 0, N)
    assert len(_store_emails(world)) == N


def test_a_run_that_fails_mid_page_keeps_what_it_did_and_resumes_without_duplicates(
    world: World,
) -> None:
    _make_customers(world, 250)
    # The first ten are in the store already (as after a run killed once it had created
    # them, before it could write so): they are matched, not created again.
    world.sandbox.add_customers(world.shop, [{"email": f"buyer{n}@example.com"} for n in range(10)])
    _switch_on_export(world)
    world.sandbox.inject_fault(
        world.shop, "server_error", status=503, count=None, query_contains="customerCreate"
    )
    run, _ = actions.export_all_customers(world.hub, world.plugin_id)
    world.settle()
    stopped = _run(world, run.id)
    # The page stopped at its first create; the ten matched before it are kept.
    assert stopped.state is BackfillState.RUNNING
    assert (stopped.matched, stopped.created, stopped.cursor) == (10, 0, str(_first_id(world) + 9))
    assert _links(world) == 10

    world.sandbox.clear_faults(world.shop)
    world.rounds(3)
    done = _finish(world, run.id)
    assert (done.created, done.matched, done.failed) == (240, 10, 0)
    emails = _store_emails(world)
    assert len(emails) == 250 and max(emails.values()) == 1


def _first_id(world: World) -> int:
    with world.hub.db.read() as session:
        return int(session.scalar(select(func.min(Customer.id))) or 0)


def test_a_run_is_refused_while_export_customers_is_off_and_is_not_started_twice(
    world: World,
) -> None:
    _make_customers(world, 3)
    with pytest.raises(Invalid, match="does not have"):
        actions.preview_customer_export(world.hub, world.plugin_id)
    with pytest.raises(Invalid, match="does not have"):
        actions.export_all_customers(world.hub, world.plugin_id)
    _switch_on_export(world)
    first, started = actions.export_all_customers(world.hub, world.plugin_id)
    second, again = actions.export_all_customers(world.hub, world.plugin_id)
    assert started and not again and second.id == first.id


def test_the_api_the_cli_and_the_plugin_page_count_start_and_show_a_run(world: World) -> None:
    _make_customers(world, 4, without_email=1)
    headers = {"Authorization": f"Bearer {make_token(world.hub, TokenScope.READ_WRITE)}"}
    path = f"/api/v1/plugins/{world.plugin_id}/customer-exports"
    with TestClient(create_app(world.hub)) as client:
        refused = client.post(path, json={"dry_run": True}, headers=headers)
        assert refused.status_code == 422 and "does not have" in refused.json()["detail"]
        _switch_on_export(world)
        assert "4 customer(s) would be exported" in ok(
            world.hub, "customers", "export-all", world.plugin().name, "--dry-run"
        )
        counted = client.post(path, json={"dry_run": True}, headers=headers)
        assert counted.status_code == 200
        assert (counted.json()["total"], counted.json()["no_email"], counted.json()["id"]) == (
            4,
            1,
            None,
        )
        assert len(world.sandbox.state(world.shop)["customers"]) == 0

        started = client.post(path, json={}, headers=headers)
        assert started.status_code == 202
        run_id = started.json()["id"]
        assert started.headers["Location"] == f"{path}/{run_id}"
        _finish(world, run_id)
        shown = client.get(f"{path}/{run_id}", headers=headers).json()
        assert (shown["state"], shown["created"], shown["matched"]) == ("done", 4, 0)
        assert client.get(f"{path}/999", headers=headers).status_code == 404

        with world.hub.db.unit_of_work() as session:
            auth.create_user(session, "merchant", "correct horse battery", Role.ADMIN)
        login = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert token is not None
        client.post(
            "/login",
            data={
                "username": "merchant",
                "password": "correct horse battery",
                "csrf_token": token.group(1),
                "next": "/",
            },
        )
        page = client.get(f"/plugins/{world.plugin_id}")
        assert "Export all customers" in page.text
        assert "4 customer(s) would be exported (4 of them already linked" in page.text
        assert f"Export all customers #{run_id}: done, 4 of 4" in page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        again = client.post(
            f"/plugins/{world.plugin_id}/customer-export",
            data={"csrf_token": csrf.group(1)},
            follow_redirects=True,
        )
        assert again.status_code == 200 and "Export all customers started" in again.text
    assert "export" in ok(world.hub, "customers", "export-all", world.plugin().name)
