"""What a merchant enters to connect a Shopify store (the permissions that needs are in
``scopes.py``)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

API_VERSION = "2026-04"  # changeFromQuantity compare-and-set and @idempotent are required here
SUPPORTED_VERSIONS = ("2025-07", "2025-10", "2026-01", "2026-04", "2026-07", "2026-10")

_SHOP = re.compile(r"^https://(?P<name>[a-z0-9][a-z0-9-]*[a-z0-9])\.myshopify\.com/?$")
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*[a-z0-9]")


class ShopifySettings(BaseModel):
    """Connect with an Admin API access token (a custom app's), or with an app's client
    id and secret through OAuth (Reauthorize repeats it)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    store_url: str = Field(
        description="The store's admin URL, exactly https://your-store.myshopify.com",
        json_schema_extra={"example": "https://your-store.myshopify.com"},
    )
    access_token: SecretStr | None = Field(
        default=None, description="Admin API access token (shpat_…), shown once in Shopify."
    )
    client_id: str | None = Field(default=None, description="App client id (API key), for OAuth.")
    client_secret: SecretStr | None = Field(
        default=None, description="App client secret: signs OAuth redirects and webhooks."
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="The key Shopify signs webhooks with, when it is not the client secret "
        "(custom apps made in the Shopify admin show it on the app's page).",
    )
    api_version: str = Field(default=API_VERSION, description="Admin API version.")
    bulk_threshold: int = Field(
        default=5000,
        ge=0,
        description="Sync historical orders reads a range of more orders than this with one "
        "bulk operation instead of pages of 250 (0: always).",
    )
    sandbox_url: str | None = Field(
        default=None,
        description="Reach this store through a Tradewind sandbox at this address instead of "
        "Shopify (only when the hub allows sandbox hosts).",
    )

    @field_validator("store_url")
    @classmethod
    def _strict_store_url(cls, value: str) -> str:
        lowered = value.strip().lower()
        if _SHOP.match(lowered):
            return lowered.rstrip("/")
        raise ValueError(f"{value!r} is not a store admin URL; {_suggest(lowered)}")

    @field_validator("api_version")
    @classmethod
    def _known_version(cls, value: str) -> str:
        if value not in SUPPORTED_VERSIONS:
            raise ValueError(f"use one of {', '.join(SUPPORTED_VERSIONS)}")
        return value

    @model_validator(mode="after")
    def _one_way_to_connect(self) -> ShopifySettings:
        if self.access_token is None and not (self.client_id and self.client_secret):
            raise ValueError(
                "give an Admin API access token, or an app's client id and client secret to "
                "connect with OAuth"
            )
        return self

    @property
    def shop(self) -> str:
        """``name.myshopify.com``."""
        return self.store_url.removeprefix("https://")

    @property
    def signing_secret(self) -> str | None:
        secret = self.webhook_secret or self.client_secret
        return secret.get_secret_value() if secret else None


def _suggest(value: str) -> str:
    """The right form, built from what was typed where that is possible."""
    example = "enter it as https://your-store.myshopify.com"
    admin = re.search(r"admin\.shopify\.com/store/([a-z0-9-]+)", value)
    if admin:
        return f"enter https://{admin.group(1)}.myshopify.com"
    bare = value.removeprefix("http://").removeprefix("https://").split("/")[0]
    name = bare.removesuffix(".myshopify.com")
    if _NAME.fullmatch(name):
        return f"enter https://{name}.myshopify.com"
    return example
