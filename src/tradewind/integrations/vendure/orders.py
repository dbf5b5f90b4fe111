"""Orders cancelled in Tradewind, cancelled in Vendure: every line and the shipping
(Vendure releases the stock it allocated); payments stay as they are, for the merchant to
refund in Vendure. Vendure's orders are placed there only (no Export Orders)."""

from __future__ import annotations

from tradewind.connectors import Rejected
from tradewind.integrations.vendure.client import VendureClient, result

CANCELLED = "Cancelled"


def cancel(client: VendureClient, external_id: str, reason: str) -> None:
    data = client.query(
        "query TradewindOrderState($id: ID!) { order(id: $id) { id code state } }",
        {"id": external_id},
        operation="orders.state",
    )
    order = data.get("order")
    if order is None:
        raise Rejected(f"order {external_id} is not in Vendure")
    if order["state"] == CANCELLED:
        return
    made = client.query(
        """mutation TradewindCancel($input: CancelOrderInput!) {
          cancelOrder(input: $input) {
            ... on Order { id state }
            ... on ErrorResult { errorCode message }
          }
        }""",
        {
            "input": {
                "orderId": external_id,
                "reason": reason or "cancelled in Tradewind",
                "cancelShipping": True,
            }
        },
        operation="orders.cancel",
    )
    result(made["cancelOrder"], f"cancel order {order['code']}")
