"""The example connector, for Fake Market: a small marketplace with a token, orders,
stock per location, shipments and signed webhooks (its server, for tests, is
``tests/fakeplatform.py``). ``docs/connectors.md`` builds it step by step.

It has the shape every connector has (``settings.py``, ``client.py``, ``mapping.py``,
``webhooks.py``, ``guide.md``, and here the connector class with its ``ConnectorInfo``),
imports only ``tradewind.connectors``, and passes ``connector_suite``. It is not registered
as an entry point, so a hub never offers it; a connector of your own is registered in its
package's ``pyproject.toml``:

    [project.entry-points."tradewind.connectors"]
    fake = "tradewind.connectors.example:FakeMarketConnector"
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.resources import files
from typing import ClassVar

from pydantic import BaseModel

from tradewind.connectors import (
    Capability,
    ConnectionReport,
    ConnectorContext,
    ConnectorInfo,
    LocationRecord,
    OrderQuery,
    OrderRecord,
    Page,
    Priority,
    ShipmentRecord,
    StockMode,
    StockPush,
    StockPushResult,
    Toggle,
    WebhookEvent,
    capabilities_for,
)
from tradewind.connectors.example import client, mapping, webhooks
from tradewind.connectors.example.settings import FakeMarketSettings

__all__ = ["FakeMarketConnector", "FakeMarketSettings"]

# Every toggle not offered says why, next to its disabled switch.
_UNSUPPORTED: Mapping[Toggle, str] = {
    Toggle.EXPORT_LISTINGS: "Fake Market has no listing API",
    Toggle.IMPORT_LISTINGS: "Fake Market has no listing API",
    Toggle.IMPORT_CUSTOMERS: "customers arrive only with orders",
    Toggle.EXPORT_CUSTOMERS: "Fake Market takes no customers from outside",
    Toggle.EXPORT_ORDERS: "orders are placed on Fake Market only",
    Toggle.EXPORT_PRODUCTS: "the catalog is kept on Fake Market",
}
_TOGGLES = frozenset(Toggle) - frozenset(_UNSUPPORTED)


def _account(settings: BaseModel) -> str | None:
    """The remote account, so that two plugins never import one shop's orders twice."""
    return f"{settings.shop}.fake.example" if isinstance(settings, FakeMarketSettings) else None


class FakeMarketConnector:
    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        key="fake",
        name="Fake Market",
        settings=FakeMarketSettings,
        toggles=_TOGGLES,
        unsupported=_UNSUPPORTED,
        # What the toggles need (import orders, push shipments), and what no toggle asks
        # for but the engine uses: test connection, stock, webhooks, locations.
        capabilities=capabilities_for(
            _TOGGLES,
            Capability.TEST_CONNECTION,
            Capability.PUSH_STOCK,
            Capability.RECEIVE_WEBHOOKS,
            Capability.LOCATIONS,
        ),
        guide=files(__package__).joinpath("guide.md").read_text(encoding="utf-8"),
        account=_account,
    )
    stock_batch_size = 250  # levels one POST /inventory takes

    def __init__(self, settings: FakeMarketSettings, context: ConnectorContext) -> None:
        self.settings = settings
        self.context = context
        self.http = client.connect(settings, context)

    def close(self) -> None:
        self.http.close()

    # ----------------------------------------------------------------------- reading

    def test_connection(
        self, toggles: frozenset[Toggle], uses: frozenset[Capability]
    ) -> ConnectionReport:
        body = self.http.request("GET", "/me", operation="shop.read").json()
        return ConnectionReport(ok=True, account=body["shop"])

    def list_orders(
        self, query: OrderQuery, cursor: str | None, priority: Priority
    ) -> Page[OrderRecord]:
        params = {"by": query.field, "since": query.since.isoformat()}
        if query.until is not None:
            params["until"] = query.until.isoformat()
        if cursor:
            params["cursor"] = cursor
        body = self.http.request(
            "GET", "/orders", operation="orders.list", params=params, priority=priority
        ).json()
        records, skipped = [], []
        for raw in body["orders"]:
            try:
                records.append(mapping.to_order(raw))
            except (KeyError, ValueError) as exc:  # one bad order never blocks the page
                skipped.append((str(raw.get("id")), f"malformed order: {exc}"))
        return Page(records=records, next_cursor=body["next_cursor"], skipped=tuple(skipped))

    def get_order(self, external_id: str) -> OrderRecord | None:
        response = self.http.request(
            "GET", f"/orders/{external_id}", operation="orders.get", allow=(404,)
        )
        if response.status_code == 404:
            return None
        return mapping.to_order(response.json()["order"])

    def list_locations(self) -> list[LocationRecord]:
        body = self.http.request("GET", "/locations", operation="locations.list").json()
        return [mapping.to_location(raw) for raw in body["locations"]]

    # ----------------------------------------------------------------------- writing

    def push_stock(self, pushes: Sequence[StockPush], mode: StockMode) -> list[StockPushResult]:
        body = self.http.request(
            "POST",
            "/inventory",
            operation="inventory.set",
            json_body={"mode": mode.value, "levels": mapping.stock_levels(pushes)},
        ).json()
        return mapping.stock_results(pushes, body)

    def push_shipment(self, shipment: ShipmentRecord) -> str:
        body = self.http.request(
            "POST",
            f"/orders/{shipment.order_external_id}/shipments",
            operation="shipments.create",
            json_body={
                "carrier": shipment.carrier,
                "tracking": shipment.tracking_number,
                "lines": [[line.line_external_id, line.quantity] for line in shipment.lines],
                "notify": shipment.notify_customer,
            },
        ).json()
        return str(body["shipment"]["id"])

    # ---------------------------------------------------------------------- webhooks

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        return webhooks.verify(self.settings.webhook_secret, headers, body)

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        return webhooks.parse(topic, headers, body)
