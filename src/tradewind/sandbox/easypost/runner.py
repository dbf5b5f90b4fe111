"""An in-process EasyPost sandbox for tests and demos: uvicorn in a background thread on
127.0.0.1, plus Python methods mirroring the control API.

    with EasyPostSandbox(time_scale=1000) as sandbox:
        key = sandbox.add_key()                       # EZTK…, test mode
        client = easypost.EasyPostClient(key, api_base=sandbox.api_base)
        shipment = client.shipment.create(to_address=…, from_address=…, parcel=…)
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

import uvicorn

from tradewind.sandbox.easypost.app import create_app
from tradewind.sandbox.easypost.control import labels
from tradewind.sandbox.easypost.core import Options, Sandbox
from tradewind.sandbox.easypost.faults import Fault, FaultKind, Limits
from tradewind.sandbox.easypost.state import Doc
from tradewind.sandbox.easypost.webhooks import LOOPBACK_HOSTS, Delivery

HOST = "127.0.0.1"


class EasyPostSandbox:
    """A running sandbox. Options: ``port`` (0: a free one), ``limits`` (the rate limit;
    ``Limits(enabled=False)`` for benchmarks), ``time_scale`` (webhook retry delays are
    divided by it), ``webhook_hosts`` (hosts deliveries may go to; None: any), ``clock``
    (seconds, drives the rate-limit windows)."""

    def __init__(
        self,
        *,
        port: int = 0,
        limits: Limits | None = None,
        time_scale: float = 1.0,
        webhook_hosts: frozenset[str] | None = LOOPBACK_HOSTS,
        clock: Callable[[], float] | None = None,
    ) -> None:
        options = Options(
            limits=limits or Limits(), time_scale=time_scale, webhook_hosts=webhook_hosts
        )
        self.sandbox = Sandbox(options, clock)
        self.app = create_app(self.sandbox)
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> EasyPostSandbox:
        if self._server is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, self._port))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            host=HOST,
            port=self._port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            http="h11",
            timeout_keep_alive=30,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="easypost-sandbox", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:  # uvicorn offers no start event to wait on
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the EasyPost sandbox did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> EasyPostSandbox:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self._port}"

    @property
    def api_base(self) -> str:
        """What a client uses instead of ``https://api.easypost.com/v2``."""
        return f"{self.base_url}/v2"

    # --- keys, labels, trackers ---------------------------------------------------------

    def add_key(self, mode: str = "test", key: str | None = None) -> str:
        with self.sandbox.state.lock:
            return self.sandbox.state.add_key(mode, key).key

    def revoke_key(self, key: str) -> bool:
        with self.sandbox.state.lock:
            return self.sandbox.state.revoke(key)

    def labels(self, key: str | None = None) -> dict[str, int]:
        """``{"bought": n, "refunded": m}`` for one key, or summed over every key."""
        return labels(self.sandbox, key)

    def advance_tracker(self, tracker_id: str, to: str | None = None) -> Doc:
        return self.sandbox.advance_tracker(tracker_id, to, self.base_url)

    # --- faults and webhooks ------------------------------------------------------------

    def inject_fault(
        self,
        kind: FaultKind | str,
        *,
        count: int | None = 1,
        status: int = 500,
        latency_ms: int = 0,
        path_contains: str | None = None,
        key: str | None = None,
        after: bool = False,
    ) -> None:
        self.sandbox.faults.add(
            Fault(FaultKind(kind), count, status, latency_ms, path_contains, key, after)
        )

    def clear_faults(self) -> None:
        self.sandbox.faults.clear()

    def deliveries(self) -> list[Delivery]:
        return self.sandbox.webhooks.recent()

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        """Block until every delivery has succeeded or given up."""
        return self.sandbox.webhooks.wait_idle(timeout)
