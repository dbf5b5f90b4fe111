"""Customers in (REST ``/customers`` pages and search) and out (GraphQL
``customerCreate`` / ``customerUpdate``), so that the store never holds two for one email.

Shopify refuses a second customer with an email it already has ("Email has already been
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
    next_link,
    query_value,
)
from tradewind.integrations.shopify import inputs, mapping
from tradewind.integrations.shopify.client import ShopifyClient, legacy_id

PAGE = 250
FIND_AT_ONCE = 50  # emails per search: "email:a OR email:b …" stays a short query
TAKEN = "has already been taken"
# GraphQL's names of a customer's and an address's fields → REST's, which mapping reads.
PERSON = {"email": "email", "firstName": "first_name", "lastName": "last_name", "phone": "phone"}
ADDRESS = {
    **{key: rest for key, rest in PERSON.items() if key != "email"},
    "company": "company",
    "address1": "address1",
    "address2": "address2",
    "city": "city",
    "provinceCode": "province_code",
    "countryCodeV2": "country_code",
    "zip": "zip",
}
CUSTOMER = """customer {
      legacyResourceId email firstName lastName phone
      defaultAddress {
        firstName lastName company address1 address2 city provinceCode countryCodeV2 zip phone
      }
    }"""
CREATE = f"""mutation CustomerCreate($input: CustomerInput!) {{
  customerCreate(input: $input) {{
    {CUSTOMER}
    userErrors {{ field message }}
  }}
}}"""
UPDATE = f"""mutation CustomerUpdate($input: CustomerInput!) {{
  customerUpdate(input: $input) {{
    {CUSTOMER}
    userErrors {{ field message }}
  }}
}}"""


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
    return _create(client, record, Priority.LIVE, refresh=True)


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
    return _create(client, record, Priority.BACKGROUND, refresh=False)


def _create(
    client: ShopifyClient, record: CustomerRecord, priority: Priority, *, refresh: bool
) -> CustomerRecord:
    """``refresh``: the customer the store had already is updated to ``record``."""
    payload = client.mutate(
        CREATE,
        {"input": inputs.customer(record)},
        field="customerCreate",
        operation="customers.create",
        tolerate=(TAKEN,),
        priority=priority,
    )
    if payload.get("customer"):
        return _node(payload["customer"])
    found = _by_email(client, record.email)
    if found is None:
        raise Unavailable(
            f"Shopify has a customer with {record.email} that its search does not show "
            "yet; trying again shortly"
        )
    if refresh:
        return _update(client, str(found["id"]), record) or _read(found)
    return _read(found)


def _update(
    client: ShopifyClient, customer_id: str, record: CustomerRecord
) -> CustomerRecord | None:
    """The customer updated, or None when the store no longer has it."""
    payload = client.mutate(
        UPDATE,
        {"input": inputs.customer(record, customer_id)},
        field="customerUpdate",
        operation="customers.update",
        tolerate=("does not exist",),
    )
    return _node(payload["customer"]) if payload.get("customer") else None


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


def _read(raw: dict[str, Any]) -> CustomerRecord:
    found = mapping.customer(raw)
    if found is None:
        raise Rejected("Shopify answered with an empty customer")
    return found


def _node(node: dict[str, Any]) -> CustomerRecord:
    """A GraphQL ``Customer`` (its default address only) as a record."""
    address = node.get("defaultAddress")
    return _read(
        {
            "id": legacy_id(node["legacyResourceId"]),
            **{rest: node.get(key) for key, rest in PERSON.items()},
            "default_address": {rest: address.get(key) for key, rest in ADDRESS.items()}
            if address
            else None,
        }
    )
