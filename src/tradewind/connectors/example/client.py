"""Talking to Fake Market: the SDK's ``HttpClient`` with the bearer token, the transport,
rate budget and call recorder the engine hands over in the context. ``HttpClient`` turns
every HTTP failure into the four typed errors, so nothing else here catches one."""

from __future__ import annotations

from tradewind.connectors import BucketPolicy, ConnectorContext, HttpClient
from tradewind.connectors.example.settings import FakeMarketSettings

# Fake Market's documented limit: a bucket of 40 calls that drains 20 a second.
POLICY = BucketPolicy(name="api", capacity=40, leak_per_second=20)


def connect(settings: FakeMarketSettings, context: ConnectorContext) -> HttpClient:
    return HttpClient(
        settings.base_url,
        headers={"Authorization": f"Bearer {settings.api_token.get_secret_value()}"},
        transport=context.transport,
        budget=context.budget(POLICY),
        recorder=context.recorder,
    )
