"""The Vendure connector: orders, customers, cancellations and refunds in; products and
variants mapped by SKU then barcode; stock per stock location and tracking out; signed
events from the companion plugin."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from types import MappingProxyType
from typing import Any, ClassVar
from urllib.parse import urlsplit

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
    ProductRecord,
    Rejected,
    ShipmentRecord,
    StockMode,
    StockPush,
    StockPushResult,
    Toggle,
    WebhookEvent,
)
from tradewind.integrations.vendure import mapping, webhooks
from tradewind.integrations.vendure.client import (
    VendureClient,
    code_of,
    graphql_error,
    order_fields,
    product_fields,
    result,
)
from tradewind.integrations.vendure.settings import VendureSettings, signing_key


@dataclass(frozen=True, slots=True)
class Probe:
    """A harmless request that only a key holding ``permission`` may make. Vendure keeps
    an API key's own permissions from it (``me`` is refused), so Test connection asks."""

    permission: str
    mutation: bool
    selection: str


# Keyed by GraphQL alias. The mutations change nothing: an empty list, no custom fields.
PROBES: Mapping[str, Probe] = MappingProxyType(
    {
        "orders": Probe("ReadOrder", False, "orders(options: {take: 1}) { totalItems }"),
        "products": Probe(
            "ReadCatalog or ReadProduct", False, "products(options: {take: 1}) { totalItems }"
        ),
        "locations": Probe(
            "ReadCatalog or ReadStockLocation",
            False,
            "stockLocations(options: {take: 1}) { totalItems }",
        ),
        "setStock": Probe(
            "UpdateCatalog or UpdateProduct", True, "updateProductVariants(input: []) { id }"
        ),
        "fulfil": Probe(
            "UpdateOrder", True, 'setOrderCustomFields(input: {id: "0"}) { __typename }'
        ),
    }
)

# The probes a toggle, or a capability the order rules use, needs. ``None``: always,
# since stock export and product mapping are not toggles but every Vendure plugin does them.
NEEDS: Mapping[Toggle | Capability | None, tuple[str, ...]] = MappingProxyType(
    {
        None: ("products", "locations", "setStock"),
        Toggle.IMPORT_ORDERS: ("orders",),
        Toggle.IMPORT_PRODUCTS: ("products",),
        Toggle.EXPORT_TRACKING: ("fulfil",),
        Toggle.EXPORT_SHIPMENTS: ("fulfil",),
        Capability.CANCEL_ORDERS: ("fulfil",),  # cancelling is an UpdateOrder too
    }
)

_SUPPORTED = frozenset(
    {
        Toggle.IMPORT_ORDERS,
        Toggle.IMPORT_PRODUCTS,
        Toggle.EXPORT_TRACKING,
        Toggle.EXPORT_SHIPMENTS,
    }
)
_NOT_IN_VENDURE_FULFILLMENTS = (
    "fulfillments made in Vendure are read with the order but not imported as shipments yet"
)
_UNSUPPORTED: Mapping[Toggle, str] = MappingProxyType(
    {
        Toggle.EXPORT_ORDERS: "orders are placed in Vendure; Tradewind does not create them there",
        Toggle.IMPORT_TRACKING: _NOT_IN_VENDURE_FULFILLMENTS,
        Toggle.IMPORT_SHIPMENTS: _NOT_IN_VENDURE_FULFILLMENTS,
        Toggle.EXPORT_PRODUCTS: "the catalog is kept in Vendure; Tradewind maps to it only",
        Toggle.IMPORT_CUSTOMERS: (
            "customers arrive with their orders (name, email, phone, address); "
            "customers without orders are not read"
        ),
        Toggle.EXPORT_CUSTOMERS: "customers sign up in the Vendure shop; Tradewind adds none",
        Toggle.IMPORT_LISTINGS: "prices and descriptions stay in Vendure (listings are not read)",
        Toggle.EXPORT_LISTINGS: "prices and descriptions stay in Vendure (listings not written)",
    }
)

