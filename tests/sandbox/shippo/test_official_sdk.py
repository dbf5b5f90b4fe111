"""Shippo's official Python SDK (``shippo`` 3.x), unmodified, pointed at the sandbox with
``server_url``: it sends ``Authorization: ShippoToken …`` itself and parses every answer
into its own models, so a missing or mistyped field fails here."""

from __future__ import annotations

import json

import pytest
import shippo
from shippo.models import components, errors

from tests.sandbox.receiver import Receiver
from tests.sandbox.shippo.conftest import TEST_TOKEN
from tradewind.sandbox.shippo import ShippoSandbox


@pytest.fixture
def sdk(sandbox: ShippoSandbox) -> shippo.Shippo:
    return shippo.Shippo(
        api_key_header=TEST_TOKEN,
        shippo_api_version="2018-02-08",
        server_url=sandbox.base_url,
    )


def address(name: str, street: str, zip_code: str) -> components.AddressCreateRequest:
    return components.AddressCreateRequest(
        name=name, street1=street, city="San Francisco", state="CA", zip=zip_code, country="US"
    )


def shipment_request() -> components.ShipmentCreateRequest:
    return components.ShipmentCreateRequest(
        address_from=address("Shippo", "215 Clayton St.", "94117"),
        address_to=address("Initech", "965 Mission St", "94103"),
        parcels=[
            components.ParcelCreateRequest(
                length="5",
                width="5",
                height="5",
                distance_unit=components.DistanceUnitEnum.IN,
                weight="2",
                mass_unit=components.WeightUnitEnum.LB,
            )
        ],
    )


def test_the_sdk_buys_the_cheapest_label_and_tracks_it(
    sandbox: ShippoSandbox, sdk: shippo.Shippo
) -> None:
    shipment = sdk.shipments.create(shipment_request())
    assert shipment.status == components.ShipmentStatus.QUEUED
    while shipment.status != components.ShipmentStatus.SUCCESS:
        shipment = sdk.shipments.get(shipment.object_id)
    rates = sdk.rates.list_shipment_rates(shipment.object_id)
    assert rates.results is not None and len(rates.results) == 5
    cheapest = next(r for r in rates.results if components.Attributes.CHEAPEST in r.attributes)
    assert cheapest.amount == min((r.amount for r in rates.results), key=float)
    assert sdk.rates.get(cheapest.object_id).servicelevel.token == "usps_ground_advantage"

    transaction = sdk.transactions.create(
        components.TransactionCreateRequest(
            rate=cheapest.object_id, label_file_type=components.LabelFileTypeEnum.PDF_4X6
        )
    )
    assert transaction.status == components.TransactionStatusEnum.QUEUED
    polls = 0
    while transaction.status == components.TransactionStatusEnum.QUEUED:
        transaction = sdk.transactions.get(transaction.object_id)
        polls += 1
    assert polls == 2
    assert transaction.status == components.TransactionStatusEnum.SUCCESS
    assert transaction.label_url and transaction.tracking_number
    assert sandbox.labels(TEST_TOKEN) == 1

    track = sdk.tracking_status.get(transaction.tracking_number, "usps")
    assert track.tracking_status is not None
    assert track.tracking_status.status == components.TrackingStatusEnum.UNKNOWN
    sandbox.advance_track("usps", transaction.tracking_number)
    moved = sdk.tracking_status.get(transaction.tracking_number, "usps")
    assert moved.tracking_status is not None
    assert moved.tracking_status.status == components.TrackingStatusEnum.PRE_TRANSIT


def test_the_sdk_reads_the_test_carrier_and_registers_numbers(sdk: shippo.Shippo) -> None:
    delivered = sdk.tracking_status.get("SHIPPO_DELIVERED", "shippo")
    assert delivered.tracking_status is not None
    assert delivered.tracking_status.status == components.TrackingStatusEnum.DELIVERED
    registered = sdk.tracking_status.create("shippo", "SHIPPO_TRANSIT", metadata="order 7")
    assert registered.metadata == "order 7"


def test_the_sdk_manages_webhooks_that_then_fire(
    sandbox: ShippoSandbox, sdk: shippo.Shippo, receiver: Receiver
) -> None:
    hook = sdk.webhooks.create_webhook(
        components.WebhookUpdateRequest(
            event=components.WebhookEventTypeEnum.TRACK_UPDATED, url=receiver.url, is_test=True
        )
    )
    assert hook.object_id
    assert sdk.webhooks.get_webhook(hook.object_id).url == receiver.url
    sdk.tracking_status.create("shippo", "SHIPPO_PRE_TRANSIT")
    sandbox.advance_track("shippo", "SHIPPO_PRE_TRANSIT")
    (got,) = receiver.wait_for(1)
    assert json.loads(got.body)["event"] == "track_updated"
    sdk.webhooks.delete_webhook(hook.object_id)
    assert sdk.webhooks.list_webhooks().results == []


def test_the_sdk_surfaces_the_sandboxs_errors(sandbox: ShippoSandbox) -> None:
    bad = shippo.Shippo(api_key_header="shippo_test_revoked", server_url=sandbox.base_url)
    with pytest.raises(errors.SDKError) as raised:
        bad.tracking_status.get("SHIPPO_TRANSIT", "shippo")
    assert raised.value.status_code == 401
