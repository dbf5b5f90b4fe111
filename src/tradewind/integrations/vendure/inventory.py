"""Stock out to Vendure: on hand per (variant, stock location), set so that what Vendure
can sell there equals Tradewind's available (on hand = available + Vendure's allocations).
One read of the current levels and one write for the whole batch; absolute levels only,
since Vendure has no atomic adjustment a resent delta could not double."""

from __future__ import annotations

from collections.abc import Sequence

from tradewind.connectors import StockMode, StockPush, StockPushResult
from tradewind.integrations.vendure import mapping
from tradewind.integrations.vendure.client import VendureClient

BATCH = 100  # levels a push carries


def push(
    client: VendureClient, pushes: Sequence[StockPush], mode: StockMode
) -> list[StockPushResult]:
    if mode is not StockMode.ABSOLUTE:
        return [_refused(push, "Vendure takes absolute stock levels only") for push in pushes]
    variant_ids = sorted({push.item_ref for push in pushes if push.item_ref})
    if not variant_ids:  # mapped by hand without a variant: nothing to address
        return [
            _refused(push, "not mapped to a Vendure variant; run Sync products") for push in pushes
        ]
    data = client.query(
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
    written = _write(client, writes) if writes else {}
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


def _write(
    client: VendureClient, writes: dict[str, dict[str, int]]
) -> dict[str, dict[str, mapping.StockLevel]]:
    """Set the levels, variant → location → on hand; answer what Vendure now holds."""
    data = client.query(
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
    return {
        str(v["id"]): mapping.stock_levels(v)
        for v in data["updateProductVariants"]
        if v is not None
    }


def _refused(push: StockPush, error: str) -> StockPushResult:
    return StockPushResult(
        product_id=push.product_id, location_ref=push.location_ref, ok=False, error=error
    )
