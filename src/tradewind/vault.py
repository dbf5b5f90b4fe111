"""Credentials at rest: MultiFernet encryption, row binding and key rotation.

Keys never live in the database. They come from ``TRADEWIND_SECRET_KEYS`` or, when that
is empty, from a key file in the data directory that is generated on first run with mode
0600. The first key encrypts; every key decrypts, so a new key can be put in front and
``tradewind keys rotate`` re-encrypts every stored secret under it.

Fernet has no associated data, so each sealed value carries its purpose and owner
(``plugin:12``) inside the ciphertext, and opening it elsewhere is refused: a ciphertext
copied from one row to another does not decrypt.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text, select, update
from sqlalchemy.orm import Session

from tradewind.db import Base
from tradewind.settings import Settings


class VaultError(Exception):
    """A secret could not be opened (wrong key, tampered, or bound to another row)."""


class SealedText(Text):
    """Marks a column that holds a vault ciphertext, so rotation finds it by type."""


@dataclass(frozen=True, slots=True)
class SecretView:
    """What may be shown about a secret: whether it is set and its last 4 characters."""

    is_set: bool
    last4: str = ""

    def __str__(self) -> str:
        return f"set (…{self.last4})" if self.is_set else "not set"


def describe_secret(value: str | None) -> SecretView:
    if not value:
        return SecretView(is_set=False)
    return SecretView(is_set=True, last4=value[-4:] if len(value) >= 8 else "")


_MASK = re.compile(r"set \(….{0,4}\)|not set", re.DOTALL)


def is_secret_mask(value: object) -> bool:
    """Whether ``value`` is what ``describe_secret`` shows ("set (…abcd)", "not set"): a
    settings document read and sent back carries masks, and they mean "keep"."""
    return isinstance(value, str) and _MASK.fullmatch(value) is not None


class Vault:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise VaultError("no encryption key configured")
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError as exc:
            raise VaultError(f"invalid Fernet key: {exc}") from None
        self.key_count = len(keys)

    def __repr__(self) -> str:
        return f"<Vault keys={self.key_count}>"

    def seal(self, purpose: str, owner: str, data: Mapping[str, str]) -> str:
        plaintext = json.dumps({"p": purpose, "o": owner, "d": dict(data)}, sort_keys=True)
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, purpose: str, owner: str, token: str) -> dict[str, str]:
        try:
            envelope = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise VaultError(
                f"cannot decrypt the {purpose} of {owner}: no configured key opens it"
            ) from None
        if envelope.get("p") != purpose or envelope.get("o") != owner:
            raise VaultError(f"the stored {purpose} of {owner} belongs to another record")
        data: dict[str, str] = envelope["d"]
        return data

    def rotate(self, token: str) -> str:
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise VaultError("a stored secret cannot be decrypted by any configured key") from None


def generate_key() -> str:
    return Fernet.generate_key().decode()


def load_vault(settings: Settings, *, announce: Callable[[str], None] | None = None) -> Vault:
    """The vault for ``settings``; generates the key file on first run and says where."""
    if settings.secret_keys:
        return Vault([key.get_secret_value() for key in settings.secret_keys])
    path = settings.key_file
    if not path.exists():
        write_key_file(path, [generate_key()])
        if announce is not None:
            announce(
                f"Generated an encryption key file at {path.resolve()} (mode 0600). "
                "Back it up: without it stored credentials cannot be decrypted."
            )
    return Vault(read_key_file(path))


def read_key_file(path: Path) -> list[str]:
    keys = [line.strip() for line in path.read_text().splitlines()]
    return [key for key in keys if key and not key.startswith("#")]


def write_key_file(path: Path, keys: Iterable[str]) -> None:
    """Write ``keys`` (first encrypts) atomically with mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    if temporary.exists():
        temporary.unlink()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("# Tradewind Fernet keys: the first encrypts, all decrypt.\n")
        handle.writelines(f"{key}\n" for key in keys)
    os.replace(temporary, path)


@dataclass(frozen=True, slots=True)
class RotationReport:
    rotated: int
    failed: list[str]


def rotate_all(session: Session, vault: Vault) -> RotationReport:
    """Re-encrypt every sealed column of every table under the vault's first key."""
    rotated = 0
    failed: list[str] = []
    for table in Base.metadata.sorted_tables:
        sealed = [column for column in table.columns if isinstance(column.type, SealedText)]
        primary = list(table.primary_key.columns)
        if not sealed or len(primary) != 1:
            continue
        key = primary[0]
        for column in sealed:
            rows = session.execute(select(key, column).where(column.is_not(None))).all()
            for row_id, token in rows:
                try:
                    fresh = vault.rotate(token)
                except VaultError:
                    failed.append(f"{table.name}.{column.name} id={row_id}")
                    continue
                session.execute(update(table).where(key == row_id).values({column.name: fresh}))
                rotated += 1
    return RotationReport(rotated=rotated, failed=failed)
