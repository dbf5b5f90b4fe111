"""What a merchant enters to connect a Fake Market shop. Secrets are ``SecretStr``: the
hub stores them encrypted and never shows them again."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class FakeMarketSettings(BaseModel):
    shop: str = Field(min_length=3, pattern=r"^[a-z0-9-]+$")
    api_token: SecretStr
    webhook_secret: SecretStr | None = None
    base_url: str = "http://127.0.0.1:9"
    poll_minutes: int = Field(default=10, ge=1, le=1440)
