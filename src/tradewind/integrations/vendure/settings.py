"""A Vendure plugin's settings: where the Admin API is, the API key, the companion
plugin's signing secret, and which Vendure order states count as placed orders."""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

# Vendure's default order process after checkout. Carts (AddingItems, ArrangingPayment) and
# drafts are not orders yet; Cancelled stays in so that cancellations reach Tradewind by the
# poll alone.
PLACED_STATES: tuple[str, ...] = (
    "PaymentAuthorized",
    "PaymentSettled",
    "PartiallyShipped",
    "Shipped",
    "PartiallyDelivered",
    "Delivered",
    "Modifying",
    "ArrangingAdditionalPayment",
    "Cancelled",
)

_GRAPHQL_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")
_SECRET_PREFIX = "whsec_"  # noqa: S105 (the Standard Webhooks prefix, not a secret)


class VendureSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    base_url: str = Field(
        description="The Vendure server, e.g. https://shop.example.com (without /admin-api)."
    )
    admin_api_path: str = Field(
        default="admin-api", description="Vendure's apiOptions.adminApiPath."
    )
    api_key: SecretStr = Field(description="An Admin API key (Settings › API keys, Vendure 3.6+).")
    channel_token: str = Field(
        default="",
        description="The Vendure channel's token; empty for the default channel.",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="The companion plugin's signing secret (whsec_…); empty without the plugin.",
    )
    order_states: tuple[str, ...] = Field(
        default=PLACED_STATES,
        description="Vendure order states the poll reads. Add your custom states here.",
    )
    barcode_field: str = Field(
        default="",
        description="A ProductVariant custom field holding the barcode (GTIN/EAN), if any.",
    )
    money_decimals: int = Field(
        default=2, ge=0, le=4, description="Digits after the point in Vendure's integer amounts."
    )
    page_size: int = Field(default=50, ge=1, le=1000)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "the Vendure URL starts with https:// (or http:// on your own network)"
            )
        if parts.query or parts.fragment:
            raise ValueError("the Vendure URL has no query or fragment")
        return value.rstrip("/")

    @field_validator("admin_api_path")
    @classmethod
    def _path(cls, value: str) -> str:
        path = value.strip("/")
        if not path or not re.fullmatch(r"[A-Za-z0-9._~/-]+", path):
            raise ValueError("the Admin API path is a URL path such as admin-api")
        return path

    @field_validator("order_states")
    @classmethod
    def _states(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("list at least one Vendure order state")
        for state in value:
            if not _GRAPHQL_NAME.match(state):
                raise ValueError(f"{state!r} is not a Vendure order state name")
        return tuple(dict.fromkeys(value))

    @field_validator("barcode_field")
    @classmethod
    def _field(cls, value: str) -> str:
        if value and not _GRAPHQL_NAME.match(value):
            raise ValueError(f"{value!r} is not a custom field name")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(signing_key(value.get_secret_value())) < 16:
            raise ValueError("the webhook secret must hold at least 16 random bytes")
        return value

    @property
    def admin_url(self) -> str:
        return f"{self.base_url}/{self.admin_api_path}"


def signing_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: the base64 after ``whsec_``."""
    raw = secret.removeprefix(_SECRET_PREFIX)
    try:
        return base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the webhook secret is whsec_ followed by base64") from None
