"""Serving a sandbox: its ASGI app on 127.0.0.1 (a port the OS picks when given 0) in a
daemon thread, for tests, demos and ``tradewind sandbox …``. Every sandbox runs this one
way, with uvicorn's h11 protocol (it keeps header names as the client spelled them), over
HTTPS when given a certificate and its key (``ssl_certfile``, ``ssl_keyfile``)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any, Self

import uvicorn

HOST = "127.0.0.1"


class Served:
    def __init__(self, app: Any, *, port: int, name: str, **config: Any) -> None:
        self._app = app
        self._port = port
        self._name = name
        self._config = config
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        scheme = "https" if self._config.get("ssl_certfile") else "http"
        return f"{scheme}://{HOST}:{self._port}"

    def start(self) -> None:
        if self._server is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, self._port))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            host=HOST,
            port=self._port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            http="h11",
            timeout_keep_alive=30,
            **self._config,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=self._name, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:  # uvicorn offers no start event to wait on
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the {self._name} did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None


class Running:
    """What a sandbox's runner shares: started and stopped (or used as a context
    manager) around its ``Served`` app, with its port and base URL."""

    _served: Served

    def start(self) -> Self:
        self._served.start()
        return self

    def stop(self) -> None:
        self._served.stop()

    def __enter__(self) -> Self:
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
        return self._served.port

    @property
    def base_url(self) -> str:
        return self._served.base_url
