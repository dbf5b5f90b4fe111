"""What each kind of work does: one handler object per work kind (``HANDLERS``), in the
shapes of ``base.py``. The drainer claims a batch, runs its kind's handler and applies
the failure policy to whatever it raises."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from tradewind.sync.handlers.auth import CheckAuth
from tradewind.sync.handlers.base import Handler
from tradewind.sync.handlers.catalog import (
    EnsureWebhooks,
    ExportProduct,
    RefreshLocations,
    SyncListings,
    SyncProducts,
)
from tradewind.sync.handlers.customers import (
    ExportAllCustomers,
    ExportCustomer,
    ImportCustomers,
)
from tradewind.sync.handlers.fulfilment import ImportShipments, PollFulfilment, PushFulfilment
from tradewind.sync.handlers.hooks import RunHook
from tradewind.sync.handlers.orders import (
    PROBE,
    BackfillOrders,
    CheckSilence,
    GapReportWork,
    ImportOrder,
    PollOrders,
)
from tradewind.sync.handlers.orders_out import CancelOrder, ExportOrder
from tradewind.sync.handlers.returns_out import ExportReturn
from tradewind.sync.handlers.services import (
    CalculateTax,
    CommitTax,
    GetRates,
    PollTracking,
    RefundTax,
    TrackShipment,
)
from tradewind.sync.handlers.shadow import SHADOW
from tradewind.sync.handlers.shipments import CancelShipment, PushShipment
from tradewind.sync.handlers.stock import PushStock
from tradewind.sync.handlers.webhooks import Webhook
from tradewind.sync.models import WorkKind

HANDLERS: Mapping[WorkKind, Handler] = MappingProxyType(
    {
        WorkKind.WEBHOOK: Webhook(),
        WorkKind.IMPORT_ORDER: ImportOrder(),
        WorkKind.PUSH_STOCK: PushStock(),
        WorkKind.PUSH_SHIPMENT: PushShipment(),
        WorkKind.CANCEL_SHIPMENT: CancelShipment(),
        WorkKind.POLL_ORDERS: PollOrders(),
        WorkKind.PROBE_ORDERS: PROBE,
        WorkKind.BACKFILL: BackfillOrders(),
        WorkKind.CHECK_AUTH: CheckAuth(),
        WorkKind.SYNC_PRODUCTS: SyncProducts(),
        WorkKind.REFRESH_LOCATIONS: RefreshLocations(),
        WorkKind.ENSURE_WEBHOOKS: EnsureWebhooks(),
        WorkKind.EXPORT_ORDER: ExportOrder(),
        WorkKind.CANCEL_ORDER: CancelOrder(),
        WorkKind.EXPORT_RETURN: ExportReturn(),
        WorkKind.EXPORT_CUSTOMER: ExportCustomer(),
        WorkKind.EXPORT_ALL_CUSTOMERS: ExportAllCustomers(),
        WorkKind.IMPORT_CUSTOMERS: ImportCustomers(),
        WorkKind.EXPORT_PRODUCT: ExportProduct(),
        WorkKind.SYNC_LISTINGS: SyncListings(),
        WorkKind.RUN_HOOK: RunHook(),
        WorkKind.GET_RATES: GetRates(),
        WorkKind.CALCULATE_TAX: CalculateTax(),
        WorkKind.COMMIT_TAX: CommitTax(),
        WorkKind.REFUND_TAX: RefundTax(),
        WorkKind.TRACK_SHIPMENT: TrackShipment(),
        WorkKind.POLL_TRACKING: PollTracking(),
        WorkKind.PUSH_FULFILMENT: PushFulfilment(),
        WorkKind.IMPORT_SHIPMENTS: ImportShipments(),
        WorkKind.POLL_FULFILMENT: PollFulfilment(),
        WorkKind.GAP_REPORT: GapReportWork(),
        WorkKind.CHECK_SILENCE: CheckSilence(),
    }
)


def handler_for(kind: WorkKind, *, in_shadow: bool) -> Handler:
    """The handler of a batch: a plugin in shadow compares its stock instead of pushing
    it (``shadow.SHADOW``); what else writes is never claimed for it (``SHADOW_WAITS``)."""
    return SHADOW.get(kind, HANDLERS[kind]) if in_shadow else HANDLERS[kind]


__all__ = ["HANDLERS", "SHADOW", "Handler", "handler_for"]
