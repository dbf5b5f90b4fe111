"""A loopback HTTP listener that records what reached it: the place an outbound request
must never get to unless the policy allows loopback."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reached:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"ok": true}'
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


class Listener:
    """``with Listener() as it:`` serves on 127.0.0.1 (a port the OS picks)."""

    def __init__(self, reply: Callable[[Reached], Reply] | None = None) -> None:
        self.reached: list[Reached] = []
        answer = reply or (lambda _: Reply())
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Reached(self.command, self.path, dict(self.headers.items()), body)
                outer.reached.append(seen)
                out = answer(seen)
                self.send_response(out.status)
                for name, value in out.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(out.body)))
                self.end_headers()
                self.wfile.write(out.body)

            do_GET = do_POST = _serve  # noqa: N815 (http.server's names)

            def log_message(self, *_: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=lambda: self._server.serve_forever(poll_interval=0.05), daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
