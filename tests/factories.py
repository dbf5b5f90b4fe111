"""Small builders for test data, all through the services (never raw rows)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from tests.fakes import FakeConnector
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.models import Product
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.channels import service as channels
from tradewind.core.channels.models import Channel
from tradewind.core.customers.schemas import Address
from tradewind.core.inventory import service as inventory
from tradewind.core.inventory.models import Warehouse
from tradewind.core.orders.schemas import OrderIn, OrderLineIn
from tradewind.core.plugins import service as plugins
from tradewind.core.plugins.models import Plugin
from tradewind.hub import Hub
from tradewind.vocabulary import Toggle


def product(
    session: Session, sku: str, *, price: str = "10", barcode: str | None = None
) -> Product:
    return catalog.create_product(
        session, ProductIn(sku=sku, title=f"Product {sku}", price=Decimal(price), barcode=barcode)
    )


def warehouse(session: Session, code: str = "MAIN") -> Warehouse:
    return inventory.create_warehouse(session, code)


def channel(session: Session, name: str = "Shopify UK") -> Channel:
    return channels.create_channel(session, name)


def plugin(
    hub: Hub,
    session: Session,
    name: str = "uk-store",
    *,
    shop: str | None = None,
    channel_id: int | None = None,
    import_orders: bool = True,
) -> Plugin:
    created = plugins.add_plugin(
        session,
        hub.vault,
        FakeConnector.info,
        name=name,
        config={"shop": shop or name, "api_token": "tok-secret-1234"},
    )
    if channel_id is not None:
        plugins.attach(session, created.id, channel_id)
    if import_orders:
        plugins.set_toggle(session, FakeConnector.info, created.id, Toggle.IMPORT_ORDERS, True)
    return created


ADDRESS = Address(
    first_name="Ada",
    last_name="Lovelace",
    address1="1 Analytical St",
    city="London",
    postal_code="N1 1AA",
    country_code="GB",
)


def order_in(external_id: str, *lines: tuple[str, int], **fields: Any) -> OrderIn:
    values: dict[str, Any] = {
        "external_id": external_id,
        "number": f"#{external_id}",
        "email": "ada@example.com",
        "shipping_address": ADDRESS,
        "lines": [
            OrderLineIn(
                external_id=f"{external_id}-{i}", sku=sku, quantity=qty, unit_price=Decimal("10")
            )
            for i, (sku, qty) in enumerate(lines)
        ],
    }
    values.update(fields)
    return OrderIn(**values)


def placed_order(
    session: Session,
    channel_id: int,
    number: str,
    placed_at: Any,
    *,
    price: str = "10",
    sku: str = "MUG",
    email: str = "",
    name: tuple[str, str] | None = None,
    **fields: Any,
) -> Any:
    """A manual order placed at ``placed_at`` for ``price``, with a customer named
    ``name`` when given (``email`` is then theirs)."""
    from tradewind.core.customers.schemas import CustomerIn
    from tradewind.core.orders import service as orders

    customer = None
    if name is not None:
        customer = CustomerIn(email=email, first_name=name[0], last_name=name[1])
    return orders.create_manual_order(
        session,
        channel_id,
        OrderIn(
            number=number,
            placed_at=placed_at,
            email=email,
            customer=customer,
            lines=[OrderLineIn(sku=sku, quantity=1, unit_price=Decimal(price))],
            **fields,
        ),
    )
