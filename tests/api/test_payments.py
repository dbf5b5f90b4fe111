"""Payments recorded in Tradewind for an order imported unpaid: the order becomes
partially paid, then paid; more than is left, another currency, a paid or cancelled
order are refused with the reason and write nothing; the platform's copy still saying
pending does not undo a recorded payment; the order page records one too."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from tests import factories
from tests.api.conftest import Api
from tests.web.conftest import PASSWORD, Browser, csrf_of
from tradewind.auth import service as auth
from tradewind.auth.models import Role
from tradewind.core.orders import payments
from tradewind.core.orders import service as orders
from tradewind.core.orders.schemas import ImportOptions
from tradewind.hub import Hub
from tradewind.server import create_app
from tradewind.vocabulary import FinancialStatus


def _unpaid(hub: Hub) -> tuple[int, int]:
    """An order imported unpaid (2 × 10.00), and its plugin."""
    with hub.db.unit_of_work() as session:
        channel = factories.channel(session)
        plugin = factories.plugin(hub, session, channel_id=channel.id)
        factories.product(session, "MUG")
        data = factories.order_in("U1", ("MUG", 2), currency="EUR")
        order = orders.import_order(session, plugin.id, data, ImportOptions()).order
        assert order.financial_status is FinancialStatus.PENDING and order.total == 20
        return order.id, plugin.id


def test_payments_move_the_order_to_partly_paid_then_paid(hub: Hub, api: Api) -> None:
    order_id, _ = _unpaid(hub)
    first = api.post(
        f"/orders/{order_id}/payments",
        json={"amount": "5.00", "method": "cash", "reference": "till 3"},
    )
    assert first.status_code == 201, first.text
    assert first.json()["recorded_by"] == "token writer"
    assert api.get(f"/orders/{order_id}").json()["financial_status"] == "partially_paid"
    too_much = api.post(f"/orders/{order_id}/payments", json={"amount": "15.01"})
    assert too_much.status_code == 422
    assert "has 15.00 EUR left to pay, not 15.01" in too_much.json()["detail"]
    wrong = api.post(f"/orders/{order_id}/payments", json={"amount": "1", "currency": "USD"})
    assert wrong.status_code == 422
    assert api.post(f"/orders/{order_id}/payments", json={"amount": "15"}).status_code == 201
    assert api.get(f"/orders/{order_id}").json()["financial_status"] == "paid"
    again = api.post(f"/orders/{order_id}/payments", json={"amount": "1"})
    assert again.status_code == 409 and "is paid" in again.json()["detail"]
    listed = api.get(f"/orders/{order_id}/payments").json()
    assert [(p["amount"], p["method"]) for p in listed] == [("5.0000", "cash"), ("15.0000", "")]
    with hub.db.read() as session:
        kinds = [a.kind for a in orders.activities(session, order_id)]
        assert kinds.count("payment") == 2


def test_the_platforms_copy_still_saying_pending_does_not_undo_a_payment(hub: Hub) -> None:
    order_id, plugin_id = _unpaid(hub)
    with hub.db.unit_of_work() as session:
        payments.record_payment(session, order_id, payments.PaymentIn(amount=Decimal(20)), "ada")
    with hub.db.unit_of_work() as session:  # the platform re-sends it, still pending
        again = factories.order_in("U1", ("MUG", 2), note="gift wrap", currency="EUR")
        result = orders.import_order(session, plugin_id, again, ImportOptions())
        assert result.changed
    with hub.db.read() as session:
        order = orders.get_order(session, order_id)
        assert order.financial_status is FinancialStatus.PAID and order.note == "gift wrap"
    with hub.db.unit_of_work() as session:  # refunded there: the platform's word stands
        refunded = factories.order_in(
            "U1",
            ("MUG", 2),
            note="gift wrap",
            currency="EUR",
            financial_status=FinancialStatus.REFUNDED,
        )
        orders.import_order(session, plugin_id, refunded, ImportOptions())
    with hub.db.read() as session:
        assert orders.get_order(session, order_id).financial_status is FinancialStatus.REFUNDED


def test_a_cancelled_order_takes_no_payment(hub: Hub, api: Api) -> None:
    order_id, _ = _unpaid(hub)
    with hub.db.unit_of_work() as session:
        orders.cancel_order(session, order_id)
    refused = api.post(f"/orders/{order_id}/payments", json={"amount": "1"})
    assert refused.status_code == 422 and "cancelled" in refused.json()["detail"]
    assert api.get(f"/orders/{order_id}/payments").json() == []


def test_the_order_page_records_a_payment(hub: Hub) -> None:
    order_id, _ = _unpaid(hub)
    with hub.db.unit_of_work() as session:
        auth.create_user(session, "clerk", PASSWORD, Role.ADMIN)
    with TestClient(create_app(hub)) as client:
        browser = Browser(client)
        assert browser.login("clerk").status_code == 303
        shown = browser.get(f"/orders/{order_id}").text
        assert f'action="/orders/{order_id}/payments"' in shown
        assert 'value="20.00"' in shown  # what is left to pay, filled in
        browser.csrf = csrf_of(shown)
        bad = browser.post(f"/orders/{order_id}/payments", {"amount": "ten"})
        assert bad.status_code in (303, 422)
        done = browser.post(
            f"/orders/{order_id}/payments", {"amount": "20", "method": "bank transfer"}
        )
        assert done.status_code == 303
        after = browser.get(f"/orders/{order_id}").text
        assert "Paid 20.00 EUR by bank transfer, recorded by clerk" in after
        assert f'action="/orders/{order_id}/payments"' not in after  # paid: no form
