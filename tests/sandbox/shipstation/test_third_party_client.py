"""A third-party ShipStation V1 client (``shipstation`` on PyPI; ShipStation publishes no
Python one), run unmodified against the sandbox with only its base URL changed. It sends
every number as a string, as the real service accepts."""

from __future__ import annotations

from decimal import Decimal

import httpx2
import pytest
from shipstation.api import (
    ShipStation,
    ShipStationAddress,
    ShipStationItem,
    ShipStationOrder,
    ShipStationWeight,
)

from tests.sandbox.shipstation.conftest import KEY, SECRET, order_body
from tradewind.sandbox.shipstation import ShipStationSandbox


def test_the_client_submits_an_order(sandbox: ShipStationSandbox, client: httpx2.Client) -> None:
    api = ShipStation(key=KEY, secret=SECRET)
    api.url = sandbox.base_url
    order = ShipStationOrder(order_key="tw-1001", order_number="1001")
    order.set_status("awaiting_shipment")
    address = ShipStationAddress(
        name="Ada", street1="1 Main St", city="Austin", state="TX", postal_code="78703"
    )
    order.set_shipping_address(address)
    order.set_billing_address(address)
    item = ShipStationItem(sku="ABC123", name="Mug", quantity=2, unit_price=Decimal("9.99"))
    item.set_weight(ShipStationWeight(units="ounces", value=12))
    order.add_item(item)
    order.shipping_amount = Decimal("4.50")
    api.add_order(order)
    api.submit_orders()
    api.submit_orders()  # the same orderKey: an update, not a second order

    listed = client.get("/orders", params={"orderNumber": "1001"}).json()
    assert listed["total"] == 1
    [stored] = listed["orders"]
    assert stored["orderKey"] == "tw-1001"
    assert stored["shippingAmount"] == 4.5  # "4.50" read as a number
    assert stored["items"][0]["quantity"] == 2
    assert stored["weight"] == {"units": "ounces", "value": 24}
    assert stored["orderTotal"] == 24.48  # 2 × 9.99 + 4.50


def test_a_number_that_is_not_one_is_400(client: httpx2.Client) -> None:
    answer = client.post("/orders/createorder", json=order_body(amountPaid="lots"))
    assert answer.status_code == 400
    assert "apiOrder.amountPaid" in answer.json()["ModelState"]


@pytest.mark.parametrize("value", ["12", 12, "12.0"])
def test_numeric_strings_and_numbers_read_alike(client: httpx2.Client, value: object) -> None:
    made = client.post("/orders/createorder", json=order_body(taxAmount=value)).json()
    assert made["taxAmount"] == 12
