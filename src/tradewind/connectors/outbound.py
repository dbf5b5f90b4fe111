"""The outbound address policy: the one rule for every connection Tradewind opens to a URL
a person typed (plugin settings, OAuth endpoints, template and webhook URLs), so that it
cannot be turned into a way into the network it runs in.

* A host is read the way the operating system reads it: an IPv4 address in any spelling
  ``inet_aton`` accepts (``127.1``, ``0x7f.1``, ``2130706433``, ``0177.0.0.1``), an IPv6
  literal, or else a name, which is resolved.
* Every address must be global. Loopback, private, link-local, CGNAT (100.64/10),
  multicast, reserved, unspecified and documentation addresses are refused, and an IPv4
  address carried inside IPv6 (mapped, compatible, NAT64, 6to4, Teredo) is judged as the
  IPv4 address it carries. One refused address refuses the name.
* The connection goes to the address that was checked: the HTTP transport's network
  backend resolves once, checks, and connects to that address (TLS still verifies the
  name, and the Host header is the URL's), so a name cannot be re-pointed between the
  check and the connect (DNS rebinding). Redirects are not followed (``HttpClient``).
* ``allow_loopback`` (``TRADEWIND_ALLOW_SANDBOX_HOSTS``, for sandboxes in the demo and
  tests) opens loopback and nothing else: private networks stay closed.

``resolver`` is the test seam: a test maps names to addresses and never needs DNS.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import ssl
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpcore2
import httpx2

from tradewind.connectors.errors import Unavailable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

# What inet_aton may read as an IPv4 address; anything else is a name.
_NUMERIC_HOST = re.compile(r"[0-9a-fA-FxX.]+")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_COMPATIBLE = ipaddress.IPv6Network("::/96")


class OutboundRefused(Unavailable):
    """A connection the policy will not make. ``reason`` is short, for a form field:
    ``invalid`` (not an http(s) URL with a host) or ``private address``."""

    def __init__(self, message: str, *, reason: str = "private address") -> None:
        super().__init__(message)
        self.reason = reason


class Unresolvable(Unavailable):
    """The name does not resolve (now): nothing can be checked, so nothing connects."""


def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's addresses for ``host``, in its order, once each."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_address(host: str) -> IPAddress | None:
    """``host`` as an IP address when the operating system would read it as one."""
    name = host.strip().strip("[]")
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(name):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return None
    return None


def _carried(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (and routes to), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return []
    carried: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        carried.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        carried.append(address.sixtofour)
    if address.teredo is not None:
        carried.extend(address.teredo)
    if address in _NAT64 or (address in _COMPATIBLE and int(address) > 1):
        carried.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return carried


def _kind(address: IPAddress) -> str | None:
    """What kind of non-public address ``address`` is; ``None`` for a global one."""
    if address.is_loopback:
        return "loopback"
    if address.is_unspecified:
        return "unspecified"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "non-public"  # CGNAT 100.64/10 and the like
    return None


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    allow_loopback: bool = False
    resolver: Resolver = field(default=system_resolver)

    def refusal(self, address: IPAddress) -> str | None:
        """Why ``address`` may not be reached, or ``None`` when it may."""
        carried = _carried(address)
        judged: list[IPAddress] = [*carried] if carried else [address]
        for candidate in judged:
            kind = _kind(candidate)
            if kind is None or (kind == "loopback" and self.allow_loopback):
                continue
            shown = f"{address} (carrying {candidate})" if carried else str(address)
            article = "an" if kind[0] in "aeiou" else "a"
            return f"{shown} is {article} {kind} address"
        return None

    def addresses(self, host: str, port: int) -> list[IPAddress]:
        """The addresses to connect to for ``host``: the literal, or every address the
        name resolves to, each one checked. Raises ``OutboundRefused`` if any is refused,
        ``Unresolvable`` if the name does not resolve."""
        literal = parse_address(host)
        if literal is not None:
            found = [literal]
        else:
            try:
                answers = self.resolver(host, port)
            except (OSError, UnicodeError) as exc:
                raise Unresolvable(f"cannot resolve {host}: {exc}") from None
            found = [address for answer in answers if (address := parse_address(answer))]
            if not found:
                raise Unresolvable(f"cannot resolve {host}: no address")
        for address in found:
            why = self.refusal(address)
            if why is not None:
                hint = (
                    " (loopback is opened for sandboxes by TRADEWIND_ALLOW_SANDBOX_HOSTS)"
                    if "loopback" in why
                    else ""
                )
                raise OutboundRefused(
                    f"refused to connect to {host}: {why}; Tradewind only calls public hosts{hint}"
                )
        return found

    def check_url(self, url: str) -> httpx2.URL:
        """``url`` parsed, when it is an http(s) URL without credentials whose host passes
        the policy. Raises ``OutboundRefused`` (or ``Unresolvable`` for a name that does
        not resolve now: the connection will be checked again when it is made)."""
        try:
            parsed = httpx2.URL(url.strip())
            port = parsed.port
        except (httpx2.InvalidURL, TypeError, ValueError):
            raise OutboundRefused(f"{url!r} is not a valid URL", reason="invalid") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise OutboundRefused("use an http:// or https:// URL with a host", reason="invalid")
        if parsed.userinfo:
            raise OutboundRefused("credentials in a URL are not accepted", reason="invalid")
        if port is not None and not 0 < port < 65536:
            raise OutboundRefused(f"{port} is not a port", reason="invalid")
        self.addresses(parsed.host, port or (443 if parsed.scheme == "https" else 80))
        return parsed

    def transport(
        self, *, limits: httpx2.Limits | None = None, verify: bool = True
    ) -> OutboundTransport:
        return OutboundTransport(self, limits=limits, verify=verify)


class PinnedBackend(httpcore2.NetworkBackend):
    """Resolves once, checks every address, and connects to a checked one."""

    def __init__(self, policy: OutboundPolicy, inner: httpcore2.NetworkBackend | None = None):
        self._policy = policy
        self._inner = inner if inner is not None else httpcore2.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        failure: Exception | None = None
        for address in self._policy.addresses(host, port):
            try:
                return self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
                failure = exc  # try the next checked address
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        raise OutboundRefused("connections to local sockets are refused")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class OutboundTransport(httpx2.HTTPTransport):
    """httpx2's transport over a ``PinnedBackend``, without proxies from the environment
    (a proxy would make the connection, out of the policy's sight)."""

    def __init__(
        self,
        policy: OutboundPolicy,
        *,
        limits: httpx2.Limits | None = None,
        verify: bool = True,
        inner: httpcore2.NetworkBackend | None = None,
    ) -> None:
        # The parent's constructor only builds ``_pool``; this one builds it over the
        # pinned backend instead (``handle_request`` and ``close`` use nothing else).
        limits = limits or httpx2.Limits(max_connections=20, max_keepalive_connections=10)
        self.policy = policy
        self._pool = httpcore2.ConnectionPool(
            ssl_context=_ssl_context(verify),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(policy, inner),
        )


class SharedTransport(httpx2.BaseTransport):
    """One process's connections to the platforms, kept open from one connector to the
    next: a connector is opened for every batch of work and every click, and a pool of
    its own would pay a TCP (and TLS) handshake on every call. A client closed over it
    leaves the connections open for the next; ``shut`` closes them. A pool is never used
    across a fork: a child starts one of its own."""

    def __init__(self, policy: OutboundPolicy, *, limits: httpx2.Limits) -> None:
        self.policy = policy
        self._limits = limits
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._inner = policy.transport(limits=limits)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        return self._current().handle_request(request)

    def _current(self) -> OutboundTransport:
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():  # the parent's sockets are not ours to use
                    self._inner = self.policy.transport(limits=self._limits)
                    self._pid = os.getpid()
        return self._inner

    def close(self) -> None:
        """A client's close: the connections stay for the next client."""

    def shut(self) -> None:
        self._inner.close()


def tls_context() -> ssl.SSLContext:
    """The process's verifying TLS context (for connections made without httpx2)."""
    return _ssl_context(True)


@cache
def _ssl_context(verify: bool) -> ssl.SSLContext:
    """One context per process: loading the CA bundle takes tens of milliseconds, and a
    connector is opened for every batch of work (a context is safe to share)."""
    return httpx2.create_ssl_context(verify=verify, trust_env=False)
