"""EasyPost's official Python client (PyPI ``easypost``), unmodified, against the sandbox.

The client takes its base URL as ``EasyPostClient(api_key, api_base=...)`` and sends the
key as a Bearer token over plain requests; nothing else about it is changed here.
"""

from __future__ import annotations

from typing import Any

import easypost
import pytest
from easypost import util
from easypost.errors import (
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ServiceUnavailableError,
    SignatureVerificationError,
    UnauthorizedError,
)
from easypost.models import Shipment, Tracker, Webhook

from tests.sandbox.easypost.conftest import TEST_KEY, VECTOR_SECRET, fixture
from tests.sandbox.receiver import Receiver
from tradewind.sandbox.easypost import EasyPostSandbox


@pytest.fixture
def ep(sandbox: EasyPostSandbox) -> easypost.EasyPostClient:
    return easypost.EasyPostClient(TEST_KEY, api_base=sandbox.api_base)


def shipment_params() -> dict[str, Any]:
    params: dict[str, Any] = fixture("shipments-create.request.json")["shipment"]
    params.pop("customs_info")
    return params


def test_create_read_rates_buy_lowest_track_and_refund(
    sandbox: EasyPostSandbox, ep: easypost.EasyPostClient
) -> None:
    shipment = ep.shipment.create(**shipment_params())
    assert isinstance(shipment, Shipment)
    assert shipment.id.startswith("shp_")
    assert len(shipment.rates) == 6
    lowest = shipment.lowest_rate()
    assert (lowest.carrier, lowest.service, lowest.rate) == ("USPS", "GroundAdvantage", "8.30")
    assert shipment.lowest_rate(carriers=["UPS"]).service == "Ground"
    assert ep.rate.retrieve(lowest.id).rate == "8.30"
    assert ep.shipment.retrieve(shipment.id).id == shipment.id

    bought = ep.shipment.buy(shipment.id, rate=lowest)
    assert bought.selected_rate.id == lowest.id
    assert bought.postage_label.label_url.startswith(sandbox.base_url)
    assert bought.tracking_code
    assert bought.tracker.tracking_code == bought.tracking_code
    assert sandbox.labels(TEST_KEY)["bought"] == 1

    with pytest.raises(InvalidRequestError) as twice:
        ep.shipment.buy(shipment.id, rate=lowest)
    assert twice.value.code == "SHIPMENT.POSTAGE.EXISTS"
    assert sandbox.labels(TEST_KEY)["bought"] == 1

    tracker = ep.tracker.create(tracking_code="EZ1000000001", carrier="USPS")
    assert isinstance(tracker, Tracker)
    assert tracker.status == "pre_transit"
    sandbox.advance_tracker(tracker.id)
    assert ep.tracker.retrieve(tracker.id).status == "in_transit"
    assert {t.id for t in ep.tracker.all()["trackers"]} == {tracker.id, bought.tracker.id}

    refunded = ep.shipment.refund(shipment.id)
    assert refunded.refund_status == "submitted"
    assert sandbox.labels(TEST_KEY) == {"bought": 1, "refunded": 1}


def test_objects_made_first_are_passed_by_id(ep: easypost.EasyPostClient) -> None:
    params = shipment_params()
    to_address = ep.address.create(**params["to_address"])
    from_address = ep.address.create(**params["from_address"])
    parcel = ep.parcel.create(**params["parcel"])
    assert ep.parcel.retrieve(parcel.id).weight == 65.9
    assert ep.address.retrieve(to_address.id).street1 == "179 N Harbor Dr"
    shipment = ep.shipment.create(to_address=to_address, from_address=from_address, parcel=parcel)
    assert shipment.to_address.id == to_address.id
    assert shipment.parcel.id == parcel.id
    rerated = ep.shipment.regenerate_rates(shipment.id)
    assert len(rerated["rates"]) == 6


def test_errors_become_the_clients_exceptions(
    sandbox: EasyPostSandbox, ep: easypost.EasyPostClient
) -> None:
    params = shipment_params()
    del params["parcel"]["weight"]
    with pytest.raises(InvalidRequestError) as missing:
        ep.shipment.create(**params)
    assert missing.value.code == "PARAMETER.REQUIRED"
    errors: Any = missing.value.errors  # typed list[str]; EasyPost sends field objects too
    assert errors == [{"field": "shipment.parcel.weight", "message": "cannot be blank"}]
    with pytest.raises(NotFoundError):
        ep.shipment.retrieve("shp_nope")
    sandbox.inject_fault("rate_limit")
    with pytest.raises(RateLimitError):
        ep.shipment.create(**shipment_params())
    sandbox.inject_fault("server_error", status=503)
    with pytest.raises(ServiceUnavailableError):
        ep.shipment.create(**shipment_params())
    assert ep.shipment.create(**shipment_params()).rates  # recovered
    sandbox.revoke_key(TEST_KEY)
    with pytest.raises(UnauthorizedError) as refused:
        ep.shipment.create(**shipment_params())
    assert refused.value.http_status == 401


def test_webhooks_and_the_clients_own_signature_check(
    sandbox: EasyPostSandbox, ep: easypost.EasyPostClient, receiver: Receiver
) -> None:
    hook = ep.webhook.create(url=receiver.url, webhook_secret=VECTOR_SECRET)
    assert isinstance(hook, Webhook)
    assert [h.id for h in ep.webhook.all()["webhooks"]] == [hook.id]
    tracker = ep.tracker.create(tracking_code="EZ2000000002", carrier="USPS")
    sandbox.advance_tracker(tracker.id)
    _created, updated = receiver.wait_for(2)
    event = util.validate_webhook(updated.body, updated.headers, VECTOR_SECRET)
    assert event["description"] == "tracker.updated"
    assert event["result"]["status"] == "out_for_delivery"
    received = util.receive_event(updated.body.decode())
    assert received.result.id == tracker.id
    with pytest.raises(SignatureVerificationError):
        util.validate_webhook(updated.body, updated.headers, "wrong")
    tampered = updated.body.replace(b"out_for_delivery", b"delivered")
    with pytest.raises(SignatureVerificationError):
        util.validate_webhook(tampered, updated.headers, VECTOR_SECRET)
    ep.webhook.update(hook.id, webhook_secret="rotated")
    ep.webhook.delete(hook.id)
    assert ep.webhook.all()["webhooks"] == []
    assert {e.description for e in ep.event.all()["events"]} == {
        "tracker.created",
        "tracker.updated",
    }
