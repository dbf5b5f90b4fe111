"""An account's carriers as ShipStation lists them, the rates of the label cost table,
and voiding a label: ``/carriers``, ``/carriers/listservices``, ``/shipments/getrates``,
``/shipments/voidlabel``."""

from __future__ import annotations

from typing import Any

from tradewind.sandbox.shipstation.ops import Ops
from tradewind.sandbox.shipstation.state import (
    CARRIER_NAMES,
    LABEL_TABLE,
    SERVICE_NAMES,
    Doc,
    ShipStationError,
    confirmation_fee,
    find_service,
    missing,
    not_found,
    postage,
    stamp,
    weight_oz,
)

RATE_REQUIRED = ("carrierCode", "fromPostalCode", "toCountry", "toPostalCode", "weight")


def carriers(_ops: Ops) -> list[Doc]:
    return [
        {
            "name": name,
            "code": code,
            "accountNumber": None,
            "requiresFundedAccount": code == "stamps_com",
            "balance": 0,
            "nickname": None,
            "shippingProviderId": 100 + index,
            "primary": True,
        }
        for index, (code, name) in enumerate(CARRIER_NAMES.items())
    ]


def services(query: Doc) -> list[Doc]:
    code = query.get("carrierCode")
    if not code:
        raise missing("carrierCode", "carrierCode")
    if code not in CARRIER_NAMES:
        raise ShipStationError(400, f"Carrier '{code}' is not connected to this account.")
    return [
        {
            "carrierCode": row.carrier,
            "code": row.service,
            "name": SERVICE_NAMES[row.service],
            "domestic": True,
            "international": False,
        }
        for row in LABEL_TABLE
        if row.carrier == code
    ]


def rates(body: Doc) -> list[Doc]:
    """Each service of the carrier (or the one asked for): ``shipmentCost`` is the
    postage, ``otherCost`` the confirmation fee; a label costs their sum."""
    absent = [name for name in RATE_REQUIRED if body.get(name) in (None, "")]
    if absent:
        raise missing("apiRateRequest", *absent)
    ounces = weight_oz(body["weight"])
    fee = confirmation_fee(body.get("confirmation"))
    if body.get("serviceCode"):
        rows = [find_service(body["carrierCode"], body["serviceCode"])]
    else:
        rows = [row for row in LABEL_TABLE if row.carrier == body["carrierCode"]]
        if not rows:
            find_service(body["carrierCode"], None)  # raises: carrier not connected
    return [
        {
            "serviceName": SERVICE_NAMES[row.service],
            "serviceCode": row.service,
            "shipmentCost": float(postage(row, ounces)),
            "otherCost": float(fee),
        }
        for row in rows
    ]


def void_label(ops: Ops, body: Any) -> Doc:
    """Void a shipment's label; its order goes back to awaiting shipment, so another
    label can be bought."""
    if not isinstance(body, dict) or body.get("shipmentId") is None:
        raise missing("apiVoidLabel", "shipmentId")
    try:
        shipment = ops.account.shipments.get(int(body["shipmentId"]))
    except (TypeError, ValueError):
        shipment = None
    if shipment is None:
        raise not_found("shipment")
    if shipment["voided"]:
        return {"approved": False, "message": "Label has already been voided."}
    shipment["voided"] = True
    shipment["voidDate"] = stamp()
    ops.account.labels_voided += 1
    order = ops.account.orders.get(shipment["orderId"]) if shipment["orderId"] else None
    if order is not None:
        order["orderStatus"] = "awaiting_shipment"
        order["modifyDate"] = stamp()
    return {"approved": True, "message": "Label voided successfully"}
