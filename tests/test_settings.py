from __future__ import annotations

from pathlib import Path

import pytest

from tradewind.settings import Settings


def test_defaults_put_everything_under_the_data_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "QUEUE_URL", "SECRET_KEYS", "DATA_DIR", "BASE_URL"):
        monkeypatch.delenv(f"TRADEWIND_{name}", raising=False)
    settings = Settings(_env_file=None)
    assert settings.resolved_database_url == "sqlite:///var/tradewind.db"
    assert settings.resolved_queue_url == "sqlite:///var/queue.db"
    assert settings.key_file == Path("var/secret.keys")
    assert settings.secret_keys == ()
    assert settings.base_url == "http://127.0.0.1:8000"


def test_environment_is_read_with_the_tradewind_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND_DATABASE_URL", "postgresql://db/tw")
    monkeypatch.setenv("TRADEWIND_QUEUE_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("TRADEWIND_SECRET_KEYS", " key-one , key-two ,")
    monkeypatch.setenv("TRADEWIND_BASE_URL", "https://hub.example.com/")
    settings = Settings(_env_file=None)
    assert settings.resolved_database_url == "postgresql://db/tw"
    assert settings.resolved_queue_url == "redis://127.0.0.1:6379/0"
    assert [key.get_secret_value() for key in settings.secret_keys] == ["key-one", "key-two"]
    assert settings.base_url == "https://hub.example.com"
    assert "key-one" not in repr(settings)


def test_trusted_proxies_are_addresses_or_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).trusted_proxies == ()  # forwarded headers ignored
    monkeypatch.setenv("TRADEWIND_TRUSTED_PROXIES", " 10.0.0.5 , 192.168.0.0/16,::1 ")
    assert Settings(_env_file=None).trusted_proxies == ("10.0.0.5", "192.168.0.0/16", "::1")
    monkeypatch.setenv("TRADEWIND_TRUSTED_PROXIES", "proxy.internal")
    with pytest.raises(ValueError, match="not an IP address or CIDR network"):
        Settings(_env_file=None)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"port": 9123}, "http://127.0.0.1:9123"),
        ({"host": "10.1.2.3", "port": 9123}, "http://10.1.2.3:9123"),
        ({"host": "0.0.0.0", "port": 9123}, "http://127.0.0.1:9123"),  # noqa: S104 - a bind address
        ({"host": "::", "port": 9123}, "http://[::1]:9123"),
        ({"host": "::1"}, "http://[::1]:8000"),
        ({"port": 9123, "base_url": "https://hub.example.com/"}, "https://hub.example.com"),
    ],
)
def test_the_public_address_follows_host_and_port_unless_given(
    monkeypatch: pytest.MonkeyPatch, given: dict[str, object], expected: str
) -> None:
    """Webhooks and OAuth callbacks are addressed to base_url: without TRADEWIND_BASE_URL
    it is where this process serves, so `tradewind run --port N` registers them at N."""
    for name in ("BASE_URL", "HOST", "PORT"):
        monkeypatch.delenv(f"TRADEWIND_{name}", raising=False)
    assert Settings(_env_file=None, **given).base_url == expected  # type: ignore[arg-type]


def test_an_explicit_base_url_in_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND_BASE_URL", "https://hub.example.com")
    monkeypatch.setenv("TRADEWIND_PORT", "9123")
    assert Settings(_env_file=None).base_url == "https://hub.example.com"
    monkeypatch.delenv("TRADEWIND_BASE_URL")
    assert Settings(_env_file=None).base_url == "http://127.0.0.1:9123"
