"""Customers and listings (how a product appears on one channel)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from tradewind.api import schemas
from tradewind.api.pagination import Page, PageParams, page_params, paginate
from tradewind.api.problems import responses
from tradewind.api.routers import resource_router
from tradewind.api.security import hub_of
from tradewind.core.customers import service as customers
from tradewind.core.customers.schemas import Address, CustomerIn
from tradewind.core.links import service as links
from tradewind.core.orders import contact
from tradewind.core.plugins import service as plugins

router = resource_router("customers")


@router.get("/customers", response_model=Page[schemas.CustomerOut])
def list_customers(
    request: Request,
    page: PageParams = Depends(page_params),
    search: str | None = Query(default=None, max_length=128, description="Email, name, company."),
) -> Page[schemas.CustomerOut]:
    with hub_of(request).db.read() as session:
        rows = customers.list_customers(
            session, search=search, after_id=page.after_id, limit=page.limit + 1
        )
        return paginate(rows, page.limit, schemas.CustomerOut.model_validate, lambda c: c.id)


@router.post(
    "/customers",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.CustomerOut,
    responses=responses(409),
)
def create_customer(request: Request, body: CustomerIn) -> schemas.CustomerOut:
    with hub_of(request).db.unit_of_work() as session:
        return schemas.CustomerOut.model_validate(customers.create_customer(session, body))


@router.get(
    "/customers/{customer_id}", response_model=schemas.CustomerOut, responses=responses(404)
)
def get_customer(request: Request, customer_id: int) -> schemas.CustomerOut:
    with hub_of(request).db.read() as session:
        return schemas.CustomerOut.model_validate(customers.get_customer(session, customer_id))


@router.patch(
    "/customers/{customer_id}", response_model=schemas.CustomerOut, responses=responses(404, 409)
)
def update_customer(request: Request, customer_id: int, body: CustomerIn) -> schemas.CustomerOut:
    """Fields given replace the stored ones; addresses given are added (no duplicates)."""
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    with hub_of(request).db.unit_of_work() as session:
        return schemas.CustomerOut.model_validate(
            customers.update_customer(session, customer_id, changes)
        )


listings = resource_router("listings")


@listings.get("/listings", response_model=Page[schemas.ListingOut])
def list_listings(
    request: Request, page: PageParams = Depends(page_params), channel_id: int | None = None
) -> Page[schemas.ListingOut]:
    with hub_of(request).db.read() as session:
        rows = links.list_listings(
            session, channel_id=channel_id, after_id=page.after_id, limit=page.limit + 1
        )
        return paginate(rows, page.limit, schemas.ListingOut.model_validate, lambda x: x.id)


@listings.put(
    "/listings/{channel_id}/{product_id}",
    response_model=schemas.ListingOut,
    responses=responses(404),
)
def upsert_listing(
    request: Request, channel_id: int, product_id: int, body: schemas.ListingIn
) -> schemas.ListingOut:
    """Create or change how a product appears on a channel."""
    with hub_of(request).db.unit_of_work() as session:
        listing = links.upsert_listing(session, channel_id, product_id, **body.model_dump())
        return schemas.ListingOut.model_validate(listing)


class ContactIn(BaseModel):
    """An order's buyer data, fixed here (each field: null leaves it as it is)."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, max_length=320)
    customer_id: int | None = Field(
        default=None, description="An existing customer (wins over email)."
    )
    shipping_address: Address | None = None
    billing_address: Address | None = None


@router.patch(
    "/orders/{order_id}/contact",
    response_model=schemas.OrderOut,
    responses=responses(404),
    tags=["orders"],
)
def edit_order_contact(request: Request, order_id: int, body: ContactIn) -> schemas.OrderOut:
    """Give an order its customer (an existing one, or matched or made from an email) and
    its addresses; its missing-customer-fields flag and notification clear by themselves
    once nothing is missing."""
    with hub_of(request).db.unit_of_work() as session:
        order = contact.edit_contact(
            session,
            order_id,
            email=body.email,
            customer_id=body.customer_id,
            shipping_address=body.shipping_address,
            billing_address=body.billing_address,
        )
        return schemas.OrderOut.model_validate(order)


class GuestsAssigned(BaseModel):
    assigned: int = Field(description="How many open guest orders were given it.")


@router.post(
    "/plugins/{plugin_id}/guest-orders/generic-customer",
    response_model=GuestsAssigned,
    responses=responses(404),
    tags=["orders"],
)
def guests_to_generic(request: Request, plugin_id: int) -> GuestsAssigned:
    """Give every open guest order of the plugin (no customer) its generic customer."""
    with hub_of(request).db.unit_of_work() as session:
        plugin = plugins.get_plugin(session, plugin_id)
        count = contact.assign_generic_to_guests(session, plugin.id, plugin.name)
        return GuestsAssigned(assigned=count)
