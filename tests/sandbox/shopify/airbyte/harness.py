"""Airbyte's official Shopify source, unmodified, pointed at the sandbox.

The source only ever calls ``https://{shop}.myshopify.com/admin/...`` and checks the
certificate, so nothing in it is changed; instead its process is given what a network
would give it:

- its own venv (``var/airbyte/``), installed from the pinned ``requirements.txt`` beside
  this file, skipped while the venv matches it (``pip install`` only then; serialized
  across processes);
- a throwaway certificate authority and a ``*.myshopify.com`` certificate made here with
  ``cryptography``, the sandbox served over HTTPS with that certificate, and the authority
  handed to the source as ``REQUESTS_CA_BUNDLE`` / ``SSL_CERT_FILE``;
- ``HTTPS_PROXY`` (honoured by requests): a small CONNECT proxy on 127.0.0.1 that tunnels
  ``*.myshopify.com:443`` to the sandbox's port and refuses anything else, so no request
  of the source can leave the machine.

The source's ``read`` writes Airbyte protocol messages, one JSON object a line, on stdout.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from filelock import FileLock

HERE = Path(__file__).parent
REQUIREMENTS = HERE / "requirements.txt"
ROOT = HERE.parents[3]
VENVS = ROOT / "var" / "airbyte"
IN_CI = os.environ.get("CI", "").lower() == "true"
INSTALL_TIMEOUT = 900.0


class SourceUnavailable(RuntimeError):
    pass


def unavailable(reason: str) -> None:
    """Skip locally with the reason; in CI, where PyPI can be reached, fail."""
    if IN_CI:
        pytest.fail(f"the Airbyte source cannot be installed: {reason}", pytrace=False)
    pytest.skip(f"the Airbyte source cannot be installed: {reason}")


# ------------------------------------------------------------------------------ install


def ensure_source() -> Path:
    """The ``source-shopify`` entry point of a venv holding exactly ``requirements.txt``
    (made with this Python), installed when missing."""
    pins = REQUIREMENTS.read_bytes() + sys.version.encode()  # a new Python: a new venv
    digest = hashlib.sha256(pins).hexdigest()[:16]
    venv = VENVS / f"source-shopify-{digest}"
    marker = venv / ".tradewind-installed"
    entry = venv / "bin" / "source-shopify"
    VENVS.mkdir(parents=True, exist_ok=True)
    with FileLock(str(VENVS / ".install.lock"), timeout=INSTALL_TIMEOUT):
        if marker.exists() and entry.exists():
            return entry
        for stale in VENVS.glob("source-shopify-*"):  # made from pins no longer wanted
            if stale != venv:
                shutil.rmtree(stale, ignore_errors=True)
        made = subprocess.run(
            [sys.executable, "-m", "venv", "--clear", str(venv)],
            capture_output=True,
            text=True,
            check=False,
        )
        if made.returncode != 0:
            raise SourceUnavailable(f"python -m venv failed:\n{made.stderr[-2000:]}")
        installed = subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "-r",
                str(REQUIREMENTS),
            ],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
        if installed.returncode != 0 or not entry.exists():
            raise SourceUnavailable(f"pip install failed:\n{installed.stderr[-3000:]}")
        marker.write_text(digest)
    return entry


# ---------------------------------------------------------------------------------- TLS


@dataclass(frozen=True)
class Certificates:
    authority: Path  # the CA certificate the source trusts
    certificate: Path  # the sandbox's certificate, for *.myshopify.com
    key: Path


def make_certificates(directory: Path) -> Certificates:
    """A CA made for this run and a server certificate it signed, valid for an hour."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tradewind test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("*.myshopify.com"), x509.DNSName("myshopify.com")]
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "*.myshopify.com")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [*names, x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    made = Certificates(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    made.authority.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    made.certificate.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    made.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return made


# -------------------------------------------------------------------------------- proxy


@dataclass
class TunnelProxy:
    """An HTTP proxy that only tunnels (CONNECT) ``*.myshopify.com:443`` to one port on
    127.0.0.1; every other request is answered 403 and recorded in ``refused``."""

    target_port: int
    tunnels: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name="CONNECT proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:  # closed by stop()
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 16_384:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            method, _, rest = request_line.partition(" ")
            authority = rest.split(" ", 1)[0]
            host, _, port = authority.rpartition(":")
            if method != "CONNECT" or port != "443" or not host.endswith(".myshopify.com"):
                with self._lock:
                    self.refused.append(request_line)
                client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            with self._lock:
                self.tunnels.append(authority)
            with socket.create_connection(("127.0.0.1", self.target_port)) as upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                upstream.sendall(head.split(b"\r\n\r\n", 1)[1])
                back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
                back.start()
                _pump(client, upstream)
                back.join()

    def stop(self) -> None:
        self._listener.close()
        self._thread.join(timeout=5)


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65_536):
            sink.sendall(chunk)
    except OSError:
        pass
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


# ------------------------------------------------------------------------------ running


@dataclass(frozen=True)
class Run:
    messages: list[dict[str, Any]]
    stderr: str
    returncode: int

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [
            m["record"]["data"]
            for m in self.messages
            if m["type"] == "RECORD" and m["record"]["stream"] == stream
        ]

    def errors(self) -> list[dict[str, Any]]:
        return [
            m["trace"]["error"]
            for m in self.messages
            if m["type"] == "TRACE" and m["trace"].get("type") == "ERROR"
        ]

    def statuses(self) -> dict[str, list[str]]:
        """Each stream's status trace messages in order (STARTED, RUNNING, COMPLETE…)."""
        seen: dict[str, list[str]] = {}
        for m in self.messages:
            if m["type"] == "TRACE" and m["trace"].get("type") == "STREAM_STATUS":
                status = m["trace"]["stream_status"]
                name = status["stream_descriptor"]["name"]
                seen.setdefault(name, []).append(status["status"])
        return seen

    def explain(self) -> str:
        logs = [m["log"]["message"] for m in self.messages if m["type"] == "LOG"]
        return "\n".join([*logs[-40:], self.stderr[-3000:]])


@dataclass
class AirbyteSource:
    """How to run the installed source against a sandbox behind ``proxy``."""

    entry: Path
    certificates: Certificates
    proxy: TunnelProxy
    workdir: Path

    def environment(self) -> dict[str, str]:
        home = self.workdir / "home"
        home.mkdir(exist_ok=True)
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ")}
        return keep | {
            "HOME": str(home),
            "TMPDIR": str(self.workdir),
            "HTTPS_PROXY": self.proxy.url,
            "HTTP_PROXY": self.proxy.url,  # nothing goes out unproxied: the proxy refuses it
            "NO_PROXY": "",
            "REQUESTS_CA_BUNDLE": str(self.certificates.authority),
            "SSL_CERT_FILE": str(self.certificates.authority),
        }

    def command(self, *args: str, timeout: float = 600.0) -> Run:
        done = subprocess.run(
            [str(self.entry), *args],
            cwd=self.workdir,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        messages = []
        for line in done.stdout.splitlines():
            if line.startswith("{"):
                messages.append(json.loads(line))
        return Run(messages, done.stderr, done.returncode)

    def write(self, name: str, document: Any) -> str:
        path = self.workdir / name
        path.write_text(json.dumps(document))
        return str(path)

    def discover(self, config: dict[str, Any]) -> dict[str, Any]:
        run = self.command("discover", "--config", self.write("config.json", config))
        catalogs = [m["catalog"] for m in run.messages if m["type"] == "CATALOG"]
        assert catalogs, run.explain()
        catalog: dict[str, Any] = catalogs[0]
        return catalog

    def read(self, config: dict[str, Any], streams: Iterable[str]) -> Run:
        wanted = set(streams)
        discovered = self.discover(config)
        configured = {
            "streams": [
                {
                    "stream": stream,
                    "sync_mode": "full_refresh",
                    "destination_sync_mode": "overwrite",
                }
                for stream in discovered["streams"]
                if stream["name"] in wanted
            ]
        }
        assert {s["stream"]["name"] for s in configured["streams"]} == wanted, discovered
        return self.command(
            "read",
            "--config",
            self.write("config.json", config),
            "--catalog",
            self.write("catalog.json", configured),
        )
