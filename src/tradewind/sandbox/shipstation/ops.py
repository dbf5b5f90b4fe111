"""The operations of one ShipStation account within one request: orders (upsert by
``orderKey``), labels for an order or from scratch, shipments listed by batch, webhook
subscriptions, and a warehouse user shipping an order; each returns ShipStation's JSON
or raises ``ShipStationError`` (the tables live in ``state.py``)."""

from __future__ import annotations

import copy
import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tradewind.sandbox.shipstation.state import (
    CENT,
    EVENTS,
    LABEL_PDF_BASE64,
    MANUAL_STORE_ID,
    NULL_REFERENCE,
    OPEN_STATUSES,
    ORDER_STATUSES,
    Account,
    Doc,
    ShipStationError,
    State,
    find_service,
    insurance_cost,
    label_cost,
    missing,
    not_found,
    stamp,
    weight_oz,
)

ORDER_REQUIRED = ("orderNumber", "orderDate", "orderStatus", "billTo", "shipTo")
LABEL_REQUIRED = ("carrierCode", "serviceCode", "shipDate", "weight")
BULK_LIMIT = 100
ADDRESS_FIELDS = (
    "name",
    "company",
    "street1",
    "street2",
    "street3",
    "city",
    "state",
    "postalCode",
    "country",
    "phone",
    "residential",
)


@dataclass(frozen=True)
class Notice:
    """A webhook event to deliver once the lock is released: its type, the batch its
    resource URL names, and the store the batch belongs to."""

    key: str
    event: str
    batch_id: int
    store_id: int | None


def verified(address: Doc) -> str:
    """The sandbox's address check: incomplete fails, a US ZIP without its +4 warns."""
    if not all(address.get(f) for f in ("street1", "city", "postalCode", "country")):
        return "Address validation failed"
    if address.get("country") == "US" and "-" not in str(address.get("postalCode")):
        return "Address validation warning"
    return "Address validated successfully"


def _address(given: Any, check: bool) -> Doc:
    source = given if isinstance(given, dict) else {}
    address: Doc = {name: source.get(name) for name in ADDRESS_FIELDS}
    address["addressVerified"] = verified(address) if check else None
    return address


ORDER_NUMBERS = ("amountPaid", "taxAmount", "shippingAmount")
ITEM_NUMBERS = ("quantity", "unitPrice", "taxAmount", "shippingAmount")


def _number(value: Any, name: str) -> Any:
    """A number as ASP.NET's model binder reads one: JSON numbers and numeric strings
    alike (clients send ``"9.99"``); anything else is a 400 naming the field."""
    if value is None or isinstance(value, int | float):  # bool is an int
        return value
    try:
        number = Decimal(str(value).strip())
        if not number.is_finite():
            raise ArithmeticError(value)
    except ArithmeticError:
        raise ShipStationError(
            400, "The request is invalid.", {f"apiOrder.{name}": [f"Could not convert '{value}'."]}
        ) from None
    return int(number) if number == number.to_integral_value() else float(number)


def _numbers(doc: Doc, names: tuple[str, ...], prefix: str) -> None:
    for name in names:
        if name in doc:
            doc[name] = _number(doc[name], prefix + name)
    weight = doc.get("weight")
    if isinstance(weight, dict) and "value" in weight:
        weight["value"] = _number(weight["value"], prefix + "weight.value")


