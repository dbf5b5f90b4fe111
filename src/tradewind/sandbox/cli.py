"""``tradewind sandbox …``: run a sandbox of an external platform until Ctrl-C."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from tradewind.sandbox.easypost.faults import Limits
from tradewind.sandbox.easypost.runner import EasyPostSandbox
from tradewind.sandbox.shippo.faults import Limits as ShippoLimits
from tradewind.sandbox.shippo.runner import ShippoSandbox
from tradewind.sandbox.shipstation import Limits as ShipStationLimits
from tradewind.sandbox.shipstation import ShipStationSandbox
from tradewind.sandbox.shopify.runner import ShopifySandbox, seed_demo
from tradewind.sandbox.shopify.state import Plan
from tradewind.sandbox.shopify.webhooks import LOOPBACK_HOSTS
from tradewind.sandbox.taxjar import TaxJarSandbox

app = typer.Typer(help="Sandboxes of external platforms, for trying and testing a hub.")


@app.callback()
def main() -> None:
    """Sandboxes of external platforms."""


@app.command()
def shopify(
    port: int = typer.Option(8765, help="Port on 127.0.0.1 (0: a free one)."),
    shop: str = typer.Option("sandbox", help="Shop name: NAME.myshopify.com."),
    token: str = typer.Option("shpat_sandbox", help="Admin API token holding every scope."),
    app_key: str = typer.Option("sandbox-app", help="API key (client id) of the OAuth app."),
    app_secret: str = typer.Option(
        "sandbox-secret", help="API secret of the app; signs webhooks and OAuth redirects."
    ),
    plan: Plan = typer.Option(Plan.standard, help="Rate-limit plan of the shop."),
    seed: str | None = typer.Option(None, help="'demo' adds a catalog with stock."),
    orders_per_minute: float = typer.Option(
        0.0, help="Place realistic orders at this rate (0: none)."
    ),
    no_limits: bool = typer.Option(False, "--no-limits", help="Switch rate limits off."),
    auto_approve: bool = typer.Option(False, help="Approve OAuth installs without a page."),
    state_file: Path | None = typer.Option(None, help="SQLite file that keeps state."),
    any_webhook_host: bool = typer.Option(
        False, help="Deliver webhooks to any host, not only to loopback addresses."
    ),
    withhold_customer_data: bool = typer.Option(
        False,
        "--withhold-customer-data",
        help="Behave like a store whose plan withholds customer data from apps: orders "
        "come without the buyer.",
    ),
) -> None:
    """Run a Shopify sandbox with one shop, one app and one token; print its base URL."""
    if seed not in (None, "demo"):
        raise typer.BadParameter("the only seed is 'demo'", param_hint="--seed")
    sandbox = ShopifySandbox(
        port=port,
        limits=not no_limits,
        sqlite_path=state_file,
        auto_approve=auto_approve,
        webhook_hosts=None if any_webhook_host else LOOPBACK_HOSTS,
    )
    sandbox.start()
    try:
        fresh = shop not in sandbox.sandbox.state.shops
        info = sandbox.create_shop(
            shop, token=token, app_key=app_key, app_secret=app_secret, plan=plan
        )
        sandbox.set_plan(info.name, plan)
        sandbox.withhold_customer_data(info.name, withhold_customer_data)
        if seed == "demo" and fresh:
            seed_demo(sandbox, info.name)
        if orders_per_minute > 0:
            sandbox.start_generator(info.name, per_minute=orders_per_minute)
        typer.echo(sandbox.base_url)
        typer.echo(
            f"shop {info.domain}  token {info.token}  app {app_key}  plan {plan.value}",
            err=True,
        )
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


@app.command()
def easypost(
    port: int = typer.Option(8766, help="Port on 127.0.0.1 (0: a free one)."),
    key: str = typer.Option("EZTKsandbox", help="Test API key to create (must start with EZTK)."),
    production_key: str | None = typer.Option(
        None, help="Also create this production key (must start with EZAK)."
    ),
    no_limits: bool = typer.Option(False, "--no-limits", help="Switch the rate limit off."),
    any_webhook_host: bool = typer.Option(
        False, help="Deliver webhooks to any host, not only to loopback addresses."
    ),
) -> None:
    """Run an EasyPost sandbox; print its API base URL and a test key."""
    if not key.startswith("EZTK"):
        raise typer.BadParameter("a test key starts with EZTK", param_hint="--key")
    if production_key is not None and not production_key.startswith("EZAK"):
        raise typer.BadParameter("a production key starts with EZAK", param_hint="--production-key")
    sandbox = EasyPostSandbox(
        port=port,
        limits=Limits(enabled=not no_limits),
        webhook_hosts=None if any_webhook_host else LOOPBACK_HOSTS,
    )
    sandbox.start()
    try:
        sandbox.add_key("test", key)
        if production_key:
            sandbox.add_key("production", production_key)
        typer.echo(sandbox.api_base)
        typer.echo(key)  # a script reads the base URL, then the test key
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


@app.command()
def taxjar(
    port: int = typer.Option(8768, help="Port on 127.0.0.1 (0: a free one)."),
    token: str | None = typer.Option(None, help="API token of the account (default: a new one)."),
    per_minute: int = typer.Option(10_000, min=1, help="Requests a minute the token may make."),
) -> None:
    """Run a TaxJar sandbox with one account; print its base URL, then its token."""
    sandbox = TaxJarSandbox(port=port).start()
    try:
        account = sandbox.create_account(token, per_minute=per_minute)
        typer.echo(sandbox.base_url)
        typer.echo(account.token)
        regions = ", ".join(f"{c}-{r}" for c, r in account.nexus)
        typer.echo(f"nexus {regions}  limit {per_minute}/min", err=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


@app.command()
def shipstation(
    port: int = typer.Option(8769, help="Port on 127.0.0.1 (0: a free one)."),
    key: str | None = typer.Option(None, help="API key of the account (default: a new one)."),
    secret: str | None = typer.Option(None, help="API secret (default: a new one)."),
    per_minute: int = typer.Option(40, min=1, help="Requests a minute the key+secret may make."),
    no_limits: bool = typer.Option(False, "--no-limits", help="Switch the rate limit off."),
    no_manual_store: bool = typer.Option(
        False, "--no-manual-store", help="An account without a Manual Store: labels answer 500."
    ),
    any_webhook_host: bool = typer.Option(
        False, help="Deliver webhooks to any host, not only to loopback addresses."
    ),
) -> None:
    """Run a ShipStation (API V1) sandbox; print its base URL, the API key, the secret."""
    sandbox = ShipStationSandbox(
        port=port,
        limits=ShipStationLimits(per_minute=per_minute, enabled=not no_limits),
        webhook_hosts=None if any_webhook_host else LOOPBACK_HOSTS,
    ).start()
    try:
        api_key, api_secret = sandbox.add_account(key, secret, manual_store=not no_manual_store)
        typer.echo(sandbox.base_url)
        typer.echo(api_key)  # a script reads the base URL, the key, then the secret
        typer.echo(api_secret)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


@app.command()
def shippo(
    port: int = typer.Option(8770, help="Port on 127.0.0.1 (0: a free one)."),
    token: str = typer.Option(
        "shippo_test_sandbox", help="Test token to create (must start with shippo_test_)."
    ),
    no_limits: bool = typer.Option(False, "--no-limits", help="Switch the rate limits off."),
) -> None:
    """Run a Shippo sandbox; print its base URL, then a test token."""
    if not token.startswith("shippo_test_"):
        raise typer.BadParameter("a test token starts with shippo_test_", param_hint="--token")
    sandbox = ShippoSandbox(port=port, limits=ShippoLimits(enabled=not no_limits)).start()
    try:
        sandbox.add_token(True, token)
        typer.echo(sandbox.base_url)
        typer.echo(token)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
