"""Settings → Webhooks: add an endpoint (its secret on the page once), see it with its
success rate and chart, send a test, open the delivery's attempts (secrets redacted),
resend, recover, rotate, pause; bad input is a form error; a viewer only reads."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.web.conftest import Browser
from tests.webhooks.conftest import Receiver, Reply
from tradewind.hub import Hub
from tradewind.webhooks.dispatch import Dispatcher


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def test_a_merchant_adds_tests_and_inspects_an_endpoint(
    admin: Browser, hub: Hub, receiver: Receiver
) -> None:
    page = admin.post(
        "/settings/webhooks",
        {
            "url": receiver.url,
            "description": "ERP",
            "event_types": ["order.created"],
            "headers": "X-Tenant: acme",
        },
    )
    assert page.status_code == 200
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", page.text)
    assert secret is not None and "shown this once" in page.text
    listing = admin.get("/settings/webhooks").text
    assert receiver.url in listing and secret.group(0) not in listing
    assert f"whsec_…{secret.group(0)[-4:]}" in listing
    receiver.replies = [Reply(500, body=b"try later")]
    sent = admin.post("/settings/webhooks/1/test", {"event_type": "inventory.updated"})
    assert sent.status_code == 303
    Dispatcher(hub, holder="ui-test").drain(1)
    endpoint = admin.get("/settings/webhooks/1").text
    assert "inventory.updated" in endpoint and "HTTP 500" in endpoint
    assert "<svg" in endpoint  # the latency chart
    delivery = admin.get("/settings/webhooks/deliveries/1").text
    assert "try later" in delivery and "webhook-signature: v1,…" in delivery
    assert secret.group(0) not in delivery
    receiver.replies = [Reply(200)]
    assert admin.post("/settings/webhooks/deliveries/1/resend").status_code == 303
    Dispatcher(hub, holder="ui-test").drain(1)
    assert "Attempt 2" in admin.get("/settings/webhooks/deliveries/1").text
    assert (
        "queued again"
        in admin.post("/settings/webhooks/1/recover", {"window": "24h"}, follow_redirects=True).text
    )
    rotated = admin.post("/settings/webhooks/1/rotate")
    assert "previous secret keeps signing for 24 hours" in rotated.text
    assert "paused" in admin.post("/settings/webhooks/1/pause", follow_redirects=True).text
    events = admin.get("/settings/webhooks/events").text
    assert "inventory.updated" in events


def test_bad_input_is_a_form_error(admin: Browser) -> None:
    page = admin.post("/settings/webhooks", {"url": "http://10.0.0.1/hooks"})
    assert page.status_code == 200
    assert "private address" in page.text and "whsec_" not in page.text
    page = admin.post(
        "/settings/webhooks", {"url": "https://8.8.8.8/", "headers": "webhook-signature: x"}
    )
    assert "cannot be overridden" in page.text


def test_a_viewer_reads_but_cannot_add(viewer: Browser) -> None:
    page = viewer.get("/settings/webhooks")
    assert page.status_code == 200 and "Add an endpoint" not in page.text
    assert viewer.post("/settings/webhooks", {"url": "https://8.8.8.8/"}).status_code == 403
