"""Signatures are the Standard Webhooks scheme: the spec's test vector signs identically,
a rotation's two signatures each verify, and the library verifies what we send."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from tradewind.webhooks import signing

FIXTURES = Path("/work/shared/reference/wave2_fixtures/standard_webhooks")
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = '{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
CURRENT = "whsec_dHJhZGV3aW5kLXJvdGF0aW9uLXRlc3Qta2V5LTMyYnk="
ROTATION_ID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
ROTATION_TS = 1767225600
ROTATION_BODY = (
    '{"type":"contact.created","timestamp":"2022-11-03T20:26:10.344522Z",'
    '"data":{"id":"1f81eb52-5198-4599-803e-771906343485"}}'
)
ROTATION_SIGNATURE = (
    "v1,kJpVkJ0AzIN4IB7uoIS6Nl4Onnkzt3P2RXIbbMJ0Mh0= "
    "v1,+c2hI0NJ1qENrBwf2/hU0ihfLtbOEyo/SOPQfc16Xxg="
)


def test_the_spec_test_vector_signs_identically() -> None:
    header = signing.signature([SECRET], VECTOR_ID, VECTOR_TS, VECTOR_BODY)
    assert header == VECTOR_SIGNATURE


def test_a_rotation_signs_with_both_secrets_current_first() -> None:
    header = signing.signature([CURRENT, SECRET], ROTATION_ID, ROTATION_TS, ROTATION_BODY)
    assert header == ROTATION_SIGNATURE


@pytest.mark.skipif(not FIXTURES.exists(), reason="the shared fixtures are not here")
def test_the_vectors_match_the_shared_fixture_files() -> None:
    v1 = json.loads((FIXTURES / "test_vector_v1.json").read_text())
    assert v1["secret"] == SECRET
    assert v1["expected_signature"] == VECTOR_SIGNATURE
    assert v1["body"] == VECTOR_BODY
    rotation = json.loads((FIXTURES / "test_vector_key_rotation.json").read_text())
    assert rotation["secrets"] == {"current": CURRENT, "previous": SECRET}
    assert rotation["headers"]["webhook-signature"] == ROTATION_SIGNATURE
    assert rotation["body"] == ROTATION_BODY


def test_the_library_verifies_what_is_signed_with_either_secret() -> None:
    old, new = signing.new_secret(), signing.new_secret()
    assert new.startswith("whsec_") and len(new) == len("whsec_") + 44
    now = int(dt.datetime.now(dt.UTC).timestamp())
    body = '{"id":"evt_1","type":"order.created"}'
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(now),
        "webhook-signature": signing.signature([new, old], "evt_1", now, body),
    }
    assert Webhook(new).verify(body, headers) == json.loads(body)
    assert Webhook(old).verify(body, headers) == json.loads(body)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)


def test_kept_headers_name_the_versions_not_the_signatures() -> None:
    assert signing.redacted(ROTATION_SIGNATURE) == "v1,… v1,…"


@pytest.mark.parametrize("body", ["", '{"a":1}', "ünïcødé ✓", "x" * 5000])
def test_the_signer_signs_as_the_library_does(body: str) -> None:
    keys = [signing.new_secret(), signing.new_secret()]
    moment = dt.datetime.fromtimestamp(ROTATION_TS, tz=dt.UTC)
    expected = " ".join(Webhook(key).sign("evt_9", moment, body) for key in keys)
    assert signing.Signer(keys).sign("evt_9", ROTATION_TS, body) == expected
