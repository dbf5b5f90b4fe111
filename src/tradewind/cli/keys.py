"""``tradewind keys``: encryption keys for stored credentials.

Rotating is two steps, both safe while servers and workers run: ``rotate`` puts a new key
first and re-encrypts every stored secret under it (running processes follow the key file
and use the new key without a restart); later, ``retire`` removes the old keys, and
refuses while anything stored still needs one of them.
"""

from __future__ import annotations

import typer
from cryptography.fernet import Fernet, InvalidToken

from tradewind.cli.common import console, fail, running, table
from tradewind.vault import (
    fingerprint,
    generate_key,
    needing,
    read_key_file,
    rotate_all,
    sealed_tokens,
    write_key_file,
)

app = typer.Typer(help="Encryption keys for stored credentials.", no_args_is_help=True)


@app.command()
def generate() -> None:
    """Print a new Fernet key (for TRADEWIND_SECRET_KEYS)."""
    console.print(generate_key(), highlight=False)


@app.command("list")
def list_keys(ctx: typer.Context) -> None:
    """The keys by fingerprint: which encrypts, and how many stored secrets each opens."""
    with running(ctx) as hub:
        keys = hub.vault.keys
        with hub.db.read() as session:
            tokens = [token.encode() for token in sealed_tokens(session)]
        rows = []
        for number, key in enumerate(keys, start=1):
            fernet = Fernet(key.encode())
            opens = sum(1 for token in tokens if _opens(fernet, token))
            role = "encrypts" if number == 1 else "decrypts"
            rows.append((number, fingerprint(key), role, opens))
        table("Keys", ["#", "fingerprint", "role", "stored secrets it opens"], rows)


def _opens(fernet: Fernet, token: bytes) -> bool:
    try:
        fernet.decrypt(token)
    except InvalidToken:
        return False
    return True


@app.command()
def rotate(
    ctx: typer.Context,
    no_new_key: bool = typer.Option(
        False, "--no-new-key", help="Re-encrypt under the current first key; add no key."
    ),
) -> None:
    """Put a new key first and re-encrypt every stored secret under it.

    With a key file, the new key is generated and put first; the old keys stay and keep
    decrypting until `tradewind keys retire`. Running servers and workers follow the key
    file: nothing needs a restart. With TRADEWIND_SECRET_KEYS, put the new key first in
    every process's environment yourself (and restart them) before running this.
    """
    with running(ctx) as hub:
        settings = hub.settings
        if not settings.secret_keys and not no_new_key:
            keys = [generate_key(), *read_key_file(settings.key_file)]
            write_key_file(settings.key_file, keys)
            console.print(f"added a new first key {fingerprint(keys[0])} to {settings.key_file}")
        vault = hub.vault  # follows the key file it was built from
        with hub.db.unit_of_work() as session:
            report = rotate_all(session, vault)
        if report.failed:
            fail(
                f"re-encrypted {report.rotated} secret(s); {len(report.failed)} could not be "
                f"decrypted by any key: {', '.join(report.failed)}"
            )
        console.print(
            f"re-encrypted {report.rotated} secret(s) under key {fingerprint(vault.keys[0])}. "
            "Running processes use it by themselves; retire the old key(s) later with "
            "`tradewind keys retire`."
        )


@app.command()
def retire(
    ctx: typer.Context,
    key: list[str] = typer.Option(
        [], "--key", help="Fingerprint of a key to retire (see `keys list`); repeatable."
    ),
) -> None:
    """Remove old keys (every key but the first, or those given) once nothing stored
    needs them. Refuses while a stored secret opens only with a key being retired.
    Sessions signed before the rotation end with their key."""
    with running(ctx) as hub:
        settings = hub.settings
        keys = list(hub.vault.keys)
        named = {fingerprint(candidate): candidate for candidate in keys}
        unknown = [given for given in key if given not in named]
        if unknown:
            fail(f"no key with fingerprint {', '.join(unknown)} (see `tradewind keys list`)")
        retiring = [named[given] for given in key] if key else keys[1:]
        if keys[0] in retiring:
            fail("the first key encrypts and cannot be retired: rotate first")
        if not retiring:
            console.print("only one key: nothing to retire")
            return
        prints = ", ".join(fingerprint(old) for old in retiring)
        with hub.db.read() as session:
            need = needing(session, keys, retiring)
        if need:
            shown = ", ".join(need[:10]) + (" …" if len(need) > 10 else "")
            fail(
                f"{len(need)} stored secret(s) still need key {prints}: {shown}. Re-encrypt "
                "them under the first key with `tradewind keys rotate --no-new-key`, then retire."
            )
        if settings.secret_keys:
            console.print(
                f"nothing stored needs key {prints}: remove it from TRADEWIND_SECRET_KEYS in "
                "every process's environment"
            )
            return
        write_key_file(settings.key_file, [kept for kept in keys if kept not in retiring])
        console.print(f"retired key {prints}; running processes follow {settings.key_file}")
