"""Credentials at rest: MultiFernet encryption, row binding and key rotation.

Keys never live in the database. They come from ``TRADEWIND_SECRET_KEYS`` or, when that
is empty, from a key file in the data directory that is generated on first run with mode
0600. The first key encrypts; every key decrypts.

Rotation happens while servers and workers run: ``tradewind keys rotate`` puts a new key
first in the key file and re-encrypts every stored secret under it; every running process
follows the file (it re-reads it when it changes, and when a value does not open), so it
reads and writes with the new key without a restart. The old key keeps decrypting until
``tradewind keys retire`` removes it, a later, separate step that refuses while anything
stored still needs it.

Fernet has no associated data, so each sealed value carries its purpose and owner
(``plugin:12``) inside the ciphertext, and opening it elsewhere is refused: a ciphertext
copied from one row to another does not decrypt.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Column, Table, Text, select, update
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


# Shown for a secret stored in credentials that no configured key opens.
UNREADABLE = "set (cannot be decrypted)"
_MASK = re.compile(r"set \(….{0,4}\)|not set|set \(cannot be decrypted\)", re.DOTALL)


def is_secret_mask(value: object) -> bool:
    """Whether ``value`` is what ``describe_secret`` shows ("set (…abcd)", "not set"): a
    settings document read and sent back carries masks, and they mean "keep"."""
    return isinstance(value, str) and _MASK.fullmatch(value) is not None


class Vault:
    """The key ring. Built from a key file, it follows the file: a process notices a
    changed file (``tradewind keys rotate`` in another process) before it seals or opens
    anything, and re-reads it when a value does not open, so running servers and workers
    learn a new key without a restart."""

    def __init__(self, keys: Sequence[str], *, key_file: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._key_file = key_file
        self._stamp = _stamp(key_file) if key_file is not None else None
        self.generation = 0
        self._install(keys)

    @classmethod
    def from_key_file(cls, path: Path) -> Vault:
        return cls(read_key_file(path), key_file=path)

    def _install(self, keys: Sequence[str]) -> None:
        if not keys:
            raise VaultError("no encryption key configured")
        try:
            fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError as exc:
            raise VaultError(f"invalid Fernet key: {exc}") from None
        self._keys, self._fernet = tuple(keys), fernet
        self.generation += 1

    @property
    def keys(self) -> tuple[str, ...]:
        """The current keys, the first encrypting (cookie signing keys derive from them)."""
        self._follow()
        return self._keys

    @property
    def key_count(self) -> int:
        return len(self.keys)

    def __repr__(self) -> str:
        return f"<Vault keys={len(self._keys)}>"

    def _follow(self) -> None:
        if self._key_file is not None and _stamp(self._key_file) != self._stamp:
            self.reload()

    def reload(self) -> bool:
        """Re-read the key file; whether the keys changed. A file that is missing or
        unreadable keeps the keys in use (it is replaced atomically, never half-written)."""
        if self._key_file is None:
            return False
        with self._lock:
            self._stamp = _stamp(self._key_file)
            try:
                keys = read_key_file(self._key_file)
            except OSError:
                return False
            if not keys or tuple(keys) == self._keys:
                return False
            try:
                self._install(keys)
            except VaultError:
                return False
            return True

    def seal(self, purpose: str, owner: str, data: Mapping[str, str]) -> str:
        self._follow()
        plaintext = json.dumps({"p": purpose, "o": owner, "d": dict(data)}, sort_keys=True)
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, purpose: str, owner: str, token: str) -> dict[str, str]:
        try:
            plaintext = self._decrypt(token)
        except InvalidToken:
            raise VaultError(
                f"cannot decrypt the {purpose} of {owner}: no configured key opens it"
            ) from None
        envelope = json.loads(plaintext)
        if envelope.get("p") != purpose or envelope.get("o") != owner:
            raise VaultError(f"the stored {purpose} of {owner} belongs to another record")
        data: dict[str, str] = envelope["d"]
        return data

    def _decrypt(self, token: str) -> bytes:
        return self._with_reload(lambda fernet: fernet.decrypt(token.encode()))

    def _with_reload(self, use: Callable[[MultiFernet], bytes]) -> bytes:
        self._follow()
        try:
            return use(self._fernet)
        except InvalidToken:
            if not self.reload():  # sealed under a key this process has not read yet?
                raise
            return use(self._fernet)

    def rotate(self, token: str) -> str:
        try:
            return self._with_reload(lambda fernet: fernet.rotate(token.encode())).decode()
        except InvalidToken:
            raise VaultError("a stored secret cannot be decrypted by any configured key") from None


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What changes when the key file is replaced (``os.replace`` gives a new inode)."""
    try:
        found = path.stat()
    except OSError:
        return None
    return (found.st_ino, found.st_mtime_ns, found.st_size)


def fingerprint(key: str) -> str:
    """A key's name that reveals nothing of it: 8 hex digits of its SHA-256."""
    return hashlib.sha256(key.encode()).hexdigest()[:8]


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
    return Vault.from_key_file(path)


def read_key_file(path: Path) -> list[str]:
    keys = [line.strip() for line in path.read_text().splitlines()]
    return [key for key in keys if key and not key.startswith("#")]


def write_key_file(path: Path, keys: Iterable[str]) -> None:
    """Write ``keys`` (first encrypts) atomically with mode 0600."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
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


@dataclass(frozen=True, slots=True)
class _Sealed:
    table: Table
    key: Column[Any]
    column: Column[Any]
    row_id: object
    token: str

    @property
    def label(self) -> str:
        return f"{self.table.name}.{self.column.name} id={self.row_id}"


def _sealed_values(session: Session) -> Iterator[_Sealed]:
    """Every stored ciphertext of every sealed column of every table."""
    for table in Base.metadata.sorted_tables:
        sealed = [column for column in table.columns if isinstance(column.type, SealedText)]
        primary = list(table.primary_key.columns)
        if not sealed or len(primary) != 1:
            continue
        for column in sealed:
            rows = session.execute(select(primary[0], column).where(column.is_not(None))).all()
            for row_id, token in rows:
                yield _Sealed(table, primary[0], column, row_id, token)


def rotate_all(session: Session, vault: Vault) -> RotationReport:
    """Re-encrypt every sealed column of every table under the vault's first key."""
    rotated = 0
    failed: list[str] = []
    for value in _sealed_values(session):
        try:
            fresh = vault.rotate(value.token)
        except VaultError:
            failed.append(value.label)
            continue
        session.execute(
            update(value.table).where(value.key == value.row_id).values({value.column.name: fresh})
        )
        rotated += 1
    return RotationReport(rotated=rotated, failed=failed)


def sealed_tokens(session: Session) -> list[str]:
    """Every stored ciphertext."""
    return [value.token for value in _sealed_values(session)]


def needing(session: Session, keys: Sequence[str], retiring: Collection[str]) -> list[str]:
    """The stored values no key but one in ``retiring`` opens: they still need it. (Values
    no key opens at all are not listed: no key that could be retired helps them.)"""
    kept = [key for key in keys if key not in retiring]
    if not kept:
        raise VaultError("the last key cannot be retired")
    remaining = MultiFernet([Fernet(key.encode()) for key in kept])
    everyone = MultiFernet([Fernet(key.encode()) for key in keys])
    need = []
    for value in _sealed_values(session):
        try:
            remaining.decrypt(value.token.encode())
        except InvalidToken:
            try:
                everyone.decrypt(value.token.encode())
            except InvalidToken:
                continue
            need.append(value.label)
    return need
