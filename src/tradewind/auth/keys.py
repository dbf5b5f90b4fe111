"""Signing keys for cookies, derived from the vault's keys (HKDF-SHA256 with a purpose
label), so there is no second secret to manage, and rotating the vault keys rotates
them. The first vault key signs; every vault key verifies (so a rotation does not sign
everyone out; sessions signed before it end when the old key is retired)."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive(key: str, purpose: str) -> bytes:
    material = base64.urlsafe_b64decode(key.encode())
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"tradewind:{purpose}".encode()
    ).derive(material)


def signing_keys(vault_keys: Sequence[str], purpose: str) -> list[bytes]:
    """Keys for itsdangerous, which signs with the *last*: oldest first, newest last."""
    return [derive(key, purpose) for key in reversed(vault_keys)]
