"""The Fake Market connector: a complete connector for a platform the engine knows nothing
about (tests/fakeplatform.py). It uses only ``tradewind.connectors``."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import BaseModel, Field, SecretStr

from tradewind.connectors import (
    Capability,
    ConnectorInfo,
    Rejected,
    StockMode,
    Toggle,
)
from tradewind.connectors.base import ConnectorContext
from tradewind.connectors.http import HttpClient
from tradewind.connectors.ratelimit import BucketPolicy, Priority
from tradewind.connectors.records import (
    AddressRecord,
    ConnectionReport,
    LocationRecord,
    OrderLineRecord,
    OrderQuery,
    OrderRecord,
    Page,
    ShipmentRecord,
    StockPush,
    StockPushResult,
    WebhookEvent,
)


class FakeSettings(BaseModel):
    shop: str = Field(min_length=3, pattern=r"^[a-z0-9-]+$")
    api_token: SecretStr
    webhook_secret: SecretStr | None = None
    base_url: str = "http://127.0.0.1:9"
    poll_minutes: int = Field(default=10, ge=1, le=1440)


POLICY = BucketPolicy(name="api", capacity=40, leak_per_second=20)


class FakeConnector:
    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        key="fake",
        name="Fake Market",
        settings=FakeSettings,
        toggles=frozenset(Toggle)
        - {
            Toggle.EXPORT_LISTINGS,
            Toggle.IMPORT_CUSTOMERS,
            Toggle.EXPORT_CUSTOMERS,
            Toggle.EXPORT_ORDERS,
            Toggle.EXPORT_PRODUCTS,
            Toggle.IMPORT_LISTINGS,
        },
        unsupported={
            Toggle.EXPORT_LISTINGS: "Fake Market has no listing API",
            Toggle.IMPORT_LISTINGS: "Fake Market has no listing API",
            Toggle.IMPORT_CUSTOMERS: "customers arrive only with orders",
            Toggle.EXPORT_CUSTOMERS: "Fake Market takes no customers from outside",
            Toggle.EXPORT_ORDERS: "orders are placed on Fake Market only",
            Toggle.EXPORT_PRODUCTS: "the catalog is kept on Fake Market",
        },
        capabilities=frozenset(
            {
                Capability.TEST_CONNECTION,
                Capability.IMPORT_ORDERS,
                Capability.PUSH_STOCK,
                Capability.PUSH_SHIPMENTS,
                Capability.RECEIVE_WEBHOOKS,
                Capability.LOCATIONS,
            }
        ),
        guide="Fake Market: paste the API token from Settings › API.",
        account=lambda settings: f"{settings.shop}.fake.example",  # type: ignore[attr-defined]
    )
    stock_batch_size = 250

    def __init__(self, settings: FakeSettings, context: ConnectorContext) -> None:
        self.settings = settings
        self.context = context
        self.http = HttpClient(
            settings.base_url,
            headers={"Authorization": f"Bearer {settings.api_token.get_secret_value()}"},
            transport=context.transport,
            budget=context.budget(POLICY),
            recorder=context.recorder,
        )

    def close(self) -> None:
        self.http.close()

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
                records.append(to_record(raw))
            except (KeyError, ValueError) as exc:
                skipped.append((str(raw.get("id")), f"malformed order: {exc}"))
        return Page(records=records, next_cursor=body["next_cursor"], skipped=tuple(skipped))

    def get_order(self, external_id: str) -> OrderRecord | None:
        response = self.http.request(
            "GET", f"/orders/{external_id}", operation="orders.get", allow=(404,)
        )
        if response.status_code == 404:
            return None
        return to_record(response.json()["order"])

    def push_stock(self, pushes: Sequence[StockPush], mode: StockMode) -> list[StockPushResult]:
        levels = [
            {
                "sku": p.sku,
                "location": p.location_ref,
                "available": p.available,
                "delta": p.delta,
                "key": p.idempotency_key,
            }
            for p in pushes
        ]
        body = self.http.request(
            "POST",
            "/inventory",
            operation="inventory.set",
            json_body={"mode": mode.value, "levels": levels},
        ).json()
        by_key = {(p.sku, p.location_ref): p for p in pushes}
        return [
            StockPushResult(
                product_id=by_key[(r["sku"], r["location"])].product_id,
                location_ref=r["location"],
                ok=r["ok"],
                platform_quantity=r.get("quantity"),
                error=r.get("error", ""),
            )
            for r in body["results"]
        ]

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

    def list_locations(self) -> list[LocationRecord]:
        body = self.http.request("GET", "/locations", operation="locations.list").json()
        return [LocationRecord(external_id=r["id"], name=r["name"]) for r in body["locations"]]

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        secret = self.settings.webhook_secret
        given = _header(headers, "x-fake-signature")
        if secret is None or not given:
            return False
        digest = hmac.new(secret.get_secret_value().encode(), body, hashlib.sha256).digest()
        return hmac.compare_digest(base64.b64encode(digest).decode(), given)

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        delivery = _header(headers, "x-fake-delivery")
        try:
            payload = json.loads(body)
        except json.JSONDecodeError as exc:
            raise Rejected(f"the body is not JSON ({exc.msg})") from None
        if not delivery or not isinstance(payload, dict):
            raise Rejected("a Fake Market webhook has a delivery id and a JSON object body")
        if topic.startswith("app/"):
            return WebhookEvent(delivery_id=delivery, topic=topic, subject="app")
        return WebhookEvent(
            delivery_id=delivery,
            topic=topic,
            subject="order",
            subject_id=str(payload.get("order_id", "")),
        )


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""


def to_record(raw: dict[str, Any]) -> OrderRecord:
    return OrderRecord(
        external_id=str(raw["id"]),
        number=raw["number"],
        status=raw["status"],
        financial_status=raw["financial_status"],
        fulfillment_status=raw["fulfillment_status"],
        source=raw["source"],
        placed_at=dt.datetime.fromisoformat(raw["placed_at"]),
        updated_at=dt.datetime.fromisoformat(raw["updated_at"]),
        currency=raw["currency"],
        email=raw.get("email") or "",
        lines=tuple(
            OrderLineRecord(
                external_id=line["id"],
                sku=line["sku"],
                title=line["title"],
                quantity=line["quantity"],
                unit_price=Decimal(line["unit_price"]),
            )
            for line in raw["lines"]
        ),
        shipping_address=AddressRecord(**raw["shipping_address"])
        if raw.get("shipping_address")
        else None,
        location_ref=raw.get("location", ""),
        test=raw.get("test", False),
    )
