"""Customers in and out of Shopify (issue 5, point 8): Export Customers creates or updates
the store's customer, found by email, never a second one; Import Customers brings the
store's customers in, matched by email, never duplicated; the two together do not echo."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tests.integrations.shopify.conftest import World
from tradewind.app import actions
from tradewind.core.customers import service as customers
from tradewind.core.customers.models import Customer
from tradewind.core.customers.schemas import Address, CustomerIn
from tradewind.core.links import service as links
from tradewind.core.links.models import CustomerLink
from tradewind.core.orders import service as orders
from tradewind.core.orders.models import Order
from tradewind.core.plugins import service as plugins
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.monitoring import notifications
from tradewind.monitoring.executions import Execution
from tradewind.monitoring.notifications import NotificationKind
from tradewind.sync import ledger
from tradewind.sync.models import InboxDelivery, SyncSchedule, SyncWork, WorkKind, WorkState
from tradewind.vocabulary import Toggle


def _switch_on(world: World, *toggles: Toggle) -> None:
    with world.hub.db.unit_of_work() as session:
        for toggle in toggles:
            plugins.set_toggle(session, ShopifyConnector.info, world.plugin_id, toggle, True)


def _store_customers(world: World, email: str) -> list[dict[str, Any]]:
    wanted = email.casefold()
    return [
        c
        for c in world.sandbox.state(world.shop)["customers"]
        if str(c.get("email") or "").casefold() == wanted
    ]


def _calls(world: World, operation: str) -> int:
    with world.hub.db.read() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Execution)
                .where(Execution.plugin_id == world.plugin_id, Execution.operation == operation)
            )
            or 0
        )


def _link(world: World, customer_id: int) -> CustomerLink | None:
    with world.hub.db.read() as session:
        return links.customer_link(session, world.plugin_id, customer_id=customer_id)


def _ran(world: World, kind: WorkKind) -> bool:
    """No work of ``kind`` is left to run. Work that waits for the store's REST bucket
    (the merchant's own calls in these tests share it) is not due yet, so a settle that
    stops at "nothing due" may stop before it ran."""
    with world.hub.db.read() as session:
        waiting = session.scalar(
            select(func.count())
            .select_from(SyncWork)
            .where(
                SyncWork.plugin_id == world.plugin_id,
                SyncWork.kind == kind,
                SyncWork.state == WorkState.PENDING,
            )
        )
    return not waiting


def test_a_customer_made_here_is_created_in_the_store_once_and_kept_up_to_date(
    world: World,
) -> None:
    _switch_on(world, Toggle.EXPORT_CUSTOMERS)
    with world.hub.db.unit_of_work() as session:
        ada = customers.create_customer(
            session,
            CustomerIn(
                email="Ada.Lovelace@example.com",
                first_name="Ada",
                last_name="Lovelace",
                addresses=[
                    Address(
                        first_name="Ada",
                        address1="12 St James's Sq",
                        city="London",
                        country_code="GB",
                    )
                ],
            ),
        )
    world.settle(lambda: _link(world, ada.id) is not None)
    (stored,) = _store_customers(world, "ada.lovelace@example.com")
    link = _link(world, ada.id)
    assert link is not None and link.external_id == str(stored["id"])
    assert stored["first_name"] == "Ada" and stored["last_name"] == "Lovelace"
    assert [a["city"] for a in stored["addresses"]] == ["London"]

    with world.hub.db.unit_of_work() as session:
        customers.update_customer(session, ada.id, {"last_name": "King"})
    world.settle(
        lambda: _store_customers(world, "ada.lovelace@example.com")[0]["last_name"] == "King"
    )
    assert len(_store_customers(world, "ada.lovelace@example.com")) == 1

    # Queued again with nothing changed: nothing is sent.
    updates = _calls(world, "customers.update")
    with world.hub.db.unit_of_work() as session:
        ledger.enqueue(session, world.plugin_id, WorkKind.EXPORT_CUSTOMER, str(ada.id))
    world.settle(lambda: _ran(world, WorkKind.EXPORT_CUSTOMER))
    assert _calls(world, "customers.update") == updates

    # The link lost (as after an answer that never came back): found again by email.
    with world.hub.db.unit_of_work() as session:
        session.delete(links.customer_link(session, world.plugin_id, customer_id=ada.id))
        ledger.enqueue(session, world.plugin_id, WorkKind.EXPORT_CUSTOMER, str(ada.id))
    world.settle(lambda: _link(world, ada.id) is not None)
    (again,) = _store_customers(world, "ada.lovelace@example.com")
    assert again["id"] == stored["id"]
    relinked = _link(world, ada.id)
    assert relinked is not None and relinked.external_id == str(stored["id"])


def test_a_customer_the_store_already_has_is_updated_not_duplicated(world: World) -> None:
    existing = world.admin(
        "POST",
        "customers",
        {"customer": {"email": "grace@example.com", "first_name": "G"}},
    )["customer"]
    _switch_on(world, Toggle.EXPORT_CUSTOMERS)
    with world.hub.db.unit_of_work() as session:
        grace = customers.create_customer(
            session, CustomerIn(email="GRACE@example.com", first_name="Grace", last_name="Hopper")
        )
    world.settle(lambda: _link(world, grace.id) is not None)
    (stored,) = _store_customers(world, "grace@example.com")
    assert stored["id"] == existing["id"]
    assert (stored["first_name"], stored["last_name"]) == ("Grace", "Hopper")


def test_customers_without_an_email_or_generic_ones_are_not_exported(world: World) -> None:
    _switch_on(world, Toggle.EXPORT_CUSTOMERS)
    before = len(world.sandbox.state(world.shop)["customers"])
    with world.hub.db.unit_of_work() as session:
        customers.create_customer(session, CustomerIn(first_name="No", last_name="Email"))
        customers.generic_customer(session, "test:generic", "Walk-in")
    world.settle(lambda: _ran(world, WorkKind.EXPORT_CUSTOMER))
    assert len(world.sandbox.state(world.shop)["customers"]) == before


def _core(world: World, email: str) -> list[Customer]:
    with world.hub.db.read() as session:
        return list(session.scalars(select(Customer).where(Customer.email_key == email.casefold())))


def test_import_customers_matches_by_email_and_never_duplicates(world: World) -> None:
    with world.hub.db.unit_of_work() as session:
        known = customers.create_customer(session, CustomerIn(email="alan@example.com"))
    world.admin(
        "POST",
        "customers",
        {
            "customer": {
                "email": "Alan@Example.com",
                "first_name": "Alan",
                "last_name": "Turing",
                "addresses": [
                    {
                        "address1": "Bletchley Park",
                        "city": "Milton Keynes",
                        "country_code": "GB",
                        "default": True,
                    }
                ],
            }
        },
    )
    world.admin(
        "POST",
        "customers",
        {"customer": {"email": "barbara@example.com", "first_name": "Barbara"}},
    )
    world.admin("POST", "customers", {"customer": {"first_name": "Phone", "phone": "+14155550100"}})
    _switch_on(world, Toggle.IMPORT_CUSTOMERS, Toggle.EXPORT_CUSTOMERS)
    sent = _calls(world, "customers.update") + _calls(world, "customers.create")
    actions.sync_customers(world.hub, world.plugin_id)
    world.settle(lambda: _ran(world, WorkKind.IMPORT_CUSTOMERS))
    world.settle()

    (alan,) = _core(world, "alan@example.com")
    assert alan.id == known.id  # matched, not created again
    assert (alan.first_name, alan.last_name) == ("Alan", "Turing")  # blanks filled
    with world.hub.db.read() as session:
        assert [a.city for a in customers.get_customer(session, alan.id).addresses] == [
            "Milton Keynes"
        ]
    (barbara,) = _core(world, "barbara@example.com")
    assert _link(world, barbara.id) is not None
    # Read from the store: nothing goes back (no echo of an import as an export).
    assert _calls(world, "customers.update") + _calls(world, "customers.create") == sent

    actions.sync_customers(world.hub, world.plugin_id)  # again: still one each
    world.settle(lambda: _ran(world, WorkKind.IMPORT_CUSTOMERS))
    world.settle()
    assert len(_core(world, "alan@example.com")) == 1
    assert len(_core(world, "barbara@example.com")) == 1
    assert len(_store_customers(world, "alan@example.com")) == 1


def test_import_customers_polls_for_changes_by_itself(world: World) -> None:
    _switch_on(world, Toggle.IMPORT_CUSTOMERS)
    world.admin("POST", "customers", {"customer": {"email": "ken@example.com"}})
    world.harness.sweep()  # the reconciler queues the first poll: everyone
    world.settle(lambda: len(_core(world, "ken@example.com")) == 1)
    with world.hub.db.read() as session:
        schedule = session.scalar(
            select(SyncSchedule).where(
                SyncSchedule.plugin_id == world.plugin_id, SyncSchedule.stream == "customers"
            )
        )
        assert schedule is not None and schedule.cursor is not None
    (ken,) = _store_customers(world, "ken@example.com")
    world.admin(
        "PUT", f"customers/{ken['id']}", {"customer": {"id": ken["id"], "first_name": "Ken"}}
    )
    with world.hub.db.unit_of_work() as session:  # the next poll is due
        ledger.enqueue(session, world.plugin_id, WorkKind.IMPORT_CUSTOMERS, "customers")
    world.settle(lambda: _core(world, "ken@example.com")[0].first_name == "Ken")


def test_a_store_withholding_customer_data_imports_to_the_generic_customer_or_flags(
    world: World,
) -> None:
    """Seed 003's note: the store's plan withholds customer data from the app, so its
    orders come without the buyer. With POS/customer set to match (the default) they are
    kept and flagged *missing customer fields*; set to the generic customer they import to
    it, and an order flagged before is put right when it is read again."""

    def imported(external_id: object) -> Order | None:
        with world.hub.db.read() as session:
            return orders.find_imported(session, world.plugin_id, str(external_id))

    def flags() -> list[str]:
        with world.hub.db.read() as session:
            return [
                n.subject
                for n in notifications.open_notifications(
                    session,
                    plugin_id=world.plugin_id,
                    kind=NotificationKind.MISSING_CUSTOMER_FIELDS,
                )
            ]

    world.sandbox.withhold_customer_data(world.shop)
    first = world.sandbox.place_order(
        world.shop, [("MUG", 1)], customer={"email": "hidden@example.com", "first_name": "H"}
    )
    world.settle(lambda: imported(first["id"]) is not None)
    flagged = imported(first["id"])
    assert flagged is not None and flagged.customer_id is None and flagged.email == ""
    assert "email" in flagged.missing_customer_fields
    assert f"order {flagged.number}" in flags()
    assert _core(world, "hidden@example.com") == []  # nothing invented

    with world.hub.db.unit_of_work() as session:
        plugins.update_import_rules(session, world.plugin_id, {"pos_orders": "generic"})
    second = world.sandbox.place_order(
        world.shop, [("MUG", 1)], customer={"email": "also.hidden@example.com"}
    )
    world.settle(lambda: imported(second["id"]) is not None)
    with world.hub.db.read() as session:
        generic = customers.generic_customer(session, f"plugin:{world.plugin_id}:generic", "unused")
    to_generic = imported(second["id"])
    assert to_generic is not None and to_generic.customer_id == generic.id
    assert "email" not in to_generic.missing_customer_fields

    with world.hub.db.unit_of_work() as session:  # the poll reads the first one again
        ledger.enqueue(session, world.plugin_id, WorkKind.POLL_ORDERS, "orders")
    world.settle(lambda: (o := imported(first["id"])) is not None and o.customer_id == generic.id)
    fixed = imported(first["id"])
    assert fixed is not None and "email" not in fixed.missing_customer_fields


def test_the_buyer_of_an_imported_order_is_not_sent_back(world: World) -> None:
    _switch_on(world, Toggle.EXPORT_CUSTOMERS)
    sent = _calls(world, "customers.update") + _calls(world, "customers.create")
    placed = world.sandbox.place_order(
        world.shop, [("MUG", 1)], customer={"email": "donald@example.com", "first_name": "Don"}
    )

    def imported() -> Order | None:
        with world.hub.db.read() as session:
            return orders.find_imported(session, world.plugin_id, str(placed["id"]))

    world.settle(lambda: imported() is not None)
    world.settle()
    (donald,) = _core(world, "donald@example.com")
    (stored,) = _store_customers(world, "donald@example.com")
    link = _link(world, donald.id)
    assert link is not None and link.external_id == str(stored["id"])
    assert _calls(world, "customers.update") + _calls(world, "customers.create") == sent

    with world.hub.db.unit_of_work() as session:  # changed here: now it goes out
        customers.update_customer(session, donald.id, {"last_name": "Knuth"})
    world.settle(lambda: _store_customers(world, "donald@example.com")[0]["last_name"] == "Knuth")


def _subscribed(world: World) -> set[str]:
    hooks = world.admin("GET", "webhooks")["webhooks"]
    return {hook["topic"] for hook in hooks if f"/hooks/{world.plugin_id}/" in hook["address"]}


def _customer(world: World, email: str) -> Customer | None:
    with world.hub.db.read() as session:
        return customers.find_by_email(session, email)


def test_customers_changed_in_the_store_arrive_by_webhook_while_import_customers_is_on(
    world: World,
) -> None:
    assert not {"customers/create", "customers/update"} & _subscribed(world)
    _switch_on(world, Toggle.IMPORT_CUSTOMERS)
    world.settle(lambda: {"customers/create", "customers/update"} <= _subscribed(world))

    made = world.admin(
        "POST",
        "customers",
        {"customer": {"email": "katherine@example.com", "first_name": "Katherine"}},
    )["customer"]
    world.settle(lambda: _customer(world, "katherine@example.com") is not None)
    world.admin("PUT", f"customers/{made['id']}", {"customer": {"last_name": "Johnson"}})
    world.settle(
        lambda: getattr(_customer(world, "katherine@example.com"), "last_name", "") == "Johnson"
    )
    with world.hub.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 1
        deliveries = session.scalars(
            select(InboxDelivery.outcome).where(InboxDelivery.topic.like("customers/%"))
        ).all()
    assert len(deliveries) == 2
    assert all(outcome.startswith("customer:") for outcome in deliveries)

    # Switched off: the store stops sending customer changes.
    with world.hub.db.unit_of_work() as session:
        plugins.set_toggle(
            session, ShopifyConnector.info, world.plugin_id, Toggle.IMPORT_CUSTOMERS, False
        )
    world.settle(lambda: not {"customers/create", "customers/update"} & _subscribed(world))
    assert "orders/create" in _subscribed(world)  # the rest stays
