"""The Vendure connector without a server: mapping, signatures, error translation, the
stock arithmetic and the idempotent shipment push, through ``httpx2.MockTransport``."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx2
import pytest
from pydantic import ValidationError
from standardwebhooks import Webhook

from tradewind.connectors import (
    AuthFailed,
    FinancialStatus,
    FulfillmentStatus,
    OrderQuery,
    OrderStatus,
    Priority,
    Rejected,
    ShipmentLineRecord,
    ShipmentRecord,
    StockMode,
    StockPush,
    Toggle,
    Unavailable,
)
from tradewind.connectors.testing import suite_context
from tradewind.integrations.vendure import VendureConnector, VendureSettings, mapping, webhooks
from tradewind.integrations.vendure.settings import signing_key

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
Handler = Callable[[str, dict[str, Any]], dict[str, Any]]


def connector(handler: Handler, **settings: Any) -> tuple[VendureConnector, list[str]]:
    """A connector whose Admin API is ``handler(query, variables) → JSON body``."""
    seen: list[str] = []

    def respond(request: httpx2.Request) -> httpx2.Response:
        assert request.url.path == "/admin-api"
        assert request.headers["vendure-api-key"] == "key-1"
        body = json.loads(request.content)
        seen.append(body["query"])
        return httpx2.Response(200, json=handler(body["query"], body["variables"]))

    config = VendureSettings.model_validate(
        {"base_url": "https://shop.example", "api_key": "key-1", **settings}
    )
    return VendureConnector(config, suite_context(httpx2.MockTransport(respond))), seen


def order_json(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": "7",
        "code": "ABC123",
        "state": "PaymentSettled",
        "active": False,
        "orderPlacedAt": "2026-05-01T10:00:00.500Z",
        "createdAt": "2026-05-01T09:58:00.000Z",
        "updatedAt": "2026-05-01T10:00:00.000Z",
        "currencyCode": "GBP",
        "subTotalWithTax": 2400,
        "shippingWithTax": 600,
        "total": 2500,
        "totalWithTax": 3000,
        "discounts": [{"amountWithTax": -100}],
        "customer": {
            "id": "3",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "emailAddress": "ada@example.com",
            "phoneNumber": "+44 1",
        },
        "shippingAddress": {
            "fullName": "Ada King Lovelace",
            "company": "",
            "streetLine1": "1 Harbour Street",
            "streetLine2": None,
            "city": "London",
            "province": "",
            "postalCode": "N1 1AA",
            "countryCode": "GB",
            "phoneNumber": "+44 1",
        },
        "billingAddress": {"fullName": "", "streetLine1": None, "city": None, "postalCode": None},
        "lines": [
            {
                "id": "11",
                "quantity": 2,
                "unitPriceWithTax": 1200,
                "productVariant": {
                    "id": "5",
                    "sku": "MUG",
                    "name": "Mug",
                    "customFields": {"barcode": "4006381333931"},
                },
            }
        ],
        "fulfillments": [],
        "payments": [
            {"id": "1", "method": "card", "state": "Settled", "amount": 3000, "refunds": []}
        ],
        "history": {"items": []},
    }
    return raw | changes


# ------------------------------------------------------------------------------ mapping


def test_an_order_maps_to_a_record() -> None:
    record = mapping.to_order(order_json(), money=mapping.Money(2), barcode_field="barcode")
    assert (record.external_id, record.number, record.currency) == ("7", "ABC123", "GBP")
    assert record.status is OrderStatus.OPEN
    assert record.financial_status is FinancialStatus.PAID
    assert record.fulfillment_status is FulfillmentStatus.UNFULFILLED
    # updatedAt (kept to the second) is before orderPlacedAt: the placement wins.
    assert record.updated_at == record.placed_at
    assert record.total == Decimal("30.00")
    assert record.tax_total == Decimal("5.00")
    assert record.discount_total == Decimal("1.00")
    line = record.lines[0]
    assert (line.sku, line.barcode, line.variant_ref, line.quantity) == (
        "MUG",
        "4006381333931",
        "5",
        2,
    )
    assert line.unit_price == Decimal("12.00")
    assert record.customer is not None
    assert record.customer.email == record.email == "ada@example.com"
    assert record.shipping_address is not None
    assert (record.shipping_address.first_name, record.shipping_address.last_name) == (
        "Ada King",
        "Lovelace",
    )
    assert record.billing_address is None  # Vendure sends an empty one


@pytest.mark.parametrize(
    ("state", "status", "fulfillment"),
    [
        ("PaymentSettled", OrderStatus.OPEN, FulfillmentStatus.UNFULFILLED),
        ("PartiallyShipped", OrderStatus.OPEN, FulfillmentStatus.PARTIALLY_FULFILLED),
        ("Shipped", OrderStatus.OPEN, FulfillmentStatus.FULFILLED),
        ("Delivered", OrderStatus.OPEN, FulfillmentStatus.FULFILLED),
        ("Cancelled", OrderStatus.CANCELLED, FulfillmentStatus.UNFULFILLED),
        ("AwaitingStockCheck", OrderStatus.OPEN, FulfillmentStatus.UNFULFILLED),  # custom
    ],
)
def test_states_map_to_statuses(
    state: str, status: OrderStatus, fulfillment: FulfillmentStatus
) -> None:
    record = mapping.to_order(order_json(state=state), money=mapping.Money())
    assert (record.status, record.fulfillment_status) == (status, fulfillment)


def _payment(state: str, amount: int, *refunds: tuple[str, int]) -> dict[str, Any]:
    return {
        "id": "1",
        "method": "card",
        "state": state,
        "amount": amount,
        "refunds": [
            {
                "id": f"r{n}",
                "total": total,
                "reason": "damaged",
                "state": refund_state,
                "createdAt": "2026-05-02T10:00:00Z",
                "lines": [{"orderLineId": "11", "quantity": 1}],
            }
            for n, (refund_state, total) in enumerate(refunds)
        ],
    }


@pytest.mark.parametrize(
    ("payments", "total", "expected"),
    [
        ([_payment("Settled", 3000)], 3000, FinancialStatus.PAID),
        ([_payment("Settled", 1000)], 3000, FinancialStatus.PARTIALLY_PAID),
        ([_payment("Authorized", 3000)], 3000, FinancialStatus.AUTHORIZED),
        ([_payment("Settled", 3000, ("Settled", 1000))], 3000, FinancialStatus.PARTIALLY_REFUNDED),
        ([_payment("Settled", 3000, ("Settled", 3000))], 3000, FinancialStatus.REFUNDED),
        ([_payment("Settled", 3000, ("Pending", 3000))], 3000, FinancialStatus.PAID),
        ([_payment("Declined", 3000)], 3000, FinancialStatus.VOIDED),
        ([], 0, FinancialStatus.PAID),  # a free order
        ([], 3000, FinancialStatus.PENDING),
    ],
)
def test_financial_status_follows_payments_and_refunds(
    payments: list[dict[str, Any]], total: int, expected: FinancialStatus
) -> None:
    assert mapping.financial_status(order_json(payments=payments, totalWithTax=total)) is expected


def test_settled_refunds_and_live_fulfillments_travel_with_the_order() -> None:
    raw = order_json(
        state="Cancelled",
        payments=[_payment("Settled", 3000, ("Settled", 1200), ("Failed", 100))],
        fulfillments=[
            {
                "id": "f1",
                "state": "Shipped",
                "method": "UPS",
                "trackingCode": "1Z",
                "createdAt": "2026-05-01T11:00:00Z",
                "updatedAt": "2026-05-01T12:00:00Z",
                "lines": [{"orderLineId": "11", "quantity": 1}],
            },
            {
                "id": "f2",
                "state": "Cancelled",
                "method": "UPS",
                "trackingCode": "",
                "createdAt": "2026-05-01T11:00:00Z",
                "updatedAt": "2026-05-01T11:00:00Z",
                "lines": [],
            },
        ],
        history={"items": [{"data": {"reason": "out of stock"}}]},
    )
    record = mapping.to_order(raw, money=mapping.Money())
    assert record.cancel_reason == "out of stock"
    assert [(r.external_id, r.reason, len(r.lines)) for r in record.refunds] == [
        ("r0", "damaged", 1)
    ]
    assert [(f.external_id, f.carrier, f.tracking_number) for f in record.fulfillments] == [
        ("f1", "UPS", "1Z")
    ]


def test_a_product_maps_variants_with_barcode_and_options() -> None:
    product = mapping.to_product(
        {
            "id": "2",
            "name": "Tee",
            "description": "<p>soft</p>",
            "assets": [{"source": "https://cdn.example/tee.jpg"}],
            "optionGroups": [{"id": "9", "name": "Size"}],
            "variants": [
                {
                    "id": "21",
                    "sku": "TEE-S",
                    "name": "Tee S",
                    "price": 1999,
                    "options": [{"groupId": "9", "name": "S"}],
                    "customFields": {"barcode": " 5012345678900 "},
                }
            ],
        },
        money=mapping.Money(),
        barcode_field="barcode",
    )
    variant = product.variants[0]
    assert (variant.sku, variant.barcode, variant.item_ref) == ("TEE-S", "5012345678900", "21")
    assert variant.price == Decimal("19.99")
    assert variant.attributes == {"Size": "S"}
    assert product.images == ("https://cdn.example/tee.jpg",)


def test_on_hand_makes_saleable_equal_available() -> None:
    level = mapping.StockLevel(on_hand=8, allocated=2)
    on_hand = mapping.on_hand_for(6, level)
    assert on_hand - level.allocated == 6
    assert mapping.on_hand_for(4, None) == 4


# ----------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    "bad",
    [
        {"base_url": "ftp://shop.example"},
        {"base_url": "https://shop.example?x=1"},
        {"admin_api_path": "admin api"},
        {"order_states": []},
        {"order_states": ["Payment Settled"]},
        {"barcode_field": "bar-code"},
        {"webhook_secret": "whsec_c2hvcnQ="},  # 5 bytes
        {"webhook_secret": "whsec_***"},
    ],
)
def test_bad_settings_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        VendureSettings.model_validate({"base_url": "https://shop.example", "api_key": "k", **bad})


def test_settings_keep_the_key_secret() -> None:
    settings = VendureSettings.model_validate(
        {"base_url": "https://shop.example/", "api_key": "sekrit", "webhook_secret": SECRET}
    )
    assert "sekrit" not in repr(settings)
    assert settings.admin_url == "https://shop.example/admin-api"


# ----------------------------------------------------------------------------- webhooks


def signed(body: bytes, *, secret: str = SECRET, at: dt.datetime | None = None) -> dict[str, str]:
    moment = at or dt.datetime.now(dt.UTC)
    return {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign("msg_1", moment, body.decode()),
    }


BODY = json.dumps(
    {
        "id": "msg_1",
        "type": "order/placed",
        "timestamp": "2026-05-01T10:00:00Z",
        "data": {"orderId": "7"},
    }
).encode()


@pytest.mark.parametrize(
    ("headers", "body", "valid"),
    [  # headers are made when the test runs: a signature is valid for five minutes only
        (lambda: signed(BODY), BODY, True),
        (lambda: signed(BODY), BODY + b" ", False),
        (lambda: signed(BODY, secret="whsec_" + "A" * 44), BODY, False),
        (
            lambda: signed(BODY, at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)),
            BODY,
            False,
        ),
        (lambda: {**signed(BODY), "webhook-signature": "garbage"}, BODY, False),
        (lambda: {**signed(BODY), "webhook-signature": "v1,@@@"}, BODY, False),
        (lambda: {"webhook-id": "msg_1"}, BODY, False),
        (lambda: signed(BODY), b"\xff\xfe", False),
    ],
    ids=[
        "valid",
        "tampered",
        "other-secret",
        "replayed",
        "no-comma",
        "bad-base64",
        "unsigned",
        "binary",
    ],
)
def test_signatures(headers: Callable[[], dict[str, str]], body: bytes, valid: bool) -> None:
    assert webhooks.verify(signing_key(SECRET), headers(), body) is valid


def test_no_secret_verifies_nothing() -> None:
    assert not webhooks.verify(None, signed(BODY), BODY)


def test_events_name_their_subject() -> None:
    order = webhooks.parse("order/placed", {}, BODY)
    assert (order.delivery_id, order.subject, order.subject_id) == ("msg_1", "order", "7")
    refunded = webhooks.parse(
        "order/refunded",
        {"webhook-id": "msg_9"},
        json.dumps({"type": "order/refunded", "data": {"orderId": "7", "refundId": "3"}}).encode(),
    )
    assert (refunded.delivery_id, refunded.subject, refunded.subject_id) == ("msg_9", "order", "7")
    stock = webhooks.parse(
        "stock/adjusted",
        {},
        json.dumps(
            {
                "id": "msg_2",
                "type": "stock/adjusted",
                "data": {
                    "productVariantId": "5",
                    "stockLocationId": "1",
                    "stockOnHand": 9,
                    "stockAllocated": 2,
                },
            }
        ).encode(),
    )
    assert (stock.subject, stock.subject_id, stock.quantity) == ("inventory", "5:1", 7)
    other_channel = webhooks.parse(
        "order/placed",
        {},
        json.dumps({"id": "m3", "data": {"orderId": "7", "channelToken": "eu"}}).encode(),
        channel_token="uk",
    )
    assert other_channel.subject == "other"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b"[1]",
        b'{"id": "x"}',
        b'{"data": {}}',
        b"\xff\xfe",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"id": "m", "timestamp": "yesterday", "data": {"orderId": "7"}}',
    ],
    ids=["text", "list", "list-1", "no-data", "no-id", "not-utf8", "deep", "bad-timestamp"],
)
def test_malformed_events_are_rejected(body: bytes) -> None:
    with pytest.raises(Rejected):
        webhooks.parse("order/placed", {}, body)


# -------------------------------------------------------------------------- the client


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            {"errors": [{"message": "not authorized", "extensions": {"code": "FORBIDDEN"}}]},
            AuthFailed,
        ),
        (
            {"errors": [{"message": "boom", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]},
            Unavailable,
        ),
        (
            {"errors": [{"message": "no such thing", "extensions": {"code": "ENTITY_NOT_FOUND"}}]},
            Rejected,
        ),
        ({"data": None}, Unavailable),
    ],
)
def test_graphql_errors_become_typed_errors(body: dict[str, Any], error: type[Exception]) -> None:
    instance, _ = connector(lambda query, variables: body)
    with pytest.raises(error):
        instance.get_order("7")


def test_a_cart_is_not_an_order() -> None:
    instance, _ = connector(
        lambda q, v: {"data": {"order": order_json(active=True, orderPlacedAt=None)}}
    )
    assert instance.get_order("7") is None


def test_orders_page_by_offset_within_the_window() -> None:
    since = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    until = dt.datetime(2026, 5, 1, 10, 0, 1, tzinfo=dt.UTC)
    calls: list[dict[str, Any]] = []

    def handler(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        calls.append(variables["options"])
        late = order_json(id="8", updatedAt="2026-05-01T10:00:01Z")  # past `until`
        return {"data": {"orders": {"totalItems": 3, "items": [order_json(), late]}}}

    instance, _ = connector(handler, page_size=2, order_states=["PaymentSettled"])
    page = instance.list_orders(OrderQuery(since=since, until=until), None, Priority.LIVE)
    # [since, until): the order updated at `until` belongs to the next window.
    assert [r.external_id for r in page.records] == ["7"]
    assert page.next_cursor == "2"
    options = calls[0]
    assert options["filter"]["state"] == {"in": ["PaymentSettled"]}
    assert options["filter"]["updatedAt"]["between"]["start"] == "2026-05-01T00:00:00.000Z"
    assert options["skip"] == 0


def test_push_stock_sets_on_hand_from_allocations() -> None:
    writes: list[Any] = []

    def handler(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        if "TradewindStock" in query:
            return {
                "data": {
                    "globalSettings": {"trackInventory": True},
                    "productVariants": {
                        "items": [
                            {
                                "id": "5",
                                "trackInventory": "INHERIT",
                                "stockLevels": [
                                    {"stockLocationId": "1", "stockOnHand": 8, "stockAllocated": 2}
                                ],
                            },
                            {"id": "6", "trackInventory": "FALSE", "stockLevels": []},
                        ]
                    },
                }
            }
        writes.append(variables["input"])
        return {
            "data": {
                "updateProductVariants": [
                    {
                        "id": "5",
                        "stockLevels": [
                            {"stockLocationId": "1", "stockOnHand": 7, "stockAllocated": 2}
                        ],
                    }
                ]
            }
        }

    instance, _ = connector(handler)
    pushes = [
        StockPush(product_id=1, sku="MUG", location_ref="1", available=5, item_ref="5"),
        StockPush(product_id=2, sku="TEE", location_ref="1", available=5, item_ref="6"),
        StockPush(product_id=3, sku="GONE", location_ref="1", available=5, item_ref="99"),
    ]
    results = instance.push_stock(pushes, StockMode.ABSOLUTE)
    assert writes == [[{"id": "5", "stockLevels": [{"stockLocationId": "1", "stockOnHand": 7}]}]]
    assert [(r.product_id, r.ok, r.platform_quantity) for r in results] == [
        (1, True, 5),
        (2, False, None),
        (3, False, None),
    ]
    assert "Track inventory" in results[1].error
    assert "Sync products" in results[2].error
    refused = instance.push_stock(pushes[:1], StockMode.DELTA)
    assert not refused[0].ok
    unaddressed = StockPush(product_id=4, sku="X", location_ref="1", available=1)
    assert not instance.push_stock([unaddressed], StockMode.ABSOLUTE)[0].ok


def _shipment(tracking: str = "1Z") -> ShipmentRecord:
    return ShipmentRecord(
        shipment_id=1,
        order_external_id="7",
        lines=(ShipmentLineRecord(line_external_id="11", quantity=2),),
        carrier="UPS",
        tracking_number=tracking,
    )


def test_a_resent_shipment_finds_the_fulfillment_it_made() -> None:
    fulfillment = {
        "id": "f1",
        "state": "Pending",  # the answer was lost after creation, before shipping
        "method": "UPS",
        "trackingCode": "1Z",
        "lines": [{"orderLineId": "11", "quantity": 2}],
    }

    def handler(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        if "TradewindOrderFulfillments" in query:
            order: dict[str, Any] = {"id": "7", "code": "ABC", "state": "PaymentSettled"}
            order |= {"lines": [{"id": "11", "quantity": 2}], "fulfillments": [fulfillment]}
            return {"data": {"order": order}}
        if "TradewindShip" in query:
            assert variables == {"id": "f1", "state": "Shipped"}
            return {"data": {"transitionFulfillmentToState": {"id": "f1", "state": "Shipped"}}}
        raise AssertionError(f"unexpected call: {query}")

    instance, seen = connector(handler)
    assert instance.push_shipment(_shipment()) == "f1"
    assert not any("TradewindFulfil" in query for query in seen)


def test_a_shipment_vendure_refuses_is_rejected() -> None:
    def handler(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        if "TradewindOrderFulfillments" in query:
            order = {"id": "7", "code": "ABC", "state": "PaymentAuthorized"}
            return {
                "data": {
                    "order": order | {"lines": [{"id": "11", "quantity": 2}], "fulfillments": []}
                }
            }
        assert variables["input"]["handler"]["arguments"] == [
            {"name": "method", "value": "UPS"},
            {"name": "trackingCode", "value": "1Z"},
        ]
        error = {"errorCode": "FULFILLMENT_STATE_TRANSITION_ERROR", "message": "cannot"}
        return {"data": {"addFulfillmentToOrder": error}}

    instance, _ = connector(handler)
    with pytest.raises(Rejected, match="FULFILLMENT_STATE_TRANSITION_ERROR"):
        instance.push_shipment(_shipment())


def test_test_connection_names_missing_permissions() -> None:
    forbidden = {"message": "no", "extensions": {"code": "FORBIDDEN"}}

    def handler(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        if query.startswith("mutation"):
            return {"data": None, "errors": [forbidden | {"path": ["fulfil"]}]}
        data = {
            "activeChannel": {"code": "uk", "token": "t", "defaultCurrencyCode": "GBP"},
            "globalSettings": {"outOfStockThreshold": 2},
            "orders": None,
            "products": {"totalItems": 1},
            "locations": {"totalItems": 1},
        }
        return {"data": data, "errors": [forbidden | {"path": ["orders"]}]}

    instance, _ = connector(handler)
    report = instance.test_connection(
        frozenset({Toggle.IMPORT_ORDERS, Toggle.EXPORT_TRACKING}), frozenset()
    )
    assert report.ok
    assert report.missing_scopes == ("ReadOrder", "UpdateOrder")
    assert "threshold is 2" in report.detail