def _money(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def order_total(order: Doc) -> float:
    items = sum(
        (_money(i.get("unitPrice")) * _money(i.get("quantity")) for i in order["items"]),
        Decimal(0),
    )
    total = items + _money(order.get("taxAmount")) + _money(order.get("shippingAmount"))
    return float(total.quantize(CENT, ROUND_HALF_UP))


def _page(query: Doc) -> tuple[int, int]:
    try:
        page = max(1, int(query.get("page") or 1))
        size = min(500, max(1, int(query.get("pageSize") or 100)))
    except ValueError:
        raise ShipStationError(400, "The request is invalid.") from None
    return page, size


def paged(name: str, items: list[Doc], query: Doc) -> Doc:
    page, size = _page(query)
    return {
        name: items[(page - 1) * size : page * size],
        "total": len(items),
        "page": page,
        "pages": max(1, math.ceil(len(items) / size)) if items else 0,
    }


@dataclass
class Ops:
    state: State
    account: Account
    notices: list[Notice] = field(default_factory=list)

    # --- orders -------------------------------------------------------------------------

    def create_order(self, body: Doc) -> Doc:
        absent = [name for name in ORDER_REQUIRED if body.get(name) in (None, "")]
        if absent:
            raise missing("apiOrder", *absent)
        if body["orderStatus"] not in ORDER_STATUSES:
            raise ShipStationError(400, f"Invalid orderStatus '{body['orderStatus']}'.")
        existing = self._by_key(body.get("orderKey"))
        if existing is not None and existing["orderStatus"] not in OPEN_STATUSES:
            raise ShipStationError(
                400,
                f"Order '{existing['orderNumber']}' has status '{existing['orderStatus']}'; "
                "only orders awaiting payment, awaiting shipment, pending fulfillment or "
                "on hold can be updated.",
            )
        order = copy.deepcopy(body)
        order["billTo"] = _address(body["billTo"], check=False)
        order["shipTo"] = _address(body["shipTo"], check=True)
        order["items"] = [dict(i) for i in body.get("items") or [] if isinstance(i, dict)]
        _numbers(order, ORDER_NUMBERS, "")
        for index, item in enumerate(order["items"]):
            _numbers(item, ITEM_NUMBERS, f"items[{index}].")
        options = dict(body.get("advancedOptions") or {})
        options.setdefault("storeId", MANUAL_STORE_ID)
        order["advancedOptions"] = options
        now = stamp()
        if existing is None:
            order["orderId"] = self.state.next_id("order")
            order["orderKey"] = body.get("orderKey") or uuid.uuid4().hex
            order["createDate"] = now
        else:  # the whole order is replaced; what ShipStation made stays
            order["orderId"] = existing["orderId"]
            order["createDate"] = existing["createDate"]
        order["modifyDate"] = now
        order["orderTotal"] = order_total(order)
        for name, default in (
            ("externallyFulfilled", False),
            ("externallyFulfilledBy", None),
            ("labelMessages", None),
            ("userId", None),
            ("holdUntilDate", None),
            ("tagIds", None),
        ):
            order.setdefault(name, default)
        self.account.orders[order["orderId"]] = order
        return order

    def create_orders(self, body: Any) -> Doc:
        orders = body if isinstance(body, list) else (body or {}).get("orders")
        if not isinstance(orders, list):
            raise ShipStationError(400, "The request is invalid.")
        if len(orders) > BULK_LIMIT:
            raise ShipStationError(400, f"A request may hold at most {BULK_LIMIT} orders.")
        results = []
        for given in orders:
            given = given if isinstance(given, dict) else {}
            try:
                made = self.create_order(given)
                results.append(
                    {
                        "orderId": made["orderId"],
                        "orderNumber": made["orderNumber"],
                        "orderKey": made["orderKey"],
                        "success": True,
                        "errorMessage": None,
                    }
                )
            except ShipStationError as error:
                detail = "; ".join(m for ms in (error.model_state or {}).values() for m in ms)
                results.append(
                    {
                        "orderId": 0,
                        "orderNumber": given.get("orderNumber"),
                        "orderKey": given.get("orderKey"),
                        "success": False,
                        "errorMessage": detail or error.message,
                    }
                )
        return {"hasErrors": not all(r["success"] for r in results), "results": results}

    def _by_key(self, key: Any) -> Doc | None:
        if not key:
            return None
        return next((o for o in self.account.orders.values() if o["orderKey"] == key), None)

    def order(self, order_id: Any) -> Doc:
        try:
            found = self.account.orders.get(int(order_id))
        except (TypeError, ValueError):
            found = None
        if found is None:
            raise not_found("order")
        return found

    def orders(self, query: Doc) -> Doc:
        found = [
            o
            for o in self.account.orders.values()
            if (not query.get("orderNumber") or o["orderNumber"] == query["orderNumber"])
            and (not query.get("orderStatus") or o["orderStatus"] == query["orderStatus"])
            and (
                not query.get("storeId") or str(o["advancedOptions"]["storeId"]) == query["storeId"]
            )
        ]
        return paged("orders", found, query)

    # --- labels and shipments -----------------------------------------------------------

    def label_for_order(self, body: Doc) -> Doc:
        if body.get("orderId") is None:
            raise missing("apiCreateLabelForOrder", "orderId")
        order = self.order(body["orderId"])
        if order["orderStatus"] in ("shipped", "cancelled"):
            raise ShipStationError(
                400, f"Order '{order['orderNumber']}' is {order['orderStatus']}."
            )
        request = dict(body)
        request.setdefault("shipTo", order["shipTo"])
        if request.get("weight") is None:
            request["weight"] = order.get("weight")
        return self._label(request, order)

    def label(self, body: Doc) -> Doc:
        absent = [n for n in (*LABEL_REQUIRED, "shipFrom", "shipTo") if body.get(n) is None]
        if absent:
            raise missing("apiShipment", *absent)
        return self._label(body, None)

    def _label(self, body: Doc, order: Doc | None) -> Doc:
        absent = [n for n in LABEL_REQUIRED if body.get(n) in (None, "")]
        if absent:
            raise missing("apiShipment", *absent)
        if not self.account.manual_store:
            raise ShipStationError(500, NULL_REFERENCE)
        service = find_service(body["carrierCode"], body["serviceCode"])
        cost = label_cost(service, weight_oz(body["weight"]), body.get("confirmation"))
        insurance = insurance_cost(body.get("insuranceOptions"))
        shipment = self._ship(order, body, self.state.tracking_number(service), cost, insurance)
        self.account.labels_bought += 1
        # The answer is the shipment with its label; listings leave labelData out.
        return shipment | {"labelData": LABEL_PDF_BASE64}

    def _ship(
        self, order: Doc | None, body: Doc, tracking: str, cost: Decimal, insurance: Decimal
    ) -> Doc:
        """Record a shipment in a new batch; its order (if any) becomes shipped and the
        account's SHIP_NOTIFY webhooks are told of the batch."""
        batch = self.state.next_id("batch")
        weight = dict(body.get("weight") or (order or {}).get("weight") or {})
        if weight:
            weight.setdefault("units", "ounces")
            weight["WeightUnits"] = {"ounces": 1, "pounds": 2, "grams": 3}.get(weight["units"], 1)
        options = (order or {}).get("advancedOptions") or body.get("advancedOptions") or {}
        store_id = options.get("storeId", MANUAL_STORE_ID if order else None)
        shipment: Doc = {
            "shipmentId": self.state.next_id("shipment"),
            "orderId": order["orderId"] if order else None,
            "orderKey": order["orderKey"] if order else None,
            "userId": "00000000-0000-0000-0000-000000000000",
            "customerEmail": order.get("customerEmail") if order else None,
            "orderNumber": order["orderNumber"] if order else None,
            "createDate": stamp(),
            "shipDate": body.get("shipDate") or datetime.now(UTC).date().isoformat(),
            "shipmentCost": float(cost),
            "insuranceCost": float(insurance),
            "trackingNumber": tracking,
            "isReturnLabel": False,
            "batchNumber": str(batch),
            "carrierCode": body.get("carrierCode"),
            "serviceCode": body.get("serviceCode"),
            "packageCode": body.get("packageCode") or "package",
            "confirmation": body.get("confirmation") or "none",
            "warehouseId": options.get("warehouseId"),
            "voided": False,
            "voidDate": None,
            "marketplaceNotified": False,
            "notifyErrorMessage": None,
            "shipTo": _address(body.get("shipTo") or (order or {}).get("shipTo"), check=False),
            "weight": weight or None,
            "dimensions": body.get("dimensions") or (order or {}).get("dimensions"),
            "insuranceOptions": body.get("insuranceOptions")
            or {"provider": None, "insureShipment": False, "insuredValue": 0},
            "advancedOptions": {
                "billToParty": None,
                "billToAccount": None,
                "billToPostalCode": None,
                "billToCountryCode": None,
                "storeId": store_id,
            },
            "shipmentItems": None,
            "labelData": None,
            "formData": None,
        }
        shipment["shipTo"]["addressVerified"] = None
        self.account.shipments[shipment["shipmentId"]] = shipment
        if order is not None:
            order["orderStatus"] = "shipped"
            order["modifyDate"] = stamp()
            self.notices.append(Notice(self.account.key, "SHIP_NOTIFY", batch, store_id))
        return shipment

    def ship_order(self, order_id: Any, body: Doc) -> Doc:
        """What a warehouse user does in ShipStation's UI: mark the order shipped with a
        tracking number (entered, or the carrier's next)."""
        order = self.order(order_id)
        if order["orderStatus"] in ("shipped", "cancelled"):
            raise ShipStationError(
                400, f"Order '{order['orderNumber']}' is {order['orderStatus']}."
            )
        request = {
            "carrierCode": body.get("carrierCode") or order.get("carrierCode") or "fedex",
            "serviceCode": body.get("serviceCode") or order.get("serviceCode") or "fedex_ground",
            "packageCode": order.get("packageCode"),
            "confirmation": order.get("confirmation"),
            "shipDate": body.get("shipDate"),
        }
        tracking = body.get("trackingNumber")
        if not tracking:
            tracking = self.state.tracking_number(
                find_service(request["carrierCode"], request["serviceCode"])
            )
        return self._ship(order, request, str(tracking), Decimal(0), Decimal(0))

    def shipments(self, query: Doc) -> Doc:
        def wanted(s: Doc) -> bool:
            for param, name in (
                ("batchId", "batchNumber"),
                ("orderNumber", "orderNumber"),
                ("orderId", "orderId"),
                ("trackingNumber", "trackingNumber"),
                ("carrierCode", "carrierCode"),
            ):
                if query.get(param) and str(s[name]) != query[param]:
                    return False
            return True

        with_items = str(query.get("includeShipmentItems", "false")).lower() == "true"
        found = []
        for shipment in self.account.shipments.values():
            if not wanted(shipment):
                continue
            shipment = dict(shipment)
            if with_items and shipment["orderId"] is not None:
                order = self.account.orders[shipment["orderId"]]
                shipment["shipmentItems"] = [
                    {
                        "orderItemId": index + 1,
                        "lineItemKey": item.get("lineItemKey"),
                        "sku": item.get("sku"),
                        "name": item.get("name"),
                        "imageUrl": item.get("imageUrl"),
                        "weight": item.get("weight"),
                        "quantity": item.get("quantity"),
                        "unitPrice": item.get("unitPrice"),
                        "taxAmount": item.get("taxAmount"),
                        "shippingAmount": item.get("shippingAmount"),
                        "warehouseLocation": item.get("warehouseLocation"),
                        "options": item.get("options") or [],
                        "productId": item.get("productId"),
                        "fulfillmentSku": item.get("fulfillmentSku"),
                        "adjustment": bool(item.get("adjustment")),
                        "upc": item.get("upc"),
                    }
                    for index, item in enumerate(order["items"])
                ]
            found.append(shipment)
        return paged("shipments", found, query)

    # --- webhooks -----------------------------------------------------------------------

    def subscribe(self, body: Doc) -> Doc:
        absent = [n for n in ("target_url", "event") if not body.get(n)]
        if absent:
            raise missing("subscribeRequest", *absent)
        if body["event"] not in EVENTS:
            raise ShipStationError(400, f"Invalid event '{body['event']}'.")
        hook_id = self.state.next_id("webhook")
        store = body.get("store_id")
        self.account.webhooks[hook_id] = {
            "IsLabelAPIHook": False,
            "WebHookID": hook_id,
            "SellerID": 200000,
            "StoreID": int(store) if store not in (None, "") else None,
            "HookType": body["event"],
            "MessageFormat": "Json",
            "Url": str(body["target_url"]),
            "Name": body.get("friendly_name"),
            "BulkCopyBatchID": None,
            "BulkCopyRecordID": None,
            "Active": True,
            "WebhookLogs": [],
            "Seller": None,
            "Store": None,
        }
        return {"id": hook_id}

    def unsubscribe(self, hook_id: str) -> None:
        try:
            removed = self.account.webhooks.pop(int(hook_id), None)
        except ValueError:
            removed = None
        if removed is None:
            raise not_found("webhook")
