"""What the plugin service needs from a connector, and what it answers; a plugin's
import rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from tradewind.vocabulary import FinancialStatus, FulfillmentStatus, OrderStatus, Toggle


class ConnectorSpec(Protocol):
    """The part of a connector's description the core uses (``ConnectorInfo`` fits it).

    Declared here so that the core never imports the connector SDK.
    """

    @property
    def key(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def settings(self) -> type[BaseModel]: ...

    @property
    def toggles(self) -> frozenset[Toggle]: ...

    @property
    def unsupported(self) -> Mapping[Toggle, str]: ...


@dataclass(frozen=True)
class ToggleResult:
    """The answer to switching a toggle: what else had to switch with it, and why."""

    toggle: Toggle
    on: bool
    also_enabled: list[Toggle] = field(default_factory=list)
    also_disabled: list[Toggle] = field(default_factory=list)

    def message(self) -> str:
        parts = [f"{self.toggle.label} is {'on' if self.on else 'off'}."]
        if self.also_enabled:
            names = ", ".join(toggle.label for toggle in self.also_enabled)
            parts.append(f"Switched on as well, because {self.toggle.label} needs it: {names}.")
        if self.also_disabled:
            names = ", ".join(toggle.label for toggle in self.also_disabled)
            parts.append(f"Switched off as well, because they need {self.toggle.label}: {names}.")
        return " ".join(parts)


@dataclass(frozen=True)
class AttachResult:
    """The answer to attaching or detaching: the plugin's channels and any import conflict."""

    channel_ids: list[int]
    import_conflict: str | None


def secret_fields(model: type[BaseModel]) -> frozenset[str]:
    """Names of the settings fields declared as secrets (``SecretStr``)."""
    names = set()
    for name, info in model.model_fields.items():
        annotation: Any = info.annotation
        if annotation is SecretStr or SecretStr in getattr(annotation, "__args__", ()):
            names.add(name)
    return frozenset(names)


class PosPolicy(StrEnum):
    """What to do with point-of-sale orders (seed 003)."""

    SKIP = "skip"  # do not import
    GENERIC = "generic"  # import to one generic customer per plugin
    MATCH = "match"  # match the customer by email, or create one


class ImportRules(BaseModel):
    """Which platform orders a plugin imports, and how it matches their lines."""

    model_config = ConfigDict(extra="forbid")

    statuses: frozenset[OrderStatus] = frozenset({OrderStatus.OPEN})
    financial_statuses: frozenset[FinancialStatus] = frozenset(
        {FinancialStatus.PAID, FinancialStatus.PARTIALLY_REFUNDED}
    )
    ignore_financial_status: bool = False
    fulfillment_statuses: frozenset[FulfillmentStatus] = frozenset(
        {FulfillmentStatus.UNFULFILLED, FulfillmentStatus.PARTIALLY_FULFILLED}
    )
    import_test_orders: bool = False
    pos_orders: PosPolicy = PosPolicy.MATCH
    only_location: str | None = Field(
        default=None, description="Import only orders of this platform location."
    )
    match_by: tuple[str, ...] = ("sku", "barcode")
    import_returns: bool = Field(
        default=True,
        description="Refunds of shipped items made on the platform become returns here "
        "(off: the order's financial status still follows the platform).",
    )
    export_returns: bool = Field(
        default=False,
        description="A return of an order imported from the platform, received here, "
        "becomes a refund of its lines there (restocked at the order's location when the "
        "return is restocked). Off by default: nothing is written to the store unasked.",
    )
    restock_returns: bool | None = Field(
        default=None, description="Restock refunded items: None follows the platform's flag."
    )
    close_orders: bool = Field(
        default=False, description="Close the order on the platform once fully shipped."
    )
    cancel_on_platform: bool = Field(
        default=False,
        description="Cancel an imported order on the platform when it is cancelled in "
        "Tradewind (no refund: money stays the merchant's call there).",
    )
    notify_customer: bool = Field(
        default=True, description="Send Shipping Notification: the platform emails tracking."
    )
    poll_minutes: int = Field(default=10, ge=1, le=1440)
    poll_overlap_minutes: int = Field(default=15, ge=0, le=7 * 24 * 60)

    @field_validator("match_by")
    @classmethod
    def _codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or any(code not in ("sku", "barcode") for code in value):
            raise ValueError("match_by lists 'sku' and/or 'barcode', in the order to try")
        return value

    @field_validator("statuses", "fulfillment_statuses")
    @classmethod
    def _some(cls, value: frozenset[Any]) -> frozenset[Any]:
        if not value:
            raise ValueError("choose at least one, or no order would ever be imported")
        return value

    @model_validator(mode="after")
    def _paid_or_ignored(self) -> ImportRules:
        if not self.financial_statuses and not self.ignore_financial_status:
            raise ValueError(
                "choose at least one financial status, or ignore the financial status: "
                "otherwise no order would ever be imported"
            )
        return self
