"""``tradewind run`` and ``tradewind worker``: the long-running processes."""

from __future__ import annotations

import typer
import uvicorn
from starlette.types import ASGIApp

from tradewind import migrations
from tradewind.app import actions
from tradewind.cli.common import console, environment_hub, running, state_of
from tradewind.demo import ADMIN, SHOP, DemoReport, prepare, start_sandbox, start_services
from tradewind.hub import Hub
from tradewind.logs import configure_logging
from tradewind.server import create_app
from tradewind.settings import load_settings
from tradewind.sync.worker import Engine


def run(
    ctx: typer.Context,
    host: str = typer.Option(None, help="Default: TRADEWIND_HOST (127.0.0.1)."),
    port: int = typer.Option(None, help="Default: TRADEWIND_PORT (8000)."),
    worker: bool = typer.Option(
        True, "--worker/--no-worker", help="Also run the sync engine in this process."
    ),
) -> None:
    """API, UI and (by default) the sync engine in one process: the embedded mode. The
    platforms are told to call back at --host/--port unless TRADEWIND_BASE_URL says
    otherwise."""
    state = state_of(ctx)
    if state.hub_factory is None:
        state.hub_factory = lambda: environment_hub(**_address(host, port))
    with running(ctx) as hub:
        configure_logging(hub.settings)
        migrations.upgrade(hub.db.engine)
        _serve(hub, host or hub.settings.host, port or hub.settings.port, worker=worker)


def demo(
    ctx: typer.Context,
    host: str = typer.Option(None, help="Default: TRADEWIND_HOST (127.0.0.1)."),
    port: int = typer.Option(None, help="Default: TRADEWIND_PORT (8000)."),
    orders_per_minute: float = typer.Option(
        6.0, min=0, help="How many orders the sandbox store's customers place a minute."
    ),
) -> None:
    """`tradewind run` with a sandbox Shopify store already connected: products in two
    warehouses, historical orders backfilled, new orders arriving by webhook."""
    state = state_of(ctx)
    if state.hub_factory is None:
        state.hub_factory = lambda: _demo_hub(host, port)
    with running(ctx) as hub:
        configure_logging(hub.settings)
        migrations.upgrade(hub.db.engine)
        sandbox = start_sandbox(hub)
        services = start_services()
        try:
            report = prepare(hub, sandbox, services)
            if orders_per_minute > 0:
                sandbox.start_generator(SHOP, per_minute=orders_per_minute)
            address = f"http://{host or hub.settings.host}:{port or hub.settings.port}"
            _banner(address, report, sandbox.base_url)
            _serve(hub, host or hub.settings.host, port or hub.settings.port, worker=True)
        finally:
            services.stop()
            sandbox.stop()


def _address(host: str | None, port: int | None) -> dict[str, object]:
    """``--host``/``--port`` as settings: the public address (``base_url``) follows them
    unless TRADEWIND_BASE_URL is set (``Settings``)."""
    given = {"host": host, "port": port}
    return {name: value for name, value in given.items() if value}


def _demo_hub(host: str | None, port: int | None) -> Hub:
    """The environment's settings at ``--host``/``--port``, the sandbox's loopback
    address allowed."""
    settings = load_settings(allow_sandbox_hosts=True, **_address(host, port))
    return Hub(settings, announce=lambda message: console.print(message))


def _banner(address: str, report: DemoReport, sandbox_url: str) -> None:
    console.print(f"\nTradewind demo: open {address}")
    if report.admin_password is not None:
        console.print(
            f"  sign in as [bold]{ADMIN}[/bold] with password [bold]{report.admin_password}"
            "[/bold]\n  (shown this once; change it with `tradewind user password admin`)"
        )
    else:
        console.print(
            "  sign in with your user (`tradewind user list`; reset a password with "
            "`tradewind user password NAME`)"
        )
    console.print(
        f"  the demo Shopify store ({SHOP}.myshopify.com) is served by the sandbox at "
        f"{sandbox_url}; its orders flow in by webhook, Tradewind's stock flows back\n"
    )


def _serve(hub: Hub, host: str, port: int, *, worker: bool) -> None:
    engine = Engine(hub)
    actions.check_webhooks(hub)  # this process answers the hooks: at this address now
    app = create_app(hub, engine=engine, run_engine=worker)
    console.print(f"Tradewind on http://{host}:{port} (engine {'on' if worker else 'off'})")
    uvicorn.Server(server_config(app, host, port)).run()


def server_config(app: ASGIApp, host: str, port: int) -> uvicorn.Config:
    """How uvicorn serves the app. Its proxy handling stays off: by default it believes
    X-Forwarded-For from loopback, which let anyone on this machine (or a local proxy
    passing the header through) pose as any client; the app decides the client itself,
    trusting only TRADEWIND_TRUSTED_PROXIES."""
    return uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=False)


def worker(
    ctx: typer.Context,
    threads: int = typer.Option(None, help="Worker threads (default TRADEWIND_WORKERS)."),
) -> None:
    """A sync worker: drains due work from the queue (run as many as you like)."""
    with running(ctx) as hub:
        configure_logging(hub.settings)
        engine = Engine(hub)
        console.print(f"worker {engine.holder} on {hub.settings.resolved_queue_url}")
        engine.run_worker(workers=threads)
