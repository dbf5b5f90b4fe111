"""Shopify's HMAC test vectors: OAuth query strings (hex) and webhook bodies (base64)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tradewind.sandbox.shopify.oauth import host_param, query_hmac, query_message
from tradewind.sandbox.shopify.webhooks import sign

VECTORS = json.loads(
    (Path(__file__).parent / "fixtures" / "vectors" / "hmac_test_vectors.json").read_text()
)


def _id(vector: dict[str, Any]) -> str:
    return str(vector["hmac_hex"])[:12]


@pytest.mark.parametrize("vector", VECTORS["oauth_query_hmac"], ids=_id)
def test_oauth_query_vectors(vector: dict[str, Any]) -> None:
    params = dict(vector["params"], hmac="ignored")
    # The vectors with reserved characters come from the Python library's escaping.
    reserved = any(c in k + v for k, v in vector["params"].items() for c in "&=%")
    style = "python" if reserved else "urlencoded"
    if "message" in vector:
        assert query_message(params, style) == vector["message"]
    assert query_hmac(vector["secret"], params, style) == vector["hmac_hex"]


@pytest.mark.parametrize("vector", VECTORS["webhook_body_hmac"], ids=lambda v: v["secret"])
def test_webhook_body_vectors(vector: dict[str, Any]) -> None:
    body = vector["raw_body_utf8"].encode()
    assert sign(vector["secret"], body) == vector["x_shopify_hmac_sha256"]


def test_callback_values_sign_the_same_in_every_library_style() -> None:
    params = {
        "code": "0907a61c0c8d55e99db179b68161bc00",
        "host": host_param("acme"),
        "shop": "acme.myshopify.com",
        "state": "0.6784241404160823",
        "timestamp": "1337178173",
    }
    assert "=" not in params["host"]
    assert query_message(params, "python") == query_message(params, "urlencoded")
