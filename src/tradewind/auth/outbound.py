"""Checks for outbound URLs a person types (a plugin's base URL, a future webhook
subscription): Tradewind must not be turned into a way to reach the private network it
runs in. Loopback, private, link-local, reserved and multicast addresses are refused, as
are names that always mean this machine or a local network."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from tradewind.errors import Invalid

_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")


def check_outbound_url(url: str, *, field: str = "url", allow_private: bool = False) -> str:
    """``url`` when it is an http(s) URL to a public host; raises ``Invalid`` otherwise.

    Names are not resolved here (a name may resolve differently at connect time), so a
    public name pointing at a private address is the HTTP client's check to make."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        raise Invalid(f"{field}: {url!r} is not a valid URL", fields={field: "invalid"}) from None
    if parts.scheme not in ("http", "https") or not host:
        raise Invalid(
            f"{field}: use an http:// or https:// URL with a host", fields={field: "invalid"}
        )
    if parts.username or parts.password:
        raise Invalid(f"{field}: credentials in a URL are not accepted", fields={field: "invalid"})
    if allow_private:
        return url.strip()
    if _is_private_host(host):
        raise Invalid(
            f"{field}: {host} is a loopback, private or reserved address; Tradewind only "
            "calls public hosts",
            fields={field: "private address"},
        )
    return url.strip()


def _is_private_host(host: str) -> bool:
    name = host.strip("[]").rstrip(".").casefold()
    if name == "localhost" or name.endswith(_LOCAL_SUFFIXES):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        # Integer and hex spellings of an address ("2130706433", "0x7f000001").
        try:
            number = int(name, 0)
        except ValueError:
            return False
        if not 0 <= number < 2**32:
            return False
        address = ipaddress.ip_address(number)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast
