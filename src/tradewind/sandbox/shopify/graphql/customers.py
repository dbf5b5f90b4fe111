"""``customerCreate`` and ``customerUpdate``: GraphQL inputs translated to the REST-shaped
data the customer rules take, so one customer per email and ``customers/*`` webhooks hold
whichever API wrote. Refusals are ``userErrors`` with Shopify's wording ("Email has
already been taken", "Customer does not exist")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tradewind.sandbox.shopify.graphql.context import context_of, parse_gid
from tradewind.sandbox.shopify.graphql.converters import View
from tradewind.sandbox.shopify.ops.base import ShopifyError
from tradewind.sandbox.shopify.state import Doc

FIELDS = {"email": "email", "firstName": "first_name", "lastName": "last_name", "phone": "phone"}
ADDRESS_FIELDS = {
    "address1": "address1",
    "address2": "address2",
    "city": "city",
    "company": "company",
    "countryCode": "country_code",
    "firstName": "first_name",
    "lastName": "last_name",
    "phone": "phone",
    "provinceCode": "province_code",
    "zip": "zip",
}


def address_data(given: Doc) -> Doc:
    """A ``MailingAddressInput`` as the REST address the documents are built from."""
    return {rest: given[key] for key, rest in ADDRESS_FIELDS.items() if given.get(key)}


def _data(given: Doc) -> Doc:
    data: Doc = {rest: given[key] for key, rest in FIELDS.items() if key in given}
    if given.get("note") is not None:
        data["note"] = given["note"]
    if given.get("tags") is not None:
        data["tags"] = ", ".join(given["tags"])
    if given.get("addresses") is not None:
        data["addresses"] = [address_data(a) for a in given["addresses"]]
    return data


def _refused(field: list[str] | None, message: str) -> Doc:
    return {"customer": None, "userErrors": [{"field": field, "message": message}]}


def _said(error: ShopifyError) -> Doc:
    """A rule's refusal (``{"email": ["has already been taken"]}``) as a user error."""
    errors = error.errors
    if isinstance(errors, dict):
        for key, messages in errors.items():
            message = str(messages[0] if isinstance(messages, list) else messages)
            field = "".join(part.title() for part in key.split("_"))
            field = field[:1].lower() + field[1:]
            return _refused([field], f"{field[:1].upper()}{field[1:]} {message}")
    return _refused(None, str(errors))


def customer_create(info: Any, input: Doc) -> Doc:
    ctx = context_of(info)
    ctx.require(("write_customers",), "customerCreate")
    if input.get("id"):
        return _refused(["id"], "Id is not allowed when creating a customer")
    data = _data(input)
    if not any(data.get(k) for k in ("email", "phone", "first_name", "last_name")):
        return _refused(None, "A name, phone number, or email address must be present")
    try:
        created = ctx.ops.customers.create_customer(data)
    except ShopifyError as error:
        return _said(error)
    return {"customer": View(ctx).customer(created), "userErrors": []}


def customer_update(info: Any, input: Doc) -> Doc:
    ctx = context_of(info)
    ctx.require(("write_customers",), "customerUpdate")
    ident = parse_gid(input.get("id") or "", "Customer")
    if ident is None or ctx.ops.shop.customers.get(ident) is None:
        return _refused(["id"], "Customer does not exist")
    try:
        updated = ctx.ops.customers.update_customer(ident, _data(input))
    except ShopifyError as error:
        return _said(error)
    return {"customer": View(ctx).customer(updated), "userErrors": []}


MUTATIONS: dict[str, Callable[..., Doc]] = {
    "customerCreate": customer_create,
    "customerUpdate": customer_update,
}
