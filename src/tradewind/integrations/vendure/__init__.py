"""Vendure (https://vendure.io), the open-source headless commerce platform: a connector
using its Admin GraphQL API with an API key, and a companion Vendure plugin
(``vendure-plugin/``) that posts signed order and stock events to Tradewind."""

from tradewind.integrations.vendure.connector import VendureConnector
from tradewind.integrations.vendure.settings import VendureSettings

__all__ = ["VendureConnector", "VendureSettings"]
