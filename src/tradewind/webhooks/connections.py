"""An endpoint's keep-alive HTTP/1.1 connections, each opened through the outbound
address policy: the host is resolved, every address checked (a refused one refuses the
name), and the socket connects to a checked address (TLS still verifies the name; the
Host header is the URL's), so a name cannot be re-pointed between the check and the
connect. That holds for every new connection, a reconnect included.

The standard library's ``http.client`` rather than httpx2: a webhook is one POST of
bytes already signed to one URL, and httpx2's request and response models, its
connection pool and h11 cost about four times the CPU per POST (0.56 ms against 0.15 ms
on the bench machine), which at a thousand deliveries a second is most of a core.
Redirects are never followed (``http.client`` follows none); an answer is read to at
most ``READ_LIMIT`` bytes within ``ANSWER_SECONDS``.

A connection is reused only after its answer was read whole and the server kept it
open; an idle one is dropped after ``IDLE_SECONDS`` or when the server closed it. A
request on a reused connection that the server had closed meanwhile (no answer at all)
is sent once more on a new connection, as browsers and urllib3 do: at worst a repeat
with the same ``webhook-id``, which at-least-once delivery allows.
"""

from __future__ import annotations

import http.client
import os
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable

import httpx2

from tradewind.connectors.outbound import OutboundPolicy, OutboundRefused, Unresolvable
from tradewind.webhooks.attempts import ANSWER_SECONDS, READ_LIMIT, Answer, header_map

CONNECT_SECONDS = 5.0
READ_SECONDS = 15.0  # the longest wait for any one read of the answer
IDLE_SECONDS = 5.0  # an idle connection older than this is closed, not reused
# What a server closing a kept-alive connection before answering looks like.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class _ConnectFailed(Exception):
    """No checked address of the host took the connection."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error) or type(error).__name__)
        self.error = error


def _connect(policy: OutboundPolicy, host: str, port: int) -> socket.socket:
    """A socket connected to an address of ``host`` the policy checked."""
    failure: OSError | None = None
    for address in policy.addresses(host, port):
        try:
            sock = socket.create_connection((str(address), port), timeout=CONNECT_SECONDS)
        except OSError as exc:
            failure = exc  # try the next checked address
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(READ_SECONDS)
        return sock
    assert failure is not None  # ``addresses`` returns at least one or raises
    raise _ConnectFailed(failure)


class _Plain(http.client.HTTPConnection):
    def __init__(self, policy: OutboundPolicy, host: str, port: int) -> None:
        super().__init__(host, port, timeout=READ_SECONDS)
        self._policy = policy

    def connect(self) -> None:
        self.sock = _connect(self._policy, self.host, self.port)


class _Secure(http.client.HTTPSConnection):
    def __init__(
        self, policy: OutboundPolicy, host: str, port: int, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=READ_SECONDS, context=context)
        self._policy = policy
        self._tls = context

    def connect(self) -> None:
        sock = _connect(self._policy, self.host, self.port)
        try:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except ssl.SSLError as exc:  # a handshake refused, a certificate not verified
            sock.close()
            raise _ConnectFailed(exc) from None
        except BaseException:
            sock.close()
            raise


class Connections:
    """Keep-alive connections to one endpoint URL: ``post`` takes an idle one (or opens
    one) and puts it back after a whole answer. At most ``keep`` stay idle (the
    endpoint's concurrency: no more are ever in use at once)."""

    def __init__(
        self,
        policy: OutboundPolicy,
        url: str,
        *,
        keep: int,
        tls: Callable[[], ssl.SSLContext],
    ) -> None:
        parsed = httpx2.URL(url)
        self.secure = parsed.scheme == "https"
        self.host = parsed.raw_host.decode("ascii")
        self.port = parsed.port or (443 if self.secure else 80)
        self.target = parsed.raw_path.decode("ascii") or "/"
        self._policy = policy
        self._keep = keep
        self._tls = tls
        self._idle: list[tuple[http.client.HTTPConnection, float]] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def post(self, body: bytes, headers: dict[str, str]) -> Answer:
        """POST ``body``; the answer with at most ``READ_LIMIT`` bytes of its body read,
        or the kind of error that stopped it."""
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        connection, reused = self._take()
        try:
            try:
                response = self._request(connection, body, headers)
            except _STALE:
                if not reused:
                    raise
                connection.close()  # closed by the server while idle: once more, anew
                connection, reused = self._open(), False
                response = self._request(connection, body, headers)
            chunks: list[bytes] = []
            size = 0
            while size < READ_LIMIT:
                chunk = response.read1(READ_LIMIT - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if time.monotonic() - started > ANSWER_SECONDS:
                    connection.close()
                    return Answer(
                        error_kind="timeout",
                        error=f"the answer took longer than {ANSWER_SECONDS:.0f} s",
                        duration_ms=took(),
                    )
            if size < READ_LIMIT and not response.isclosed():
                response.read()  # the end was reached: this marks the answer read whole
            answer = Answer(
                status=response.status,
                headers=header_map(response.getheaders()),
                body=b"".join(chunks),
                duration_ms=took(),
            )
            if response.isclosed() and not response.will_close:
                self._put_back(connection)
            else:
                connection.close()  # unread rest (past 64 KiB), or the server closes it
            return answer
        except BaseException as exc:
            connection.close()
            if isinstance(exc, Exception):
                return _failure(exc, took())
            raise

    def _request(
        self, connection: http.client.HTTPConnection, body: bytes, headers: dict[str, str]
    ) -> http.client.HTTPResponse:
        connection.request("POST", self.target, body, headers)
        return connection.getresponse()

    def _take(self) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection still open (and whether it is one), or a new one."""
        now = time.monotonic()
        with self._lock:
            if self._pid != os.getpid():  # the parent's sockets are not ours to use
                self._idle.clear()
                self._pid = os.getpid()
            while self._idle:
                connection, since = self._idle.pop()
                if now - since < IDLE_SECONDS and _still_open(connection):
                    return connection, True
                connection.close()
        return self._open(), False

    def _open(self) -> http.client.HTTPConnection:
        """A connection not yet made: it is made (through the policy) on its request."""
        if self.secure:
            return _Secure(self._policy, self.host, self.port, self._tls())
        return _Plain(self._policy, self.host, self.port)

    def _put_back(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append((connection, time.monotonic()))
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection, _ in idle:
            connection.close()


def _still_open(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle connection can take a request: readable while idle means the
    server closed it (or sent what nobody asked for)."""
    sock = connection.sock
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _failure(exc: Exception, duration_ms: int) -> Answer:
    """The answer of an attempt that got none: its error's kind."""
    if isinstance(exc, _ConnectFailed):
        kind = "timeout" if isinstance(exc.error, TimeoutError) else "connect"
        return Answer(error_kind=kind, error=f"cannot connect: {exc}", duration_ms=duration_ms)
    if isinstance(exc, OutboundRefused):
        return Answer(error_kind="refused", error=str(exc), duration_ms=duration_ms)
    if isinstance(exc, Unresolvable):
        return Answer(error_kind="dns", error=str(exc), duration_ms=duration_ms)
    if isinstance(exc, TimeoutError):
        return Answer(error_kind="timeout", error="timed out", duration_ms=duration_ms)
    text = str(exc) or type(exc).__name__
    return Answer(error_kind="network", error=text, duration_ms=duration_ms)
