"""The sandbox served over HTTPS (``tls=(certificate, key)``), for clients that only ever
call ``https://{shop}.myshopify.com``: its base URL says https, a client that trusts the
certificate's authority is answered, and one that does not is refused."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx2
import pytest

from tests.sandbox.shopify.airbyte.harness import make_certificates
from tradewind.sandbox.shopify import ShopifySandbox

TOKEN = "shpat_tls"


def test_the_sandbox_answers_over_https_with_the_certificate_it_was_given(
    tmp_path: Path,
) -> None:
    made = make_certificates(tmp_path)
    with ShopifySandbox(tls=(made.certificate, made.key)) as sandbox:
        sandbox.create_shop("secure", token=TOKEN)
        assert sandbox.base_url.startswith("https://127.0.0.1:")
        trusting = ssl.create_default_context(cafile=made.authority)
        answer = httpx2.get(
            f"{sandbox.admin_url('2026-10')}/shop.json",
            headers={"X-Shopify-Access-Token": TOKEN},
            verify=trusting,
        )
        assert answer.status_code == 200
        assert answer.json()["shop"]["myshopify_domain"] == "secure.myshopify.com"
        with pytest.raises(httpx2.ConnectError):
            httpx2.get(f"{sandbox.base_url}/admin/api/2026-10/shop.json")  # system CAs only
