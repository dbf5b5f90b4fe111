"""The UI's pages and forms over the core, against Fake Market on loopback."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.fakeplatform import TOKEN, WEBHOOK_SECRET, FakeMarketServer
from tests.sync.conftest import Harness
from tests.web.conftest import Browser
from tradewind.core.customers.schemas import Address
from tradewind.core.orders import service as orders
from tradewind.core.orders.schemas import OrderIn, OrderLineIn
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.schemas import PosPolicy
from tradewind.hub import Hub
from tradewind.monitoring import notifications
from tradewind.sync.models import Backfill
from tradewind.vocabulary import FulfillmentStatus, OrderStatus


@pytest.fixture
def market() -> Iterator[FakeMarketServer]:
    with FakeMarketServer() as server:
        yield server


def add_plugin(admin: Browser, market: FakeMarketServer, channel_ids: list[str]) -> int:
    form = admin.get("/plugins/new?connector=fake")
    assert form.status_code == 200
    assert 'type="password" name="setting_api_token"' in form.text  # secrets are password fields
    assert "Integration Guide" in form.text
    created = admin.post(
        "/plugins/new",
        {
            "connector": "fake",
            "name": "Fake shop",
            "setting_shop": "fake-shop",
            "setting_api_token": TOKEN,
            "setting_webhook_secret": WEBHOOK_SECRET,
            "setting_base_url": market.url,
            "setting_poll_minutes": "10",
            "channel_ids": channel_ids,
        },
    )
    assert created.status_code == 303, created.text
    return int(created.headers["location"].rsplit("/", 1)[1])


def channel_id(admin: Browser, name: str) -> str:
    admin.post("/channels", {"name": name})
    found = re.search(
        rf'value="(\d+)"[^>]*> {name}<', admin.get("/plugins/new?connector=fake").text
    )
    assert found
    return found.group(1)


def test_plugin_page_secrets_toggles_and_conflict(
    admin: Browser, hub: Hub, market: FakeMarketServer
) -> None:
    one, two = channel_id(admin, "One"), channel_id(admin, "Two")
    plugin = add_plugin(admin, market, [one])
    page = admin.get(f"/plugins/{plugin}").text
    assert TOKEN not in page and WEBHOOK_SECRET not in page
    assert f"set (…{TOKEN[-4:]})" in page
    for section in (
        "Channels",
        "Sync toggles",
        "Sync historical orders",
        "Location mapping",
        "Product mapping",
        "Stock sync",
        "Integration Guide",
        "Execution history",
    ):
        assert section in page
    assert page.count('role="switch"') == 12
    assert "Not supported: Fake Market has no listing API" in page

    toggled = admin.htmx(f"/plugins/{plugin}/toggles/import_tracking", {"on": "on"})
    assert toggled.status_code == 200
    assert "Switched on as well, because Import Tracking needs it: Import Orders." in toggled.text
    orders_switch = re.search(
        r'data-toggle="import_orders".*?aria-checked="(\w+)"', toggled.text, re.S
    )
    assert orders_switch and orders_switch.group(1) == "true"
    assert 'class="toggle  changed" data-toggle="import_orders"' in toggled.text
    refused = admin.htmx(f"/plugins/{plugin}/toggles/export_listings", {"on": "on"})
    assert "no listing API" in refused.text

    both = admin.post(f"/plugins/{plugin}/channels", {"channel_ids": [one, two]})
    assert both.status_code == 303
    page = admin.get(f"/plugins/{plugin}").text
    assert 'id="import-conflict"' in page and "exactly one channel" in page
    assert admin.get("/fragments/bell").text.count('data-count="1"') == 1
    notes = admin.get("/notifications").text
    assert "Order import conflict" in notes and "Fix the plugin's channels" in notes
    admin.post(f"/plugins/{plugin}/channels", {"channel_ids": [two]})
    assert 'id="import-conflict"' not in admin.get(f"/plugins/{plugin}").text

    kept = admin.post(
        f"/plugins/{plugin}/settings",
        {
            "setting_shop": "fake-shop",
            "setting_api_token": "",
            "setting_base_url": market.url,
            "setting_poll_minutes": "7",
        },
    )
    assert kept.status_code == 303
    assert f"set (…{TOKEN[-4:]})" in admin.get(f"/plugins/{plugin}").text
    assert "Connection works: fake-shop" in admin.htmx(f"/plugins/{plugin}/test").text
    assert admin.get(f"/plugins/{plugin}/guide").status_code == 200


def test_backfill_progress_locations_and_history(
    admin: Browser, hub: Hub, market: FakeMarketServer
) -> None:
    shop = channel_id(admin, "Shop")
    plugin = add_plugin(admin, market, [shop])
    admin.htmx(f"/plugins/{plugin}/toggles/import_orders", {"on": "on"})
    admin.post("/warehouses", {"code": "MAIN"})
    assert admin.post(f"/plugins/{plugin}/activate").status_code == 303
    harness = Harness(hub)
    harness.run(plugin)
    page = admin.get(f"/plugins/{plugin}").text
    assert "loc-1" in page and "loc-2" in page
    mapped = admin.post(
        f"/plugins/{plugin}/locations/loc-1", {"warehouse_id": "1", "is_default": "on"}
    )
    assert mapped.status_code == 303
    placed = dt.datetime.now(dt.UTC) - dt.timedelta(days=5)
    for number in range(3):
        market.market.add_order(f"B{number}", placed_at=placed)
    started = admin.htmx(
        f"/plugins/{plugin}/backfill",
        {
            "start": (placed - dt.timedelta(days=1)).date().isoformat(),
            "end": (placed + dt.timedelta(days=1)).date().isoformat(),
        },
    )
    assert 'data-state="running"' in started.text and 'hx-trigger="every 1s"' in started.text
    backfill = re.search(r"/backfills/(\d+)", started.text)
    assert backfill
    # The same range again: refused next to the form, showing the running one.
    again = admin.htmx(
        f"/plugins/{plugin}/backfill",
        {
            "start": (placed - dt.timedelta(days=1)).date().isoformat(),
            "end": (placed + dt.timedelta(days=1)).date().isoformat(),
        },
    )
    assert f"backfill #{backfill.group(1)}" in again.text and "already covers" in again.text
    assert f"/backfills/{backfill.group(1)}" in again.text and 'hx-swap-oob="true"' in again.text
    with hub.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Backfill)) == 1
    # A range ending before it starts: said in the form's answer slot, which the page's
    # script names; the progress box (the htmx target) is left as it is.
    backwards = admin.client.post(
        f"/plugins/{plugin}/backfill",
        data={"start": "2026-02-01", "end": "2026-01-01"},
        headers={
            "HX-Request": "true",
            "X-CSRF-Token": admin.csrf,
            "X-Answer-Slot": "backfill-form-answer",
        },
    )
    assert backwards.status_code == 200 and "ends before it starts" in backwards.text
    assert backwards.headers["hx-retarget"] == "#backfill-form-answer"
    assert 'id="backfill"' not in backwards.text
    assert 'id="backfill-form-answer"' in admin.get(f"/plugins/{plugin}").text
    harness.run(plugin)
    progress = admin.get(f"/plugins/{plugin}/backfills/{backfill.group(1)}").text
    assert 'data-state="done"' in progress and "3 imported" in progress
    assert 'value="1.0"' in progress and "every 1s" not in progress
    page = admin.get(f"/plugins/{plugin}").text
    assert "<svg" in page and "Success rate per hour" in page and "orders.list" in page
    assert admin.post(f"/plugins/{plugin}/sync").headers["location"] == f"/plugins/{plugin}"
    stock = admin.post(
        f"/plugins/{plugin}/stock", {"mode": "delta", "window_seconds": "10", "buffer": "1"}
    )
    assert stock.status_code == 303
    dashboard = admin.get("/fragments/health").text
    assert "Fake shop" in dashboard and "active" in dashboard
    listing = admin.get(f"/orders?plugin_id={plugin}").text
    assert "#B0" in listing and "#B2" in listing


def test_order_rules_are_set_from_the_plugin_page(
    admin: Browser, viewer: Browser, hub: Hub, market: FakeMarketServer
) -> None:
    plugin = add_plugin(admin, market, [channel_id(admin, "Shop")])
    page = admin.get(f"/plugins/{plugin}").text
    assert "Order rules" in page
    assert 'name="financial_statuses" value="paid" checked' in page  # only paid by default
    assert 'name="notify_customer" value="true" checked' in page
    assert 'name="import_returns" value="true" checked' in page  # Sync returns: on by default
    assert 'name="cancel_on_platform"' not in page  # Fake Market cannot cancel orders
    assert 'name="export_returns"' not in page  # nor take returns
    form = {
        "statuses": ["open", "closed"],
        "ignore_financial_status": "true",
        "fulfillment_statuses": ["unfulfilled"],
        "import_test_orders": "true",
        "pos_orders": "generic",
        "only_location": "loc-2",
        "match_by": "barcode,sku",
        "restock": "never",
        "close_orders": "true",
        "poll_minutes": "5",
        "poll_overlap_minutes": "30",
    }
    saved = admin.post(f"/plugins/{plugin}/rules", form)
    assert saved.status_code == 303 and saved.headers["location"].endswith("#rules")
    with hub.db.read() as session:
        rules = plugins.import_rules(plugins.get_plugin(session, plugin))
    assert rules.statuses == {OrderStatus.OPEN, OrderStatus.CLOSED}
    assert rules.ignore_financial_status and rules.financial_statuses == frozenset()
    assert rules.fulfillment_statuses == {FulfillmentStatus.UNFULFILLED}
    assert rules.import_test_orders and rules.pos_orders is PosPolicy.GENERIC
    assert rules.only_location == "loc-2" and rules.match_by == ("barcode", "sku")
    assert rules.restock_returns is False and rules.close_orders
    assert not rules.notify_customer  # unticked
    assert not rules.import_returns  # unticked: refunds there make no return here
    assert (rules.poll_minutes, rules.poll_overlap_minutes) == (5, 30)
    page = admin.get(f"/plugins/{plugin}").text
    assert '<option value="barcode,sku" selected>' in page
    assert '<option value="never" selected>' in page

    # A form that would import nothing is refused with the reason, and changes nothing.
    refused = admin.post(f"/plugins/{plugin}/rules", {**form, "ignore_financial_status": ""})
    assert refused.status_code == 422
    assert "choose at least one financial status" in refused.text
    refused = admin.post(f"/plugins/{plugin}/rules", {**form, "statuses": []})
    assert refused.status_code == 422 and "choose at least one" in refused.text
    assert viewer.post(f"/plugins/{plugin}/rules", form).status_code == 403
    with hub.db.read() as session:
        assert plugins.import_rules(plugins.get_plugin(session, plugin)) == rules


def test_order_wizard_timeline_and_missing_product_fix(admin: Browser, hub: Hub) -> None:
    admin.post("/channels", {"name": "Wholesale"})
    admin.post("/warehouses", {"code": "MAIN"})
    created = admin.post("/products", {"sku": "MUG", "title": "Mug", "price": "12"})
    product = created.headers["location"]
    admin.post(f"{product}/movements", {"kind": "receipt", "warehouse_id": "1", "quantity": "10"})
    admin.post(
        f"{product}/movements",
        {"kind": "adjustment", "warehouse_id": "1", "quantity": "-1", "reason": "broken"},
    )
    admin.post("/warehouses", {"code": "NORTH"})
    moved = admin.post(
        f"{product}/movements",
        {"kind": "transfer", "warehouse_id": "1", "to_warehouse_id": "2", "quantity": "4"},
    )
    assert moved.status_code == 303
    refused = admin.post(
        f"{product}/movements", {"kind": "pick", "warehouse_id": "2", "quantity": "99"}
    )
    assert refused.status_code == 422 and "only 4 on hand" in refused.text
    page = admin.get(product).text
    assert re.search(r'data-warehouse="MAIN">.*?class="on-hand">5<', page, re.S)
    assert re.search(r'data-warehouse="NORTH">.*?class="on-hand">4<', page, re.S)

    wizard = admin.get("/orders/new")
    assert wizard.status_code == 200 and "Customer" in wizard.text
    form = {
        "channel_id": "1",
        "email": "ada@example.com",
        "first_name": "Ada",
        "line_sku": ["MUG", ""],
        "line_quantity": ["2", "1"],
        "line_price": ["", ""],
        "ship_first_name": "Ada",
        "ship_address1": "1 St",
        "ship_city": "London",
        "ship_country_code": "GB",
        "billing_same": "on",
    }
    assert admin.post("/orders/new", form).status_code == 303
    # The wizard takes SKUs of the catalog only; an order with one it does not know (as a
    # platform or the API may send) is kept and flagged:
    refused = admin.post("/orders/new", {**form, "line_sku": ["MUG", "GHOST"]})
    assert refused.status_code == 422 and "no product with SKU &#39;GHOST&#39;" in refused.text
    with hub.db.unit_of_work() as session:
        ghost = orders.create_manual_order(
            session,
            1,
            OrderIn(
                email="ada@example.com",
                shipping_address=Address(
                    first_name="Ada", address1="1 St", city="London", country_code="GB"
                ),
                lines=[
                    OrderLineIn(sku="MUG", quantity=2),
                    OrderLineIn(sku="GHOST", quantity=1, unit_price=Decimal("3")),
                ],
            ),
        )
    location = f"/orders/{ghost.id}"
    order_page = admin.get(location).text
    assert "missing product" in order_page and "created in Tradewind" in order_page
    assert "GHOST matches no product" in order_page

    notes = admin.get("/notifications").text
    assert "Missing product" in notes and "Map GHOST to product" in notes
    fixed = admin.post(
        "/notifications/map-product", {"sku": "GHOST", "product": "MUG", "plugin_id": ""}
    )
    assert fixed.status_code == 303
    assert "Missing product" not in admin.get("/notifications").text
    order_page = admin.get(location).text
    assert "mapped to product MUG" in order_page and 'badge bad">no product' not in order_page

    shipped = admin.post(f"{location}/ship", {"carrier": "DHL", "tracking_number": "T1"})
    assert shipped.status_code == 303
    assert "DHL" in admin.get("/shipments").text
    with hub.db.read() as session:
        order = orders.list_orders(session)[0]
        line = order.lines[0].id
        assert notifications.open_notifications(session) == []
    admin.post(
        f"/orders/{order.id}/return", {"line_id": str(line), "quantity": "1", "reason": "too big"}
    )
    returns_page = admin.get("/returns").text
    assert "too big" in returns_page and "Mark received" in returns_page
    assert admin.post("/returns/1/advance", {"to": "received"}).status_code == 303
    assert (
        admin.post("/customers", {"email": "bo@example.com", "first_name": "Bo"}).status_code == 303
    )
    assert "Bo" in admin.get("/customers?q=bo").text
    listing = admin.post(
        "/listings",
        {
            "channel_id": "1",
            "product": "MUG",
            "title": "Mug on wholesale",
            "price": "9",
            "published": "on",
        },
    )
    assert listing.status_code == 303
    assert "Mug on wholesale" in admin.get("/listings?channel_id=1").text
    imported = admin.client.post(
        "/products/import",
        data={"csrf_token": admin.csrf},
        files={"file": ("p.csv", "sku,title\nPLATE,Plate\n", "text/csv")},
        follow_redirects=False,
    )
    assert imported.status_code == 303
    assert "PLATE" in admin.get("/products?q=plate").text


def test_every_page_renders(admin: Browser, market: FakeMarketServer) -> None:
    channel = channel_id(admin, "All")
    plugin = add_plugin(admin, market, [channel])
    for path in (
        "/",
        "/orders",
        "/orders/new",
        "/products",
        "/warehouses",
        "/customers",
        "/shipments",
        "/returns",
        "/channels",
        "/listings",
        "/plugins",
        f"/plugins/{plugin}",
        f"/plugins/{plugin}/guide",
        "/plugins/new",
        "/notifications",
        "/account",
        "/fragments/bell",
        "/fragments/health",
        "/api/v1/docs",
    ):
        response = admin.get(path)
        assert response.status_code == 200, (path, response.text[:300])
    assert admin.get("/orders/999").status_code == 404
    # An htmx error goes to the answer slot the page names, else to the page's alerts.
    htmx_error = admin.client.get("/plugins/999", headers={"HX-Request": "true"})
    assert htmx_error.headers["hx-retarget"] == "#alerts"
    for slot, target in (("try-form-answer", "#try-form-answer"), ('x"]; *', "#alerts")):
        named = admin.client.get(
            "/plugins/999", headers={"HX-Request": "true", "X-Answer-Slot": slot}
        )
        assert named.headers["hx-retarget"] == target


def test_a_read_only_user_has_the_integration_guide_button_and_page(
    admin: Browser, viewer: Browser, market: FakeMarketServer
) -> None:
    """Seed 003's rule, one for both: whoever may read the plugin page may read its guide."""
    plugin = add_plugin(admin, market, [channel_id(admin, "Shop")])
    page = viewer.get(f"/plugins/{plugin}").text
    assert f'href="/plugins/{plugin}/guide">Integration Guide</a>' in page
    assert "Sync now" not in page and "Test connection" not in page  # writers' buttons
    guide = viewer.get(f"/plugins/{plugin}/guide")
    assert guide.status_code == 200 and "Fake Market" in guide.text


