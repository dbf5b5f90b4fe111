"""An in-process TaxJar sandbox for tests and the CLI: uvicorn in a background thread on
127.0.0.1, plus Python methods mirroring the control API.

    with TaxJarSandbox() as sandbox:
        token = sandbox.create_account().token
        client = taxjar.Client(api_key=token, api_url=sandbox.base_url)
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from tradewind.sandbox.taxjar.app import AccountSpec, Control, RegionSpec, create_app
from tradewind.sandbox.taxjar.faults import Clock, Fault, Faults, RateLimiter
from tradewind.sandbox.taxjar.state import DEFAULT_PER_MINUTE, Account, State

HOST = "127.0.0.1"


class TaxJarSandbox:
    """A running sandbox. ``port`` 0 takes a free one; ``clock`` drives the rate-limit
    windows (tests pass a fake one)."""

    def __init__(self, *, port: int = 0, clock: Clock = time.monotonic) -> None:
        self.state = State()
        self.faults = Faults()
        self.limiter = RateLimiter(clock)
        self.control = Control(self.state, self.faults)
        self.app = create_app(self.state, self.faults, self.limiter)
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> TaxJarSandbox:
        if self._server is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, self._port))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, host=HOST, port=self._port, log_level="warning", access_log=False
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="taxjar-sandbox", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:  # the server thread's readiness, not a timing guess
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the TaxJar sandbox did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> TaxJarSandbox:
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
        """What a TaxJar client uses instead of ``https://api.taxjar.com`` (no ``/v2``)."""
        return f"http://{HOST}:{self._port}"

    # --- the control API, in Python -----------------------------------------------------

    def create_account(
        self,
        token: str | None = None,
        *,
        nexus: list[tuple[str, str]] | None = None,
        per_minute: int = DEFAULT_PER_MINUTE,
    ) -> Account:
        regions = None
        if nexus is not None:
            regions = [RegionSpec(country_code=c, region_code=r) for c, r in nexus]
        return self.control.create_account(
            AccountSpec(token=token, nexus=regions, per_minute=per_minute)
        )

    def set_nexus(self, token: str, nexus: list[tuple[str, str]]) -> None:
        self.state.set_nexus(token, [(c.upper(), r.upper()) for c, r in nexus])

    def revoke(self, token: str) -> bool:
        return self.state.revoke(token)

    def inject_fault(
        self,
        token: str,
        status: int | None,
        *,
        count: int = 1,
        path_contains: str | None = None,
        delay_ms: int = 0,
    ) -> None:
        """The next ``count`` requests answer ``status`` (None: normally), ``delay_ms``
        late."""
        self.faults.add(token, Fault(status, count, path_contains, delay_ms))

    def clear_faults(self, token: str) -> None:
        self.faults.clear(token)
