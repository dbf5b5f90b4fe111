"""An endpoint's kept connections (``webhooks.connections``): reused from one delivery and
one drain to the next, never once the server has ended them, and each new one made
through the outbound address policy (resolved, checked, connected to the checked
address; TLS verifying the URL's name)."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests import factories
from tests.webhooks.conftest import Receiver, Reply, subscribe
from tradewind.connectors.outbound import OutboundPolicy, tls_context
from tradewind.hub import Hub
from tradewind.webhooks.connections import Connections
from tradewind.webhooks.dispatch import Dispatcher

BODY = b'{"id":"evt_1"}'
HEADERS = {"content-type": "application/json", "webhook-id": "evt_1"}


class Names:
    """A resolver seam whose answers a test changes; it counts the look-ups."""

    def __init__(self, answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.lookups = 0

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.lookups += 1
        return self.answers


def _port(receiver: Receiver) -> int:
    return int(receiver.server.server_address[1])


def test_deliveries_share_the_endpoints_kept_connection_across_drains(
    hub: Hub, receiver: Receiver
) -> None:
    subscription, _ = subscribe(hub, receiver.url, max_concurrency=1)
    dispatcher = Dispatcher(hub, holder="test")
    with hub.db.unit_of_work() as session:
        for number in range(5):
            factories.product(session, f"KEPT-{number}")
    assert dispatcher.drain(subscription.id) == 5
    with hub.db.unit_of_work() as session:
        factories.product(session, "KEPT-LATER")
    assert dispatcher.drain(subscription.id) == 1
    dispatcher.close()
    assert len(receiver.received) == 6
    assert len({item.peer for item in receiver.received}) == 1  # one connection for all


def test_a_connection_the_server_ended_is_not_used_again(receiver: Receiver) -> None:
    receiver.hang_up = True  # each answer says keep-alive, then the server closes
    connections = Connections(
        OutboundPolicy(allow_loopback=True), receiver.url, keep=1, tls=tls_context
    )
    answers = [connections.post(BODY, HEADERS) for _ in range(3)]
    connections.close()
    assert [answer.status for answer in answers] == [200, 200, 200]
    assert len(receiver.received) == 3
    assert len({item.peer for item in receiver.received}) == 3


def test_an_answer_cut_off_at_64_kib_ends_its_connection(receiver: Receiver) -> None:

    receiver.replies = [Reply(200, body=b"x" * (256 * 1024)), Reply(200)]
    connections = Connections(
        OutboundPolicy(allow_loopback=True), receiver.url, keep=1, tls=tls_context
    )
    first = connections.post(BODY, HEADERS)
    second = connections.post(BODY, HEADERS)
    connections.close()
    assert (first.status, len(first.body), second.status) == (200, 64 * 1024, 200)
    assert len({item.peer for item in receiver.received}) == 2  # the rest was never read


def test_each_new_connection_is_resolved_checked_and_made_to_the_checked_address(
    receiver: Receiver,
) -> None:
    names = Names(["127.0.0.1"])
    policy = OutboundPolicy(allow_loopback=True, resolver=names)
    url = f"http://hooks.test:{_port(receiver)}/hooks?to=erp"
    connections = Connections(policy, url, keep=1, tls=tls_context)
    assert connections.post(BODY, HEADERS).status == 200
    assert connections.post(BODY, HEADERS).status == 200  # kept: not resolved again
    assert names.lookups == 1
    [first, second] = receiver.received
    assert first.headers["host"] == f"hooks.test:{_port(receiver)}"
    assert first.path == "/hooks?to=erp" and first.peer == second.peer
    connections.close()
    names.answers = ["10.0.0.7"]  # the name now points into a private network
    refused = connections.post(BODY, HEADERS)
    assert refused.status is None and refused.error_kind == "refused"
    assert "10.0.0.7" in refused.error and names.lookups == 2
    assert len(receiver.received) == 2  # nothing was sent


def test_a_name_that_does_not_resolve_and_a_closed_port_are_told_apart(
    receiver: Receiver,
) -> None:
    def unknown(host: str, port: int) -> Sequence[str]:
        raise OSError(f"unknown name {host}")

    lost = Connections(
        OutboundPolicy(allow_loopback=True, resolver=unknown),
        "http://gone.test/hooks",
        keep=1,
        tls=tls_context,
    )
    assert lost.post(BODY, HEADERS).error_kind == "dns"
    port = _port(receiver)
    receiver.close()  # nothing listens there any more
    closed = Connections(
        OutboundPolicy(allow_loopback=True), f"http://127.0.0.1:{port}/", keep=1, tls=tls_context
    )
    assert closed.post(BODY, HEADERS).error_kind == "connect"


# --------------------------------------------------------------------------- TLS


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[int, ssl.SSLContext, list[str]]]:
    """An HTTPS server on loopback with a certificate for ``hooks.test`` only; yields its
    port, a client context trusting it, and the Host headers it was sent."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "cert.pem").write_bytes(pem)
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            hosts.append(str(self.headers.get("host")))
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def get_request(self) -> tuple[ssl.SSLSocket, object]:
            sock, address = super().get_request()
            return server_side.wrap_socket(sock, server_side=True), address

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    trusting = ssl.create_default_context(cadata=pem.decode())
    yield int(server.server_address[1]), trusting, hosts
    server.shutdown()
    server.server_close()


def test_tls_verifies_the_urls_name_on_the_checked_address(
    tls_receiver: tuple[int, ssl.SSLContext, list[str]],
) -> None:
    port, trusting, hosts = tls_receiver
    policy = OutboundPolicy(allow_loopback=True, resolver=Names(["127.0.0.1"]))
    url = f"https://hooks.test:{port}/hooks"
    trusted = Connections(policy, url, keep=1, tls=lambda: trusting)
    assert trusted.post(BODY, HEADERS).status == 204
    trusted.close()
    assert hosts == [f"hooks.test:{port}"]
    # The system's trust store does not know the certificate: not sent.
    unknown = Connections(policy, url, keep=1, tls=tls_context).post(BODY, HEADERS)
    assert unknown.error_kind == "connect" and "certificate" in unknown.error.lower()
    # A certificate for another name than the URL's: not sent either.
    other = Connections(
        OutboundPolicy(allow_loopback=True, resolver=Names(["127.0.0.1"])),
        f"https://other.test:{port}/hooks",
        keep=1,
        tls=lambda: trusting,
    ).post(BODY, HEADERS)
    assert other.error_kind == "connect"
    assert hosts == [f"hooks.test:{port}"]
