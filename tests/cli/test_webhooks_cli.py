"""``tradewind webhooks``: add (secret printed once), list, test, recover, rotate-secret,
pause, resume, deliveries, resend, types; one line with exit status 2 for bad input."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from standardwebhooks import Webhook

from tests.cli.test_cli import bad, ok
from tests.webhooks.conftest import Receiver, Reply
from tradewind.hub import Hub
from tradewind.webhooks.dispatch import Dispatcher


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def _drain(hub: Hub) -> None:
    Dispatcher(hub, holder="cli-test").drain(1)


def test_a_merchant_adds_and_runs_an_endpoint(hub: Hub, receiver: Receiver) -> None:
    ok(hub, "channels", "add", "Shopify UK")
    out = ok(
        hub,
        "webhooks",
        "add",
        receiver.url,
        "--event",
        "order.created",
        "--event",
        "inventory.updated",
        "--channel",
        "Shopify UK",
        "--header",
        "X-Tenant=acme",
        "--description",
        "ERP",
    )
    assert "webhook endpoint 1" in out
    secret = re.search(r"whsec_\S+", out)
    assert secret is not None
    listed = ok(hub, "webhooks", "list")
    assert receiver.url in listed and "order.created, inventory.updated" in listed
    assert secret.group(0) not in listed and secret.group(0)[-4:] in listed
    assert "queued for endpoint 1" in ok(hub, "webhooks", "test", "1", "--type", "order.created")
    _drain(hub)
    [got] = receiver.received
    assert Webhook(secret.group(0)).verify(got.body, got.headers)["test"] is True
    assert got.headers["x-tenant"] == "acme"
    rotated = re.search(r"whsec_\S+", ok(hub, "webhooks", "rotate-secret", "1"))
    assert rotated is not None and rotated.group(0) != secret.group(0)
    receiver.replies = [Reply(404)]
    ok(hub, "webhooks", "test", "1", "--type", "inventory.updated")
    _drain(hub)
    assert "failed" in ok(hub, "webhooks", "deliveries", "1", "--status", "failed")
    receiver.replies = [Reply(200)]
    assert "1 failed deliveries queued again" in ok(
        hub, "webhooks", "recover", "1", "--since", "1h"
    )
    _drain(hub)
    assert len(receiver.received) == 3
    assert "queued again" in ok(hub, "webhooks", "resend", "1")
    assert "paused" in ok(hub, "webhooks", "pause", "1")
    assert "paused" in ok(hub, "webhooks", "list")
    assert "active" in ok(hub, "webhooks", "resume", "1")
    assert "webhook_endpoint.disabled" in ok(hub, "webhooks", "types")
    assert "removed" in ok(hub, "webhooks", "remove", "1")


def test_bad_webhook_input_exits_2_with_one_line(hub: Hub) -> None:
    assert "private address" in bad(hub, "webhooks", "add", "https://192.168.0.10/hooks")
    assert "use an https:// URL" in bad(hub, "webhooks", "add", "http://8.8.8.8/hooks")
    assert "'order.shipped' is not an event type" in bad(
        hub, "webhooks", "add", "https://8.8.8.8/", "--event", "order.shipped"
    )
    assert "cannot be overridden" in bad(
        hub, "webhooks", "add", "https://8.8.8.8/", "--header", "webhook-signature=x"
    )
    assert "no webhook subscription 9" in bad(hub, "webhooks", "test", "9")
    assert "--since takes" in bad(hub, "webhooks", "recover", "1", "--since", "yesterday")