_NOTES: Mapping[Toggle, str] = MappingProxyType(
    {
        Toggle.EXPORT_SHIPMENTS: "Adds nothing on Vendure: a fulfillment carries the tracking "
        "code, so Export Tracking already sends each shipment (its items and tracking) as one."
    }
)

SHIPPED = "Shipped"
CANCELLED = "Cancelled"
HANDLER = "manual-fulfillment"


def _account(settings: BaseModel) -> str | None:
    assert isinstance(settings, VendureSettings)
    parts = urlsplit(settings.admin_url)
    return f"{parts.hostname}:{parts.port or ''}{parts.path}#{settings.channel_token or 'default'}"


def _guide() -> str:
    return files("tradewind.integrations.vendure").joinpath("guide.md").read_text("utf-8")


class VendureConnector:
    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        key="vendure",
        name="Vendure",
        settings=VendureSettings,
        toggles=_SUPPORTED,
        unsupported=_UNSUPPORTED,
        toggle_notes=_NOTES,
        capabilities=frozenset(
            {
                Capability.TEST_CONNECTION,
                Capability.IMPORT_ORDERS,
                Capability.IMPORT_PRODUCTS,
                Capability.PUSH_STOCK,
                Capability.PUSH_SHIPMENTS,
                Capability.RECEIVE_WEBHOOKS,
                Capability.LOCATIONS,
                Capability.CANCEL_ORDERS,
            }
        ),
        guide=_guide(),
        account=_account,
        # Stock levels hang off variants: a product must be mapped to one to be pushed.
        stock_needs_link=True,
        # Vendure only sets stock on hand; a delta would have to be read, added and written
        # back, which a resent push would apply twice.
        stock_modes=frozenset({StockMode.OFF, StockMode.ABSOLUTE}),
    )
    stock_batch_size = 100

    def __init__(self, settings: VendureSettings, context: ConnectorContext) -> None:
        self.settings = settings
        self.context = context
        self.client = VendureClient(settings, context)
        self.money = mapping.Money(settings.money_decimals)
        self._secret = (
            signing_key(settings.webhook_secret.get_secret_value())
            if settings.webhook_secret
            else None
        )

    def close(self) -> None:
        self.client.close()

    # ---------------------------------------------------------------------- connection

    def test_connection(
        self, toggles: frozenset[Toggle], uses: frozenset[Capability]
    ) -> ConnectionReport:
        wanted = {alias for need in (None, *toggles, *uses) for alias in NEEDS.get(need, ())}
        reads = " ".join(
            f"{alias}: {PROBES[alias].selection}"
            for alias in sorted(wanted)
            if not PROBES[alias].mutation
        )
        data, errors = self.client.partial(
            f"""query TradewindTest {{
              activeChannel {{ code token defaultCurrencyCode }}
              globalSettings {{ outOfStockThreshold }}
              {reads}
            }}""",
            operation="connection.test",
        )
        if data is None or not data.get("activeChannel"):
            # Even a key without permissions may read its channel: this key does not work.
            raise graphql_error("connection.test", errors[0] if errors else {})
        writes = " ".join(
            f"{alias}: {PROBES[alias].selection}"
            for alias in sorted(wanted)
            if PROBES[alias].mutation
        )
        if writes:
            _, refused = self.client.partial(
                f"mutation TradewindTestWrites {{ {writes} }}", operation="connection.test_writes"
            )
            errors += refused
        forbidden = {
            str((error.get("path") or [""])[0]) for error in errors if code_of(error) == "FORBIDDEN"
        }
        missing = sorted({PROBES[alias].permission for alias in wanted & forbidden})
        channel = data["activeChannel"]
        notes = [
            f"Channel {channel['code']} ({channel['defaultCurrencyCode']}).",
            "Companion plugin: signing secret set."
            if self._secret
            else "Companion plugin: no signing secret, so orders arrive by polling only.",
        ]
        threshold = data["globalSettings"]["outOfStockThreshold"]
        if threshold:
            notes.append(
                f"Vendure's out-of-stock threshold is {threshold}: Vendure sells that many "
                "fewer units than Tradewind sends. Set it to 0 and use the plugin's buffer."
            )
        if missing:
            notes.append(f"The API key's role lacks: {', '.join(missing)}.")
        host = urlsplit(self.settings.base_url).hostname or ""
        return ConnectionReport(
            ok=True,
            account=f"Vendure {channel['code']} at {host}",
            detail=" ".join(notes),
            missing_scopes=tuple(missing),
        )

    # -------------------------------------------------------------------------- orders

    def list_orders(
        self, query: OrderQuery, cursor: str | None, priority: Priority
    ) -> Page[OrderRecord]:
        field = "updatedAt" if query.field == "updated_at" else "orderPlacedAt"
        until = query.until or dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        skip = int(cursor or 0)
        data = self.client.query(
            f"""query TradewindOrders($options: OrderListOptions) {{
              orders(options: $options) {{ totalItems items {{ {self._order_fields} }} }}
            }}""",
            {
                "options": {
                    "skip": skip,
                    "take": self.settings.page_size,
                    "sort": {field: "ASC", "id": "ASC"},
                    "filter": {
                        "state": {"in": list(self.settings.order_states)},
                        field: {
                            "between": {
                                "start": mapping.iso(query.since),
                                "end": mapping.iso(until),
                            }
                        },
                    },
                }
            },
            operation="orders.list",
            priority=priority,
        )
        found = data["orders"]
        records: list[OrderRecord] = []
        skipped: list[tuple[str, str]] = []
        for raw in found["items"]:
            try:
                record = self._order(raw)
            except (KeyError, TypeError, ValueError) as exc:
                skipped.append((str(raw.get("id")), f"unreadable Vendure order: {exc}"))
                continue
            moment = record.updated_at if query.field == "updated_at" else record.placed_at
            if query.until is None or moment < query.until:  # [since, until)
                records.append(record)
        end = skip + len(found["items"])
        more = found["items"] and end < found["totalItems"]
        return Page(records=records, next_cursor=str(end) if more else None, skipped=tuple(skipped))

    def get_order(self, external_id: str) -> OrderRecord | None:
        data = self.client.query(
            f"query TradewindOrder($id: ID!) {{ order(id: $id) {{ {self._order_fields} }} }}",
            {"id": external_id},
            operation="orders.get",
        )
        raw = data.get("order")
        if raw is None or raw["active"] or not raw.get("orderPlacedAt"):
            return None  # missing, or still a cart: not an order yet
        return self._order(raw)

    @property
    def _order_fields(self) -> str:
        return order_fields(self.settings.barcode_field)

    def _order(self, raw: Mapping[str, Any]) -> OrderRecord:
        return mapping.to_order(raw, money=self.money, barcode_field=self.settings.barcode_field)

    # ------------------------------------------------------------------------- catalog

    def list_products(self, cursor: str | None, priority: Priority) -> Page[ProductRecord]:
        skip = int(cursor or 0)
        fields = product_fields(self.settings.barcode_field)
        data = self.client.query(
            f"""query TradewindProducts($options: ProductListOptions) {{
              products(options: $options) {{ totalItems items {{ {fields} }} }}
            }}""",
            {"options": {"skip": skip, "take": self.settings.page_size, "sort": {"id": "ASC"}}},
            operation="products.list",
            priority=priority,
        )
        found = data["products"]
        records: list[ProductRecord] = []
        skipped: list[tuple[str, str]] = []
        for raw in found["items"]:
            try:
                records.append(
                    mapping.to_product(
                        raw, money=self.money, barcode_field=self.settings.barcode_field
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                skipped.append((str(raw.get("id")), f"unreadable Vendure product: {exc}"))
        end = skip + len(found["items"])
        more = found["items"] and end < found["totalItems"]
        return Page(records=records, next_cursor=str(end) if more else None, skipped=tuple(skipped))

    def list_locations(self) -> list[LocationRecord]:
        locations: list[LocationRecord] = []
        while True:
            data = self.client.query(
                """query TradewindLocations($options: StockLocationListOptions) {
                  stockLocations(options: $options) { totalItems items { id name } }
                }""",
                {"options": {"skip": len(locations), "take": 100, "sort": {"id": "ASC"}}},
                operation="locations.list",
            )
            page = data["stockLocations"]
            locations += [mapping.to_location(raw) for raw in page["items"]]
            if not page["items"] or len(locations) >= page["totalItems"]:
                return locations

    # --------------------------------------------------------------------------- stock

    def push_stock(self, pushes: Sequence[StockPush], mode: StockMode) -> list[StockPushResult]:
        """Set stock on hand per (variant, stock location) so that what Vendure can sell
        there equals Tradewind's available: on hand = available + Vendure's allocations.
        One read of the current levels, one write for the whole batch."""
        if mode is not StockMode.ABSOLUTE:
            return [_refused(push, "Vendure takes absolute stock levels only") for push in pushes]
        variant_ids = sorted({push.item_ref for push in pushes if push.item_ref})
        if not variant_ids:  # mapped by hand without a variant: nothing to address
            return [
                _refused(push, "not mapped to a Vendure variant; run Sync products")
                for push in pushes
            ]
        data = self.client.query(
            """query TradewindStock($options: ProductVariantListOptions) {
              productVariants(options: $options) {
                items {
                  id trackInventory stockLevels { stockLocationId stockOnHand stockAllocated }
                }
              }
              globalSettings { trackInventory }
            }""",
            {"options": {"filter": {"id": {"in": variant_ids}}, "take": max(1, len(variant_ids))}},
            operation="stock.read",
        )
        tracked = bool(data["globalSettings"]["trackInventory"])
        variants = {str(v["id"]): v for v in data["productVariants"]["items"]}
        results: dict[int, StockPushResult] = {}
        writes: dict[str, dict[str, int]] = {}  # variant → location → on hand
        for index, push in enumerate(pushes):
            variant = variants.get(push.item_ref or "")
            if variant is None:
                results[index] = _refused(
                    push,
                    f"variant {push.item_ref or '(none)'} is not in Vendure any more; "
                    "run Sync products to map the product again",
                )
            elif not mapping.tracks_inventory(variant, tracked):
                results[index] = _refused(
                    push,
                    f"Vendure does not track stock for variant {push.item_ref} (Track inventory "
                    "is off), so it would sell without limit; switch it on in Vendure",
                )
            else:
                level = mapping.stock_levels(variant).get(push.location_ref)
                on_hand = mapping.on_hand_for(push.available, level)
                writes.setdefault(str(variant["id"]), {})[push.location_ref] = on_hand
        written: dict[str, dict[str, mapping.StockLevel]] = {}
        if writes:
            data = self.client.query(
                """mutation TradewindSetStock($input: [UpdateProductVariantInput!]!) {
                  updateProductVariants(input: $input) {
                    id stockLevels { stockLocationId stockOnHand stockAllocated }
                  }
                }""",
                {
                    "input": [
                        {
                            "id": variant_id,
                            "stockLevels": [
                                {"stockLocationId": location, "stockOnHand": on_hand}
                                for location, on_hand in sorted(levels.items())
                            ],
                        }
                        for variant_id, levels in sorted(writes.items())
                    ]
                },
                operation="stock.set",
            )
            written = {
                str(v["id"]): mapping.stock_levels(v)
                for v in data["updateProductVariants"]
                if v is not None
            }
        answers: list[StockPushResult] = []
        for index, push in enumerate(pushes):
            if index in results:
                answers.append(results[index])
                continue
            level = written.get(push.item_ref or "", {}).get(push.location_ref)
            if level is None:
                answers.append(_refused(push, "Vendure did not confirm the stock level"))
                continue
            answers.append(
                StockPushResult(
                    product_id=push.product_id,
                    location_ref=push.location_ref,
                    ok=True,
                    platform_quantity=level.on_hand - level.allocated,
                )
            )
        return answers

    # ----------------------------------------------------------------------- shipments

    def push_shipment(self, shipment: ShipmentRecord) -> str:
        """A fulfillment with the carrier and tracking code, moved to Shipped. A resent
        push finds the fulfillment it made before instead of making a second one."""
        data = self.client.query(
            """query TradewindOrderFulfillments($id: ID!) {
              order(id: $id) {
                id code state lines { id quantity }
                fulfillments { id state method trackingCode lines { orderLineId quantity } }
              }
            }""",
            {"id": shipment.order_external_id},
            operation="shipments.read",
        )
        order = data.get("order")
        if order is None:
            raise Rejected(f"order {shipment.order_external_id} is not in Vendure")
        wanted = mapping.lines_key(
            (line.line_external_id, line.quantity) for line in shipment.lines
        )
        fulfillment = self._made_before(order, shipment, wanted)
        if fulfillment is None:
            made = self.client.query(
                """mutation TradewindFulfil($input: FulfillOrderInput!) {
                  addFulfillmentToOrder(input: $input) {
                    ... on Fulfillment { id state }
                    ... on ErrorResult { errorCode message }
                  }
                }""",
                {
                    "input": {
                        "lines": [{"orderLineId": line, "quantity": qty} for line, qty in wanted],
                        "handler": {
                            "code": HANDLER,
                            "arguments": [
                                {"name": "method", "value": shipment.carrier or "Tradewind"},
                                {"name": "trackingCode", "value": shipment.tracking_number},
                            ],
                        },
                    }
                },
                operation="shipments.create",
            )
            fulfillment = result(made["addFulfillmentToOrder"], f"fulfil order {order['code']}")
        if fulfillment["state"] not in mapping.SHIPPED_FULFILLMENTS:
            moved = self.client.query(
                """mutation TradewindShip($id: ID!, $state: String!) {
                  transitionFulfillmentToState(id: $id, state: $state) {
                    ... on Fulfillment { id state }
                    ... on ErrorResult { errorCode message }
                  }
                }""",
                {"id": fulfillment["id"], "state": SHIPPED},
                operation="shipments.ship",
            )
            result(moved["transitionFulfillmentToState"], f"mark order {order['code']} shipped")
        return str(fulfillment["id"])

    def cancel_order(self, external_id: str, reason: str) -> None:
        """Cancel every line and the shipping (Vendure releases the stock it allocated);
        payments stay as they are, for the merchant to refund in Vendure."""
        data = self.client.query(
            "query TradewindOrderState($id: ID!) { order(id: $id) { id code state } }",
            {"id": external_id},
            operation="orders.state",
        )
        order = data.get("order")
        if order is None:
            raise Rejected(f"order {external_id} is not in Vendure")
        if order["state"] == CANCELLED:
            return
        made = self.client.query(
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

    @staticmethod
    def _made_before(
        order: Mapping[str, Any], shipment: ShipmentRecord, wanted: tuple[tuple[str, int], ...]
    ) -> dict[str, Any] | None:
        """The fulfillment a lost answer left behind: same lines and tracking code, and
        (without a tracking code) the lines have nothing left to fulfil."""
        ordered = {str(line["id"]): line["quantity"] for line in order["lines"]}
        done: dict[str, int] = {}
        same: dict[str, Any] | None = None
        for fulfillment in order.get("fulfillments") or ():
            if fulfillment["state"] == mapping.CANCELLED_FULFILLMENT:
                continue
            lines = [(str(x["orderLineId"]), x["quantity"]) for x in fulfillment["lines"]]
            for line_id, quantity in lines:
                done[line_id] = done.get(line_id, 0) + quantity
            if (
                mapping.lines_key(lines) == wanted
                and (fulfillment.get("trackingCode") or "") == shipment.tracking_number
            ):
                same = fulfillment
        if same is None:
            return None
        if shipment.tracking_number:
            return same
        exhausted = any(
            done.get(line) and done[line] + qty > ordered.get(line, 0) for line, qty in wanted
        )
        return same if exhausted else None

    # ------------------------------------------------------------------------ webhooks

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        return webhooks.verify(self._secret, headers, body)

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        return webhooks.parse(topic, headers, body, channel_token=self.settings.channel_token)


def _refused(push: StockPush, error: str) -> StockPushResult:
    return StockPushResult(
        product_id=push.product_id, location_ref=push.location_ref, ok=False, error=error
    )
