"""The service capabilities of a template (``get_rates``, ``buy_label``, ``void_label``,
``track``, ``calculate_tax``, ``commit_tax``, ``refund_tax``): each is the hook of that
name, given the request as ``input`` and its ``output`` read as the capability's record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tradewind.connectors.errors import Rejected
from tradewind.connectors.services import (
    FulfilmentOrder,
    LabelRecord,
    LabelRequest,
    RateRecord,
    ShipmentRequest,
    TaxRecord,
    TaxRefundRequest,
    TaxRequest,
    TrackingRecord,
)
from tradewind.connectors.template.runtime import Runner

M = TypeVar("M", bound=BaseModel)


def _read(model: type[M], value: Any, hook: str) -> M:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        said = "; ".join(
            f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()[:5]
        )
        raise Rejected(f"{hook}: the output does not fit a {model.__name__}: {said}") from None


def _many(model: type[M], value: Any, hook: str) -> list[M]:
    rows = value if isinstance(value, list) else [] if value is None else [value]
    return [_read(model, row, hook) for row in rows]


class QuotesRatesHook:
    runner: Runner

    def get_rates(self, request: ShipmentRequest) -> Sequence[RateRecord]:
        output = self.runner.run_hook("get_rates", request.model_dump(mode="json")).output
        return _many(RateRecord, output, "get_rates")


class BuysLabelsHook:
    runner: Runner

    def buy_label(self, request: LabelRequest) -> LabelRecord:
        output = self.runner.run_hook("buy_label", request.model_dump(mode="json")).output
        return _read(LabelRecord, output, "buy_label")


class VoidsLabelsHook:
    runner: Runner

    def void_label(self, label: LabelRecord) -> None:
        output = self.runner.run_hook("void_label", label.model_dump(mode="json")).output
        refused = output.get("refused") if isinstance(output, dict) else None
        if refused:  # the hook says why the service would not void it
            raise Rejected(f"void_label: {refused}")


class TracksParcelsHook:
    runner: Runner

    def track(self, carrier: str, tracking_number: str) -> Sequence[TrackingRecord]:
        given = {"carrier": carrier, "tracking_number": tracking_number}
        return _many(TrackingRecord, self.runner.run_hook("track", given).output, "track")


class CalculatesTaxHook:
    runner: Runner

    def calculate_tax(self, request: TaxRequest) -> TaxRecord:
        output = self.runner.run_hook("calculate_tax", request.model_dump(mode="json")).output
        return _read(TaxRecord, output, "calculate_tax")


class CommitsTaxHook:
    runner: Runner

    def commit_tax(self, request: TaxRequest, tax: TaxRecord) -> str:
        given = {**request.model_dump(mode="json"), "tax": tax.model_dump(mode="json")}
        output = self.runner.run_hook("commit_tax", given).output
        return str(output if output is not None else request.reference)


class RefundsTaxHook:
    runner: Runner

    def refund_tax(self, request: TaxRefundRequest) -> str:
        output = self.runner.run_hook("refund_tax", request.model_dump(mode="json")).output
        return str(output if output is not None else request.reference)


class PushesForFulfilmentHook:
    runner: Runner

    def push_order_for_fulfilment(self, order: FulfilmentOrder) -> str:
        output = self.runner.run_hook(
            "push_order_for_fulfilment", order.model_dump(mode="json")
        ).output
        if output in (None, "", [], {}):
            raise Rejected("push_order_for_fulfilment: the output names no order of the service")
        return str(output)


SERVICE_MIXINS: Mapping[str, type] = {
    "get_rates": QuotesRatesHook,
    "buy_label": BuysLabelsHook,
    "void_label": VoidsLabelsHook,
    "track": TracksParcelsHook,
    "calculate_tax": CalculatesTaxHook,
    "commit_tax": CommitsTaxHook,
    "refund_tax": RefundsTaxHook,
    "push_order_for_fulfilment": PushesForFulfilmentHook,
}
