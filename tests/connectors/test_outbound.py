"""The outbound address policy: one rule for every URL Tradewind connects to. Names are
resolved through a test resolver; no request leaves 127.0.0.0/8."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterable, Sequence
from typing import Any

import httpcore2
import pytest

from tests.connectors.listener import Listener, Reached, Reply
from tradewind.connectors import (
    HttpClient,
    OutboundPolicy,
    OutboundRefused,
    Unavailable,
    Unresolvable,
)
from tradewind.connectors.outbound import OutboundTransport, parse_address

PUBLIC = "93.184.216.34"  # never connected to: only ever handed to a recording backend


class Names:
    """A resolver seam: a fixed table of names, and a count of look-ups."""

    def __init__(self, table: dict[str, Sequence[str]]) -> None:
        self.table = table
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.lookups.append(host)
        if host not in self.table:
            raise OSError(f"unknown name {host}")
        return self.table[host]


NAMES = Names(
    {
        "loopback.test": ["127.0.0.1"],
        "localhost": ["127.0.0.1", "::1"],
        "private.test": ["10.1.2.3"],
        "mixed.test": [PUBLIC, "192.168.1.20"],
        "metadata.test": ["169.254.169.254"],
        "shop.test": [PUBLIC],
        "v6.test": ["2606:4700::1111"],
    }
)
STRICT = OutboundPolicy(resolver=NAMES)
SANDBOX = OutboundPolicy(allow_loopback=True, resolver=NAMES)

# Every spelling below reaches a non-public address when the OS resolver reads it.
REFUSED = [
    "127.0.0.1",
    "127.1",
    "0x7f.1",
    "0x7f000001",
    "2130706433",
    "0177.0.0.1",
    "017700000001",
    "10.1",
    "10.0.0.8",
    "172.16.5.4",
    "192.168.0.1",
    "0xc0.0xa8.1.1",
    "169.254.43518",
    "169.254.169.254",
    "100.64.0.1",  # CGNAT
    "0.0.0.0",  # noqa: S104 (refused, not bound)
    "0",
    "224.0.0.251",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.10",
    "::1",
    "[::1]",
    "::",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::127.0.0.1",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "loopback.test",
    "localhost",
    "private.test",
    "mixed.test",  # one private answer refuses the name
    "metadata.test",
]


@pytest.mark.parametrize("host", REFUSED)
def test_every_spelling_of_a_non_public_address_is_refused(host: str) -> None:
    with pytest.raises(OutboundRefused):
        STRICT.addresses(host, 80)


@pytest.mark.parametrize(
    ("spelling", "address"),
    [
        ("127.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.01", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("169.254.43518", "169.254.169.254"),
        ("0xc0.0xa8.1.1", "192.168.1.1"),
        ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"),
        ("cafe", None),
        ("face.cafe", None),
        ("shop.test", None),
    ],
)
def test_hosts_are_read_as_the_os_resolver_reads_them(spelling: str, address: str | None) -> None:
    expected = ipaddress.ip_address(address) if address else None
    assert parse_address(spelling) == expected


def test_public_hosts_pass() -> None:
    assert STRICT.addresses("shop.test", 443) == [ipaddress.ip_address(PUBLIC)]
    assert STRICT.addresses("v6.test", 443) == [ipaddress.ip_address("2606:4700::1111")]
    assert STRICT.addresses("8.8.8.8", 53) == [ipaddress.ip_address("8.8.8.8")]
    assert STRICT.check_url("https://shop.test/admin").host == "shop.test"


@pytest.mark.parametrize("host", ["127.1", "0x7f.1", "::1", "loopback.test", "localhost"])
def test_sandbox_hosts_open_loopback(host: str) -> None:
    assert all(address.is_loopback for address in SANDBOX.addresses(host, 80))


@pytest.mark.parametrize(
    "host",
    ["10.1", "192.168.0.1", "169.254.43518", "100.64.0.1", "0.0.0.0", "fe80::1", "private.test"],  # noqa: S104
)
def test_sandbox_hosts_open_loopback_only(host: str) -> None:
    with pytest.raises(OutboundRefused):
        SANDBOX.addresses(host, 80)


@pytest.mark.parametrize(
    "url",
    ["ftp://shop.test/", "http://user:pw@shop.test/", "not a url", "http://shop.test:99999/"],
)
def test_only_http_urls_with_a_host_and_no_credentials(url: str) -> None:
    with pytest.raises(OutboundRefused) as refused:
        STRICT.check_url(url)
    assert refused.value.reason == "invalid"


def test_a_name_that_does_not_resolve_is_unresolvable() -> None:
    with pytest.raises(Unresolvable):
        STRICT.check_url("https://nowhere.test/")


# ------------------------------------------------------------------- real connections


def client(url: str, policy: OutboundPolicy, **kwargs: Any) -> HttpClient:
    return HttpClient(url, outbound=policy, **kwargs)


@pytest.mark.parametrize("host", ["127.1", "0x7f.1", "2130706433", "loopback.test", "[::1]"])
def test_the_client_never_connects_to_a_refused_address(host: str) -> None:
    with Listener(lambda _: Reply(body=b"listener-secret")) as listener:
        http = client(f"http://{host}:{listener.port}", STRICT)
        with pytest.raises(OutboundRefused) as refused:
            http.request("GET", "/", operation="probe")
        http.close()
        assert listener.reached == []
        assert "listener-secret" not in str(refused.value)


def test_sandbox_hosts_reach_loopback_with_the_urls_host_header() -> None:
    names = Names({"shop.test": ["127.0.0.1"]})
    with Listener() as listener:
        http = client(
            f"http://shop.test:{listener.port}", OutboundPolicy(allow_loopback=True, resolver=names)
        )
        assert http.request("GET", "/x", operation="probe").json() == {"ok": True}
        http.close()
    assert [seen.headers["Host"] for seen in listener.reached] == [f"shop.test:{listener.port}"]


def test_the_connection_goes_to_the_address_that_was_checked() -> None:
    """A name re-pointed after the check (DNS rebinding) is never looked up again."""

    class Rebinding:
        def __init__(self) -> None:
            self.answers = [["127.0.0.1"], ["10.0.0.1"]]
            self.lookups = 0

        def __call__(self, host: str, port: int) -> Sequence[str]:
            self.lookups += 1
            return self.answers.pop(0) if self.answers else ["10.0.0.1"]

    resolver = Rebinding()
    with Listener() as listener:
        http = client(
            f"http://rebind.test:{listener.port}",
            OutboundPolicy(allow_loopback=True, resolver=resolver),
        )
        http.request("GET", "/", operation="probe")
        http.close()
    assert resolver.lookups == 1
    assert len(listener.reached) == 1


class _Stop(httpcore2.NetworkStream):
    """Records the TLS name asked for, then ends the connection (nothing is sent)."""

    def __init__(self, seen: list[tuple[str, Any]]) -> None:
        self.seen = seen

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore2.NetworkStream:
        self.seen.append(("tls", server_hostname))
        raise httpcore2.ConnectError("stopped before any byte was sent")

    def close(self) -> None:
        return None


class _Recording(httpcore2.NetworkBackend):
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        self.seen.append(("connect", (host, port)))
        return _Stop(self.seen)


def test_tls_keeps_the_name_while_connecting_to_the_checked_address() -> None:
    inner = _Recording()
    names = Names({"shop.test": [PUBLIC]})
    transport = OutboundTransport(OutboundPolicy(resolver=names), inner=inner)
    http = HttpClient("https://shop.test", transport=transport)
    with pytest.raises(Unavailable):
        http.request("GET", "/", operation="probe")
    http.close()
    assert inner.seen == [("connect", (PUBLIC, 443)), ("tls", "shop.test")]
    assert names.lookups == ["shop.test"]


def test_redirects_are_not_followed() -> None:
    with Listener() as target:
        moved = Reply(status=302, body=b"", headers={"Location": f"{target.url}/elsewhere"})
        with Listener(lambda _: moved) as first:
            http = client(first.url, SANDBOX)
            with pytest.raises(Unavailable):
                http.request("GET", "/", operation="probe")
            http.close()
        assert target.reached == []


def test_a_failed_reply_is_not_echoed_but_a_platform_error_field_is() -> None:
    html = Reply(status=500, body=b"<html>internal-dashboard</html>", headers={})
    with Listener(lambda _: html) as listener:
        http = client(listener.url, SANDBOX)
        with pytest.raises(Unavailable) as failed:
            http.request("GET", "/", operation="probe")
        http.close()
    assert "internal-dashboard" not in str(failed.value)
    assert str(failed.value) == "probe: HTTP 500"
    unknown = Reply(status=404, body=b'{"rows": ["internal-row"]}')
    with Listener(lambda _: unknown) as listener:
        http = client(listener.url, SANDBOX)
        with pytest.raises(Exception) as refused:
            http.request("GET", "/", operation="probe")
        http.close()
    assert "internal-row" not in str(refused.value)
    said = Reply(status=422, body=b'{"errors": "title can\'t be blank"}')
    with Listener(lambda _: said) as listener:
        http = client(listener.url, SANDBOX)
        with pytest.raises(Exception) as rejected:
            http.request("GET", "/", operation="probe")
        http.close()
    assert "title can't be blank" in str(rejected.value)


def test_an_environment_proxy_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy would make the connection out of the policy's sight."""
    with Listener() as proxy, Listener() as target:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("ALL_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        http = client(target.url, SANDBOX)
        http.request("GET", "/", operation="probe")
        http.close()
    assert proxy.reached == [] and len(target.reached) == 1


def test_without_a_policy_the_client_calls_public_hosts_only() -> None:
    with Listener() as listener:
        http = HttpClient(listener.url)  # no transport, no policy: the strict default
        with pytest.raises(OutboundRefused):
            http.request("GET", "/", operation="probe")
        http.close()
    assert listener.reached == []


def test_reached_is_recorded() -> None:  # the listener itself records what reaches it
    with Listener() as listener:
        http = client(listener.url, SANDBOX)
        http.request("POST", "/p", operation="probe", json_body={"a": 1})
        http.close()
    assert [(seen.method, seen.path) for seen in listener.reached] == [("POST", "/p")]
    assert isinstance(listener.reached[0], Reached)
