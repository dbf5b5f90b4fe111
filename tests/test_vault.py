"""Credentials at rest: encrypted, bound to their row, rotatable, never shown."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from tests import factories
from tests.fakes import FakeConnector
from tradewind.core.plugins import service as plugins
from tradewind.hub import Hub
from tradewind.settings import Settings
from tradewind.vault import (
    Vault,
    VaultError,
    describe_secret,
    generate_key,
    is_secret_mask,
    load_vault,
    read_key_file,
    rotate_all,
    write_key_file,
)


def test_sealed_values_open_only_for_their_owner() -> None:
    vault = Vault([generate_key()])
    token = vault.seal("credentials", "plugin:1", {"api_token": "shpat_123"})
    assert "shpat_123" not in token
    assert vault.open("credentials", "plugin:1", token) == {"api_token": "shpat_123"}
    with pytest.raises(VaultError, match="belongs to another record"):
        vault.open("credentials", "plugin:2", token)


def test_a_new_first_key_reads_old_secrets_and_rotation_moves_them() -> None:
    old, new = generate_key(), generate_key()
    token = Vault([old]).seal("credentials", "plugin:1", {"k": "v"})
    both = Vault([new, old])
    rotated = both.rotate(token)
    assert Vault([new]).open("credentials", "plugin:1", rotated) == {"k": "v"}
    with pytest.raises(VaultError, match="no configured key"):
        Vault([new]).open("credentials", "plugin:1", token)


def test_first_run_generates_a_private_key_file_and_says_where(tmp_path: Path) -> None:
    said: list[str] = []
    settings = Settings(data_dir=tmp_path / "var", secret_keys=())
    vault = load_vault(settings, announce=said.append)
    key_file = tmp_path / "var" / "secret.keys"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(read_key_file(key_file)) == 1
    assert said and str(key_file.resolve()) in said[0]
    again: list[str] = []
    second = load_vault(settings, announce=again.append)  # reused, not regenerated
    assert again == []
    token = vault.seal("p", "o", {"a": "b"})
    assert second.open("p", "o", token) == {"a": "b"}


def test_rotate_all_reencrypts_every_sealed_column(hub: Hub) -> None:
    with hub.db.unit_of_work() as session:
        plugin = factories.plugin(hub, session, import_orders=False)
        before = plugin.credentials
    new_key = generate_key()
    old_keys = [key.get_secret_value() for key in hub.settings.secret_keys]
    rotated_vault = Vault([new_key, *old_keys])
    with hub.db.unit_of_work() as session:
        report = rotate_all(session, rotated_vault)
    assert report.rotated == 1 and report.failed == []
    with hub.db.read() as session:
        stored = plugins.get_plugin(session, plugin.id)
        assert stored.credentials != before
        only_new = Vault([new_key])
        assert plugins.read_credentials(only_new, stored)["api_token"] == "tok-secret-1234"


def test_secrets_are_never_stored_or_shown_in_clear(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with hub.db.unit_of_work() as session:
        plugin = factories.plugin(hub, session, import_orders=False)
        shown = plugins.describe_settings(hub.vault, FakeConnector.info, plugin)
        assert shown["api_token"] == "set (…1234)"
        assert shown["webhook_secret"] == "not set"
        assert "tok-secret" not in repr(plugin)
        assert "tok-secret" not in str(plugin.settings)
    with hub.db.read() as session:
        raw = session.execute(text("select settings, credentials from plugins")).one()
        assert "tok-secret" not in str(raw)
    assert "tok-secret" not in caplog.text


def test_key_file_is_replaced_atomically_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "k" / "secret.keys"
    write_key_file(path, ["a", "b"])
    write_key_file(path, ["c", "a", "b"])
    assert read_key_file(path) == ["c", "a", "b"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_vault_follows_its_key_file(tmp_path: Path) -> None:
    """Another process rotating the key file: this one opens what it sealed, and seals
    under the new key, without being rebuilt."""
    path = tmp_path / "secret.keys"
    old, new = generate_key(), generate_key()
    write_key_file(path, [old])
    running = Vault.from_key_file(path)
    before = running.seal("credentials", "plugin:1", {"k": "v"})
    write_key_file(path, [new, old])
    rotated = Vault([new, old]).rotate(before)
    assert running.open("credentials", "plugin:1", rotated) == {"k": "v"}
    assert Vault([new]).open("p", "o", running.seal("p", "o", {"a": "b"})) == {"a": "b"}
    write_key_file(path, [new])  # the old key retired
    assert running.keys == (new,)
    with pytest.raises(VaultError):
        running.open("credentials", "plugin:1", before)


def test_a_missing_or_broken_key_file_keeps_the_keys_in_use(tmp_path: Path) -> None:
    path = tmp_path / "secret.keys"
    key = generate_key()
    write_key_file(path, [key])
    running = Vault.from_key_file(path)
    path.write_text("not a key\n")
    assert running.keys == (key,)
    path.unlink()
    assert running.keys == (key,)


def test_cookie_signing_follows_the_key_file(tmp_path: Path) -> None:
    from tradewind.web.session import Signer

    path = tmp_path / "secret.keys"
    old, new = generate_key(), generate_key()
    write_key_file(path, [old])
    signer = Signer(Vault.from_key_file(path), "session")
    cookie = signer.sign("session-id")
    write_key_file(path, [new, old])  # rotated: the old cookie still verifies
    assert signer.unsign(cookie, max_age=60) == "session-id"
    fresh = signer.sign("session-id")
    assert Signer(Vault([new]), "session").unsign(fresh, max_age=60) == "session-id"
    write_key_file(path, [new])  # retired: sign-ins from before it end
    assert signer.unsign(cookie, max_age=60) is None
    assert signer.unsign(fresh, max_age=60) == "session-id"


@pytest.mark.parametrize(
    ("value", "mask"),
    [
        ("set (…J3NV)", True),
        ("set (…)", True),
        ("not set", True),
        ("set (cannot be decrypted)", True),
        ("set (…ab))", True),
        ("shpat_123", False),
        ("", False),
        (None, False),
        ("set (…abcde)", False),
    ],
)
def test_masks_are_what_describe_secret_shows(value: object, mask: bool) -> None:
    assert is_secret_mask(value) is mask


@pytest.mark.parametrize("secret", [None, "", "short", "shpat_0123456789J3NV", "tail-ends-in)"])
def test_whatever_describe_secret_shows_is_a_mask(secret: str | None) -> None:
    assert is_secret_mask(str(describe_secret(secret)))
