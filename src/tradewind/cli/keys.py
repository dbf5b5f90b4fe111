"""``tradewind keys``: encryption keys for stored credentials."""

from __future__ import annotations

import typer

from tradewind.cli.common import console, fail, running
from tradewind.vault import Vault, generate_key, read_key_file, rotate_all, write_key_file

app = typer.Typer(help="Encryption keys for stored credentials.", no_args_is_help=True)


@app.command()
def generate() -> None:
    """Print a new Fernet key (for TRADEWIND_SECRET_KEYS)."""
    console.print(generate_key(), highlight=False)


@app.command()
def rotate(ctx: typer.Context) -> None:
    """Re-encrypt every stored secret under the first key.

    With a key file, a new key is generated and put first (old keys stay, so nothing
    becomes unreadable). With TRADEWIND_SECRET_KEYS, put the new key first yourself.
    """
    with running(ctx) as hub:
        settings = hub.settings
        vault = hub.vault
        if not settings.secret_keys:
            keys = [generate_key(), *read_key_file(settings.key_file)]
            write_key_file(settings.key_file, keys)
            vault = Vault(keys)
            console.print(f"added a new first key to {settings.key_file}")
        with hub.db.unit_of_work() as session:
            report = rotate_all(session, vault)
        if report.failed:
            fail(
                f"re-encrypted {report.rotated} secret(s); {len(report.failed)} could not be "
                f"decrypted by any key: {', '.join(report.failed)}"
            )
        console.print(
            f"re-encrypted {report.rotated} secret(s) under the first key; older keys can be "
            "removed once every process has the new one"
        )