def test_destructive_actions_ask_first(admin: Browser, hub: Hub, market: FakeMarketServer) -> None:
    plugin = add_plugin(admin, market, [channel_id(admin, "Shop")])
    assert admin.post(f"/plugins/{plugin}/activate").status_code == 303
    page = admin.get(f"/plugins/{plugin}").text
    assert re.search(
        r'action="/plugins/\d+/deactivate" class="inline" onsubmit="return confirm\(', page
    )
    shop = int(channel_id(admin, "Shop"))  # before the transaction: the page writes too
    with hub.db.unit_of_work() as session:
        order = orders.create_manual_order(
            session,
            shop,
            OrderIn(
                number="M-1", lines=[OrderLineIn(sku="MUG", quantity=1, unit_price=Decimal(5))]
            ),
        )
    page = admin.get(f"/orders/{order.id}").text
    assert "onsubmit=\"return confirm('Cancel order M-1?" in page
    assert "return confirm('Delete channel" in admin.get("/channels").text


def test_a_bulk_backfill_shows_its_read_position(
    admin: Browser, hub: Hub, market: FakeMarketServer
) -> None:
    plugin = add_plugin(admin, market, [channel_id(admin, "Shop")])
    now = dt.datetime.now(dt.UTC)
    with hub.db.unit_of_work() as session:
        run = Backfill(plugin_id=plugin, start=now - dt.timedelta(days=90), end=now)
        run.route, run.export_id, run.export_status = "bulk", "gid://shopify/BulkOperation/7", ""
        session.add(run)
        session.flush()
        run_id = run.id
    waiting = admin.get(f"/plugins/{plugin}/backfills/{run_id}").text
    assert 'data-route="bulk"' in waiting and "preparing it" in waiting
    assert "<progress aria-label" in waiting  # no value: how far is not known yet

    with hub.db.unit_of_work() as session:
        found = session.get(Backfill, run_id)
        assert found is not None
        found.export_status, found.export_size = "completed", 4 * 1048576
        found.export_offset, found.pages, found.imported = 1048576, 3, 1500
    reading = admin.get(f"/plugins/{plugin}/backfills/{run_id}").text
    assert "1.0 of 4.0 MB of its result imported" in reading
    assert 'value="0.25"' in reading and "3 chunk(s)" in reading and "1500 imported" in reading
