"""Customers in and out (REST ``/customers``): pages of customers changed since a time,
and a customer created or updated so that the store never holds two for one email.

Shopify refuses a second customer with an email it already has (422 "has already been
taken"); its customer search is an index that can lag a moment behind a write, so a
customer that exists but cannot be found yet is an outage to retry, not a reason to
create another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tradewind.connectors import (
    CustomerQuery,
    CustomerRecord,
    Page,
    Priority,
    Rejected,
    Unavailable,
    error_detail,
    next_link,
    query_value,
)
from tradewind.integrations.shopify import mapping
from tradewind.integrations.shopify.client import ShopifyClient

PAGE = 250
FIND_AT_ONCE = 50  # emails per search: "email:a OR email:b …" stays a short query


def page(
    client: ShopifyClient, query: CustomerQuery, cursor: str | None, priority: Priority
) -> Page[CustomerRecord]:
    if cursor:
        params: dict[str, str | int] = {"limit": PAGE, "page_info": cursor}
    else:
        params = {"limit": PAGE}
        if query.since is not None:
            params["updated_at_min"] = query.since.isoformat()
    response = client.rest(
        "GET", "customers", operation="customers.list", params=params, priority=priority
    )
    records: list[CustomerRecord] = []
    skipped: list[tuple[str, str]] = []
    for raw in response.json().get("customers", []):
        try:
            found = mapping.customer(raw)
        except (KeyError, ValueError, TypeError) as exc:
            skipped.append((str(raw.get("id", "?")), f"unreadable customer: {exc}"))
            continue
        if found is not None:
            records.append(found)
    link = next_link(response)
    following = query_value(link, "page_info") if link else None
    return Page(records=records, next_cursor=following, skipped=tuple(skipped))


def export(client: ShopifyClient, record: CustomerRecord) -> CustomerRecord:
    """Update the linked customer, else the one with this email, else create it."""
    if record.external_id and record.external_id.isdigit():
        updated = _update(client, record.external_id, record)
        if updated is not None:
            return updated  # otherwise it was deleted in Shopify: find or create again
    found = _by_email(client, record.email)
    if found is not None:
        return _update(client, str(found["id"]), record) or _read(found)
    response = client.rest(
        "POST",
        "customers",
        operation="customers.create",
        json_body={"customer": mapping.customer_body(record, create=True)},
        allow=(422,),
    )
    if response.status_code == 422:
        if not _email_taken(response.json()):
            detail = error_detail(response)
            raise Rejected(f"customers.create: Shopify refused the customer: {detail}")
        found = _by_email(client, record.email)
        if found is None:
            raise Unavailable(
                f"Shopify has a customer with {record.email} that its search does not show "
                "yet; trying again shortly"
            )
        return _update(client, str(found["id"]), record) or _read(found)
    return _read(response.json()["customer"])


def find_many(client: ShopifyClient, emails: Sequence[str]) -> Mapping[str, CustomerRecord]:
    """The store's customers with these emails (casefolded), a few searches for many."""
    wanted = sorted({email.strip().casefold() for email in emails if email.strip()})
    found: dict[str, CustomerRecord] = {}
    for start in range(0, len(wanted), FIND_AT_ONCE):
        chunk = wanted[start : start + FIND_AT_ONCE]
        response = client.rest(
            "GET",
            "customers/search",
            operation="customers.search",
            params={"query": " OR ".join(f"email:{email}" for email in chunk), "limit": PAGE},
            priority=Priority.BACKGROUND,
        )
        for raw in response.json().get("customers", []):
            email = str(raw.get("email") or "").strip().casefold()
            if email in chunk and email not in found:
                found[email] = _read(raw)
    return found


def create(client: ShopifyClient, record: CustomerRecord) -> CustomerRecord:
    """Create the customer; an email the store already holds answers with that customer
    (the store keeps one per email, so a create repeated after a lost answer is safe)."""
    response = client.rest(
        "POST",
        "customers",
        operation="customers.create",
        json_body={"customer": mapping.customer_body(record, create=True)},
        allow=(422,),
        priority=Priority.BACKGROUND,
    )
    if response.status_code != 422:
        return _read(response.json()["customer"])
    if not _email_taken(response.json()):
        raise Rejected(f"customers.create: Shopify refused the customer: {error_detail(response)}")
    found = _by_email(client, record.email)
    if found is None:
        raise Unavailable(
            f"Shopify has a customer with {record.email} that its search does not show "
            "yet; trying again shortly"
        )
    return _read(found)


def _update(
    client: ShopifyClient, customer_id: str, record: CustomerRecord
) -> CustomerRecord | None:
    body = mapping.customer_body(
        record.model_copy(update={"external_id": customer_id}), create=False
    )
    response = client.rest(
        "PUT",
        f"customers/{customer_id}",
        operation="customers.update",
        json_body={"customer": body},
        allow=(404,),
    )
    if response.status_code == 404:
        return None
    return _read(response.json()["customer"])


def _by_email(client: ShopifyClient, email: str) -> dict[str, Any] | None:
    response = client.rest(
        "GET",
        "customers/search",
        operation="customers.search",
        params={"query": f"email:{email}", "limit": 10},
    )
    wanted = email.strip().casefold()
    for raw in response.json().get("customers", []):
        if str(raw.get("email") or "").strip().casefold() == wanted:
            return dict(raw)
    return None


def _email_taken(body: Any) -> bool:
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, dict):
        return False
    return any("taken" in str(message) for message in errors.get("email") or [])


def _read(raw: dict[str, Any]) -> CustomerRecord:
    found = mapping.customer(raw)
    if found is None:
        raise Rejected("Shopify answered with an empty customer")
    return found
