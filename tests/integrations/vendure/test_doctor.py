"""The order doctor against a real Vendure server (issue 15): an order code Vendure does
not have is bad input with the seed's words; an order the plugin skipped (Import Orders
off) is explained, its fix applied, and then it is in Tradewind — by code or by id."""

from __future__ import annotations

from tests.integrations.vendure.conftest import Store, wait_for
from tradewind.app import actions, doctor
from tradewind.core.plugins import service as plugins
from tradewind.integrations.vendure import VendureConnector
from tradewind.sync import decisions
from tradewind.sync.decisions import Decision
from tradewind.sync.doctor import ActionKind, CheckName, Result
from tradewind.vocabulary import Toggle


def test_the_doctor_on_vendure_not_found_skipped_then_imported(store: Store) -> None:
    peer = store.peer
    mug = peer.create_product("Doctor Mug", [("DOC-MUG", 1250, 10, "")])["DOC-MUG"]
    actions.activate(store.hub, store.plugin_id)
    store.drain()
    actions.sync_products(store.hub, store.plugin_id)
    store.drain()

    missing = doctor.diagnose(store.hub, store.plugin_id, "NO-SUCH-ORDER")
    assert missing.bad_input and missing.found is False and missing.exit_code == 2
    assert missing.verdict == (
        f"NO-SUCH-ORDER not found on {missing.store}: check the number, or the store."
    )
    assert missing.order_id is None

    with store.hub.db.unit_of_work() as session:
        plugins.set_toggle(
            session, VendureConnector.info, store.plugin_id, Toggle.IMPORT_ORDERS, False
        )
    placed = peer.place_order([(mug, 1)], "grace@example.com")
    wait_for("the plugin's order/placed", lambda: store.deliveries("order/placed"))
    store.drain()
    assert [o for o in store.orders() if o.external_id == placed["id"]] == []

    skipped = doctor.diagnose(store.hub, store.plugin_id, placed["code"])
    assert skipped.found is True and skipped.external_id == placed["id"]
    failed = [c.name for c in skipped.checks if c.result is Result.FAILED]
    assert failed[0] is CheckName.IMPORT_ORDERS and skipped.exit_code == 1
    assert skipped.action.kind is ActionKind.SWITCH_ON_IMPORT_ORDERS
    doctor.apply(store.hub, store.plugin_id, placed["code"], ActionKind.SWITCH_ON_IMPORT_ORDERS)
    store.drain()

    for asked in (placed["code"], placed["id"]):
        found = doctor.diagnose(store.hub, store.plugin_id, asked)
        assert found.order_id is not None and found.exit_code == 0, found.verdict
        assert f"Order {placed['code']} is in Tradewind" in found.verdict
        assert [c.name for c in found.checks if c.result is Result.FAILED] == []
    with store.hub.db.read() as session:
        history = decisions.history(session, store.plugin_id, placed["id"])
        assert [e.decision for e in history][:1] == [Decision.SKIPPED]
        assert Decision.IMPORTED in [e.decision for e in history]
