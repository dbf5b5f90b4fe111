"""Talking to Vendure's Admin API: GraphQL over ``HttpClient``, with the API key in the
``vendure-api-key`` header, and Vendure's ways of failing translated into the four typed
errors once, here.

Vendure fails in three places: the HTTP status (a proxy's 502, a 429 from a gateway), the
GraphQL ``errors`` array of a 200 answer (``FORBIDDEN`` for a revoked key or a missing
permission), and *error results*: union members with an ``errorCode`` that a mutation
returns instead of its object (``ITEMS_ALREADY_FULFILLED_ERROR``). All are read here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import httpx2

from tradewind.connectors import (
    AuthFailed,
    BucketPolicy,
    ConnectorContext,
    ConnectorError,
    HttpClient,
    Priority,
    Rejected,
    Unavailable,
)
from tradewind.integrations.vendure.settings import VendureSettings

# Vendure publishes no rate limit; this keeps a hub from flooding a merchant's own server.
POLICY = BucketPolicy(name="admin-api", capacity=40, leak_per_second=20, background_share=0.5)

# GraphQL error code (``extensions.code``) → outcome. Anything else is Rejected.
GRAPHQL_ERRORS: Mapping[str, type[ConnectorError]] = MappingProxyType(
    {
        "FORBIDDEN": AuthFailed,
        "UNAUTHORIZED": AuthFailed,
        "INTERNAL_SERVER_ERROR": Unavailable,
    }
)

_ADDRESS = (
    "fullName company streetLine1 streetLine2 city province postalCode countryCode phoneNumber"
)


def _variant_fields(barcode_field: str) -> str:
    custom = f" customFields {{ {barcode_field} }}" if barcode_field else ""
    return f"id sku name{custom}"


def order_fields(barcode_field: str) -> str:
    """The order as the mapping reads it: one round trip gives lines, payments with their
    refunds, fulfillments and the cancellation reason."""
    return f"""
    id code state active orderPlacedAt createdAt updatedAt currencyCode
    subTotalWithTax shippingWithTax total totalWithTax
    discounts {{ amountWithTax }}
    customer {{ id firstName lastName emailAddress phoneNumber }}
    shippingAddress {{ {_ADDRESS} }}
    billingAddress {{ {_ADDRESS} }}
    lines {{ id quantity unitPriceWithTax productVariant {{ {_variant_fields(barcode_field)} }} }}
    fulfillments {{ id state method trackingCode createdAt updatedAt
      lines {{ orderLineId quantity }} }}
    payments {{ id method state amount
      refunds {{ id total reason state createdAt lines {{ orderLineId quantity }} }} }}
    history(options: {{ filter: {{ type: {{ eq: "ORDER_CANCELLATION" }} }},
                        sort: {{ createdAt: DESC }}, take: 1 }}) {{ items {{ data }} }}
    """


def product_fields(barcode_field: str) -> str:
    custom = f" customFields {{ {barcode_field} }}" if barcode_field else ""
    return f"""
    id name description assets {{ source }} optionGroups {{ id name }}
    variants {{ id sku name price options {{ groupId name }}{custom} }}
    """


class VendureClient:
    """One plugin's Admin API connection."""

    def __init__(self, settings: VendureSettings, context: ConnectorContext) -> None:
        headers = {
            "vendure-api-key": settings.api_key.get_secret_value(),
            "accept": "application/json",
        }
        if settings.channel_token:
            headers["vendure-token"] = settings.channel_token
        self.path = settings.admin_api_path
        self.http = HttpClient(
            settings.base_url,
            headers=headers,
            transport=context.transport,
            budget=context.budget(POLICY),
            recorder=context.recorder,
            describe_error=_describe,
        )

    def close(self) -> None:
        self.http.close()

    def query(
        self,
        document: str,
        variables: Mapping[str, Any] | None = None,
        *,
        operation: str,
        priority: Priority = Priority.LIVE,
    ) -> dict[str, Any]:
        """Run one GraphQL document; return its ``data`` or raise a typed error."""
        data, errors = self.partial(document, variables, operation=operation, priority=priority)
        if errors:
            raise graphql_error(operation, errors[0])
        if data is None:
            raise Unavailable(f"{operation}: the Admin API answered without data")
        return data

    def partial(
        self,
        document: str,
        variables: Mapping[str, Any] | None = None,
        *,
        operation: str,
        priority: Priority = Priority.LIVE,
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """Run one GraphQL document; return its ``data`` and ``errors`` as they are (a
        field the key may not read fails alone, the rest answers)."""
        response = self.http.request(
            "POST",
            self.path,
            operation=operation,
            json_body={"query": document, "variables": dict(variables or {})},
            priority=priority,
        )
        try:
            body = response.json()
        except ValueError:
            raise Unavailable(
                f"{operation}: the Admin API did not answer with JSON (is the URL right?)"
            ) from None
        if not isinstance(body, dict):
            raise Unavailable(f"{operation}: the Admin API answered with something unexpected")
        errors = body.get("errors") or []
        data = body.get("data")
        return (
            data if isinstance(data, dict) else None,
            [error for error in errors if isinstance(error, dict)]
            if isinstance(errors, list)
            else [{}],
        )


def code_of(error: Mapping[str, Any]) -> str:
    return str((error.get("extensions") or {}).get("code") or "")


def result(value: Any, operation: str) -> dict[str, Any]:
    """A mutation's object, or ``Rejected`` with Vendure's words for an error result."""
    if not isinstance(value, dict):
        raise Rejected(f"{operation}: Vendure returned nothing")
    if "errorCode" in value:
        raise Rejected(f"{operation}: {value['errorCode']}: {value.get('message', '')}".strip())
    return value


def graphql_error(operation: str, error: Mapping[str, Any]) -> ConnectorError:
    code = code_of(error)
    message = str(error.get("message") or "unknown error")[:300]
    outcome = GRAPHQL_ERRORS.get(code, Rejected)
    if outcome is AuthFailed:
        message = (
            f"{message}. The API key was refused or its role lacks a permission this needs; "
            "check the key and its role under Settings › API keys in Vendure."
        )
    return outcome(f"{operation}: {code or 'GraphQL error'}: {message}")


def _describe(response: httpx2.Response) -> str:
    """Vendure's first GraphQL error message; never the body as such (whatever answered
    is not repeated to the caller)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message", ""))[:300]
    return ""
