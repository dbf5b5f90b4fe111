"""A real HTTP receiver on an ephemeral loopback port, and helpers to subscribe it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tradewind.hub import Hub
from tradewind.webhooks import service
from tradewind.webhooks.models import WebhookSubscription


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: str
    peer: tuple[str, int] = ("", 0)  # the sender's end of the connection


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"


class Receiver:
    """Records every request and answers from ``replies`` (in order; the last one
    repeats), or from ``answer`` when set (it may block, to play a dead endpoint).
    ``hang_up`` closes each connection after its answer without saying so (a server
    ending kept-alive connections)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.replies: list[Reply] = [Reply()]
        self.answer: Callable[[Received], Reply] | None = None
        self.hang_up = False
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                if len(body) < length:
                    return  # the sender died mid-request (SIGKILL): nothing was delivered
                item = Received(
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body.decode(),
                    (str(self.client_address[0]), int(self.client_address[1])),
                )
                with receiver.arrived:
                    receiver.received.append(item)
                    position = len(receiver.received) - 1
                    receiver.arrived.notify_all()
                if receiver.answer is not None:
                    reply = receiver.answer(item)
                else:
                    reply = receiver.replies[min(position, len(receiver.replies) - 1)]
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                    self.close_connection = self.close_connection or receiver.hang_up
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender went away (killed, or it stopped reading at 64 KiB)

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout=timeout)
            return list(self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def make_receiver() -> Iterator[Callable[[], Receiver]]:
    made: list[Receiver] = []

    def build() -> Receiver:
        made.append(Receiver())
        return made[-1]

    yield build
    for item in made:
        item.close()


def subscribe(hub: Hub, url: str, **fields: object) -> tuple[WebhookSubscription, str]:
    with hub.db.unit_of_work() as session:
        return service.create_subscription(
            session,
            hub.vault,
            service.UrlRules(hub.outbound),
            url=url,
            **fields,  # type: ignore[arg-type]
        )
