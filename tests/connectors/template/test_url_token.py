"""``verify: {kind: url_token}``: a service that signs nothing is given a delivery URL with
a token in its query, ``/hooks/{plugin}/{name}?token=…``. Through the hub's webhook
intake, a delivery is stored only when that token matches the secret setting; any other
is refused as a bad signature is (401, counted into the plugin's notification)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tradewind.connectors.base import ReceivesWebhooks, WebhookHeaders
from tradewind.connectors.registry import ConnectorRegistry
from tradewind.connectors.template import TemplateInvalid, connector_class, load_template
from tradewind.connectors.testing import suite_context
from tradewind.core.plugins import service as plugins
from tradewind.hub import Hub
from tradewind.monitoring.notifications import Notification
from tradewind.server import create_app
from tradewind.settings import Settings
from tradewind.sync.models import InboxDelivery

TOKEN = "wh-3f9a1c7e5b"
TEMPLATE = """\
schema: tradewind-template/v1
id: pinger
version: 1.0.0
display_name: Pinger
category: custom
capabilities: [receive_webhooks]
environments:
  live: {base_url: "https://api.pinger.example"}
settings:
  webhook_token: {type: string, secret: true}
auth: {kind: none}
test_connection:
  request: {path: /me}
inbound_webhooks:
  events:
    verify: {kind: url_token, secret: webhook_token, param: key}
    subject: app
    subject_id: body.id
    delivery_id: body.id
"""
Pinger = connector_class(load_template(TEMPLATE))


@pytest.fixture
def plugin(settings: Settings) -> Iterator[tuple[Hub, int]]:
    with Hub(settings, registry=ConnectorRegistry.of(Pinger)) as hub:
        with hub.db.unit_of_work() as session:
            added = plugins.add_plugin(
                session, hub.vault, Pinger.info, name="pinger", config={"webhook_token": TOKEN}
            )
            plugins.activate(session, added.id)
        yield hub, added.id


def _stored(hub: Hub) -> int:
    with hub.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(InboxDelivery)) or 0)


def test_only_the_right_token_in_the_url_is_accepted(plugin: tuple[Hub, int]) -> None:
    hub, plugin_id = plugin
    url = f"/hooks/{plugin_id}/events"
    refused: list[tuple[dict[str, str], dict[str, str]]] = [  # (query, headers)
        ({"key": "wh-wrong"}, {}),
        ({"key": TOKEN[:-1]}, {}),  # a prefix of the token
        ({"token": TOKEN}, {}),  # under another parameter's name
        ({}, {"key": TOKEN}),  # in a header, not the URL
        ({}, {}),
    ]
    with TestClient(create_app(hub)) as client:
        for number, (query, headers) in enumerate(refused):
            body = {"id": f"bad-{number}"}
            answer = client.post(url, params=query, headers=headers, json=body)
            assert answer.status_code == 401, (query, headers)
            assert answer.json()["detail"] == "signature does not match"
        accepted = client.post(url, params={"key": TOKEN}, json={"id": "good"})
        assert accepted.status_code == 200 and accepted.json()["detail"] == "accepted"
    assert _stored(hub) == 1
    # leaving the app flushed the refusals into one notification, as for a bad HMAC
    with hub.db.read() as session:
        found = session.scalars(select(Notification)).all()
    assert [(n.subject, n.occurrences) for n in found] == [("webhook signatures", len(refused))]


def test_the_token_is_read_only_from_the_intakes_query() -> None:
    settings = Pinger.info.settings.model_validate({"webhook_token": TOKEN})
    nowhere = httpx2.MockTransport(lambda request: httpx2.Response(500))
    connector = Pinger(settings, suite_context(nowhere))
    assert isinstance(connector, ReceivesWebhooks)
    assert connector.verify_webhook(WebhookHeaders({}, query={"key": TOKEN}), b"{}")
    assert not connector.verify_webhook({"key": TOKEN}, b"{}")  # a plain mapping has no query
    connector.close()


@pytest.mark.parametrize(
    ("verify", "words"),
    [
        ("{kind: url_token}", "a url_token check needs the setting"),
        ("{kind: url_token, secret: region}", "'region' must be a secret setting"),
        ("{kind: url_token, secret: webhook_tokn}", "did you mean 'webhook_token'"),
    ],
)
def test_a_url_token_check_needs_a_secret_setting(verify: str, words: str) -> None:
    text = TEMPLATE.replace("{kind: url_token, secret: webhook_token, param: key}", verify).replace(
        "settings:\n", "settings:\n  region: {type: string, default: eu}\n"
    )
    with pytest.raises(TemplateInvalid, match=words):
        load_template(text)
