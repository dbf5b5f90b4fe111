"""The toggle → capability table: every connector's description agrees with it, and one that
does not cannot be built (nor pass the conformance suite)."""

from __future__ import annotations

import dataclasses
from contextlib import AbstractContextManager
from typing import ClassVar

import pytest
from pydantic import BaseModel

from tradewind.connectors import (
    CAPABILITY_PROTOCOLS,
    TOGGLE_CAPABILITIES,
    Capability,
    ConnectorInfo,
    Toggle,
    capabilities_for,
)
from tradewind.connectors.capabilities import lacking
from tradewind.connectors.testing import SuitePlatform, connector_suite
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.integrations.vendure import VendureConnector


class NoSettings(BaseModel):
    pass


def test_every_needed_capability_has_a_protocol() -> None:
    for toggle, capabilities in TOGGLE_CAPABILITIES.items():
        assert capabilities, f"{toggle} is listed without a capability"
        assert capabilities <= CAPABILITY_PROTOCOLS.keys()


def test_a_toggle_without_its_capability_is_refused() -> None:
    with pytest.raises(ValueError, match="export_listings needs export_products"):
        ConnectorInfo(
            key="half",
            name="Half",
            settings=NoSettings,
            toggles=frozenset({Toggle.EXPORT_LISTINGS}),
            capabilities=frozenset({Capability.TEST_CONNECTION}),
        )


def test_a_changed_description_is_checked_again() -> None:
    info = ConnectorInfo(key="some", name="Some", settings=NoSettings)
    with pytest.raises(ValueError, match="import_orders needs import_orders"):
        dataclasses.replace(info, toggles=frozenset({Toggle.IMPORT_ORDERS}))


def test_capabilities_are_derived_from_the_toggles() -> None:
    toggles = frozenset({Toggle.IMPORT_ORDERS, Toggle.EXPORT_TRACKING, Toggle.IMPORT_PRODUCTS})
    derived = capabilities_for(toggles, Capability.TEST_CONNECTION)
    assert derived == {
        Capability.IMPORT_ORDERS,
        Capability.PUSH_SHIPMENTS,
        Capability.TEST_CONNECTION,
    }
    assert not lacking(toggles, derived)
    ConnectorInfo(key="ok", name="OK", settings=NoSettings, toggles=toggles, capabilities=derived)


def test_lacking_names_each_toggle_and_what_it_misses() -> None:
    toggles = {Toggle.EXPORT_SHIPMENTS, Toggle.IMPORT_LISTINGS, Toggle.IMPORT_TRACKING}
    assert lacking(toggles, {Capability.IMPORT_LISTINGS}) == {
        Toggle.EXPORT_SHIPMENTS: {Capability.PUSH_SHIPMENTS}
    }


@pytest.mark.parametrize("connector", [ShopifyConnector, VendureConnector])
def test_the_built_in_connectors_agree_with_the_table(connector: type[ShopifyConnector]) -> None:
    assert not lacking(connector.info.toggles, connector.info.capabilities)


def test_the_conformance_suite_fails_a_toggle_without_its_capability() -> None:
    honest = ConnectorInfo(key="liar", name="Liar", settings=NoSettings, guide="-")
    forged = dataclasses.replace(honest)
    # Past the constructor's check, as a connector built some other way might be.
    object.__setattr__(forged, "toggles", frozenset({Toggle.EXPORT_ORDERS}))

    class Liar:
        info: ClassVar[ConnectorInfo] = forged

        def __init__(self, settings: NoSettings, context: object) -> None:
            pass

        def close(self) -> None:
            pass

    def nowhere() -> AbstractContextManager[SuitePlatform]:
        raise AssertionError("the description is checked without a platform")

    suite = connector_suite(Liar, nowhere)()
    with pytest.raises(AssertionError, match="export_orders needs"):
        suite.test_toggles_have_the_capabilities_they_need()
