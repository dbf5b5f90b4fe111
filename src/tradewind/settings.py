"""The one Settings object. Nothing else in Tradewind reads ``os.environ``."""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration read from ``TRADEWIND_*`` environment variables (and ``.env``)."""

    model_config = SettingsConfigDict(
        env_prefix="TRADEWIND_", env_file=".env", extra="ignore", frozen=True
    )

    data_dir: Path = Field(
        default=Path("var"),
        description="Directory for the embedded database, queue and generated key file.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the core database. Default: SQLite in the data directory.",
    )
    queue_url: str | None = Field(
        default=None,
        description="Queue backend: sqlite:///path or redis://host:port/db. "
        "Default: a SQLite queue file beside the database.",
    )
    secret_keys: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        default=(),
        description="Comma-separated Fernet keys; the first encrypts, all decrypt. "
        "When empty, a key file is generated in the data directory (mode 0600).",
    )
    base_url: str = Field(
        default="",
        description="Public URL of this Tradewind, used in webhook and OAuth callback "
        "addresses. Default: where this process serves, http://HOST:PORT (a wildcard bind "
        "address as loopback).",
    )
    host: str = Field(default="127.0.0.1", description="Address the web server binds to.")
    port: int = Field(default=8000, description="Port the web server binds to.")
    log_format: Literal["console", "json"] = Field(
        default="console", description="console for people, json for log collectors."
    )
    log_level: str = Field(default="INFO", description="Python log level name.")
    workers: int = Field(default=4, ge=1, le=64, description="Worker threads per process.")
    drain_seconds: float = Field(
        default=30.0, gt=0, description="How long one drainer works a plugin before yielding."
    )
    lease_seconds: int = Field(
        default=10,
        ge=5,
        description="How long a worker's hold on a plugin and on the work it claimed lasts "
        "without a heartbeat (renewed every third of it while the worker lives): a worker "
        "that died is taken over this long after its last beat.",
    )
    export_chunk: int = Field(
        default=500,
        ge=1,
        le=5000,
        description="Orders of a backfill's bulk export imported in one transaction, "
        "written with the read position after them (a restart resumes from there).",
    )
    reconcile_seconds: float = Field(
        default=5.0, gt=0, description="How often due, stale and scheduled work is re-kicked."
    )
    webhook_max_bytes: int = Field(
        default=2 * 1024 * 1024,
        ge=1024,
        description="Inbound webhook bodies above this are refused.",
    )
    request_max_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Request bodies above this are refused (413) as they stream in, before "
        "authentication; only webhooks and CSV imports have limits of their own.",
    )
    import_max_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        description="CSV product imports (API and UI) up to this size are accepted.",
    )
    execution_success_days: int = Field(
        default=30, ge=1, description="Days successful executions are kept."
    )
    execution_failure_days: int = Field(
        default=120, ge=1, description="Days failed executions are kept."
    )
    metrics_public: bool = Field(
        default=True,
        description="Serve /metrics without authentication (for a Prometheus scraper); "
        "when off, /metrics needs a bearer API token.",
    )
    session_hours: int = Field(
        default=12, ge=1, le=24 * 30, description="How long a UI sign-in lasts."
    )
    templates_dir: Path | None = Field(
        default=None,
        description="A directory of the merchant's own integration templates (*.yaml), "
        "offered beside the shipped ones.",
    )
    allow_sandbox_hosts: bool = Field(
        default=False,
        description="Let plugins reach sandbox platforms on loopback (demo and tests only).",
    )
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Comma-separated addresses or CIDR networks of the reverse proxies in "
        "front of Tradewind. Only a request from one of them may say, in X-Forwarded-For "
        "and X-Forwarded-Proto, which client it carries; empty: those headers are ignored.",
    )

    @field_validator("secret_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or CIDR network") from None
        return value

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="before")
    @classmethod
    def _serving_address(cls, data: object) -> object:
        """Without an explicit base URL, the platforms are told to call where this process
        serves (``tradewind run --port N`` registers its webhooks at N, not at 8000)."""
        if isinstance(data, dict) and not data.get("base_url"):
            host = str(data.get("host") or cls.model_fields["host"].default)
            port = data.get("port") or cls.model_fields["port"].default
            data = {**data, "base_url": f"http://{_reachable(host)}:{port}"}
        return data

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'tradewind.db'}"

    @cached_property
    def resolved_queue_url(self) -> str:
        return self.queue_url or f"sqlite:///{self.data_dir / 'queue.db'}"

    @property
    def key_file(self) -> Path:
        return self.data_dir / "secret.keys"


def _reachable(host: str) -> str:
    """``host`` as a URL's host: a wildcard bind address is reached on loopback, an IPv6
    address goes in brackets."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # a name
    if address.is_unspecified:
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    return f"[{address}]" if address.version == 6 else str(address)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; keyword overrides win (used by tests and the CLI)."""
    return Settings(**overrides)  # type: ignore[arg-type]
