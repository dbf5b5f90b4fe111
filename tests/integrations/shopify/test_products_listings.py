"""Products and listings (issue 5, points 3 and 8): Export Products creates a product made
in Tradewind in the store, links it and pushes its stock; Export Listings shows the
channel's title, description, images and price there; Import Listings reads them back;
nothing is sent twice and nothing echoes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from tests.integrations.shopify.conftest import World
from tradewind.app import actions
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.channels import service as channels
from tradewind.core.inventory import service as inventory
from tradewind.core.links import service as links
from tradewind.core.links.models import Listing, ProductLink
from tradewind.core.plugins import service as plugins
from tradewind.integrations.shopify import ShopifyConnector
from tradewind.monitoring.executions import Execution
from tradewind.sync import ledger
from tradewind.sync.models import WorkKind
from tradewind.vocabulary import Toggle


def _switch_on(world: World, toggle: Toggle) -> None:
    with world.hub.db.unit_of_work() as session:
        plugins.set_toggle(session, ShopifyConnector.info, world.plugin_id, toggle, True)


def _store_products(world: World, sku: str) -> list[dict[str, Any]]:
    return [
        p
        for p in world.sandbox.state(world.shop)["products"]
        if any(v["sku"] == sku for v in p["variants"])
    ]


def _link(world: World, product_id: int) -> ProductLink | None:
    with world.hub.db.read() as session:
        return links.product_links(session, world.plugin_id, [product_id]).get(product_id)


def _calls(world: World, operation: str) -> int:
    with world.hub.db.read() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Execution)
                .where(Execution.plugin_id == world.plugin_id, Execution.operation == operation)
            )
            or 0
        )


def _available(world: World, sku: str) -> int | None:
    state = world.sandbox.state(world.shop)
    items = {v["sku"]: v["inventory_item_id"] for p in state["products"] for v in p["variants"]}
    for level in state["inventory_levels"]:
        if level["inventory_item_id"] == items.get(sku):
            return int(level["available"])
    return None


def _mug(world: World) -> int:
    with world.hub.db.read() as session:
        mug = catalog.find_by_sku(session, "MUG")
        assert mug is not None
        return mug.id


def test_a_product_made_here_is_created_in_the_store_linked_and_stocked(world: World) -> None:
    _switch_on(world, Toggle.EXPORT_PRODUCTS)
    with world.hub.db.unit_of_work() as session:
        lamp = catalog.create_product(
            session,
            ProductIn(
                sku="LAMP-1", title="Desk lamp", price=Decimal("30"), barcode="4006381333931"
            ),
        )
        inventory.receive(session, lamp.id, world.warehouse_id, 5)
    world.settle(lambda: _link(world, lamp.id) is not None)
    (stored,) = _store_products(world, "LAMP-1")
    (variant,) = stored["variants"]
    assert stored["title"] == "Desk lamp" and stored["status"] == "active"
    assert (variant["price"], variant["barcode"]) == ("30.00", "4006381333931")
    link = _link(world, lamp.id)
    assert link is not None
    assert (link.external_id, link.product_ref) == (str(variant["id"]), str(stored["id"]))
    assert link.item_ref == str(variant["inventory_item_id"])
    world.settle(lambda: _available(world, "LAMP-1") == 5)  # linked, so its stock went out

    # Again with nothing changed: nothing is sent, nothing is created.
    updates = _calls(world, "products.update") + _calls(world, "variants.update")
    with world.hub.db.unit_of_work() as session:
        ledger.enqueue(session, world.plugin_id, WorkKind.EXPORT_PRODUCT, str(lamp.id))
    world.settle()
    assert _calls(world, "products.update") + _calls(world, "variants.update") == updates
    assert len(_store_products(world, "LAMP-1")) == 1

    with world.hub.db.unit_of_work() as session:
        catalog.update_product(session, lamp.id, {"price": Decimal("32.50"), "title": "Lamp"})
    world.settle(lambda: _store_products(world, "LAMP-1")[0]["variants"][0]["price"] == "32.50")
    (stored,) = _store_products(world, "LAMP-1")
    assert stored["title"] == "Lamp"


def test_a_product_the_store_already_sells_is_linked_not_created_again(world: World) -> None:
    world.sandbox.add_product(world.shop, "Bowl", [{"sku": "BOWL", "price": "8.00"}])
    _switch_on(world, Toggle.EXPORT_PRODUCTS)
    with world.hub.db.unit_of_work() as session:
        bowl = catalog.create_product(
            session, ProductIn(sku="bowl", title="Bowl", price=Decimal("9"))
        )
    world.settle(lambda: _link(world, bowl.id) is not None)
    (stored,) = _store_products(world, "BOWL")
    assert stored["variants"][0]["price"] == "9.00"


def test_export_all_products_sends_each_once(world: World) -> None:
    _switch_on(world, Toggle.EXPORT_PRODUCTS)
    with world.hub.db.unit_of_work() as session:
        for n in range(3):
            catalog.create_product(session, ProductIn(sku=f"CUP-{n}", title=f"Cup {n}"))
    queued = actions.export_products(world.hub, world.plugin_id)
    assert queued == 5  # MUG and PLATE (synced from the store) and the three cups
    world.settle()
    for n in range(3):
        assert len(_store_products(world, f"CUP-{n}")) == 1
    assert len(_store_products(world, "MUG")) == 1  # found by its SKU, not made again
    assert _calls(world, "products.create") == 3


def _listing(world: World, product_id: int) -> Listing | None:
    with world.hub.db.read() as session:
        rows = links.list_listings(session, channel_id=world.channel_id)
        return next((row for row in rows if row.product_id == product_id), None)


def test_export_listings_shows_the_channel_listing_in_the_store(world: World) -> None:
    _switch_on(world, Toggle.EXPORT_LISTINGS)  # switches Export Products on with it
    mug = _mug(world)
    with world.hub.db.unit_of_work() as session:
        links.upsert_listing(
            session,
            world.channel_id,
            mug,
            title="Big enamel mug",
            description="<p>Holds a pint.</p>",
            images=[
                "https://img.example.com/mug-front.jpg",
                "https://img.example.com/mug-side.jpg",
            ],
            price=Decimal("14.00"),
        )
        other = channels.create_channel(session, "Wholesale")
        links.upsert_listing(session, other.id, mug, title="MUG (case of 6)")

    def shown() -> bool:
        title: str = _store_products(world, "MUG")[0]["title"]
        return title == "Big enamel mug"

    world.settle(shown)
    (stored,) = _store_products(world, "MUG")
    assert stored["body_html"] == "<p>Holds a pint.</p>"
    assert stored["variants"][0]["price"] == "14.00"
    sources = [image["src"] for image in stored["images"]]
    assert [src.rsplit("/", 1)[-1].split("-")[:2] for src in sources] == [
        ["mug", "front"],
        ["mug", "side"],
    ]  # re-hosted by the store, in order
    image_ids = [image["id"] for image in stored["images"]]

    with world.hub.db.unit_of_work() as session:
        links.upsert_listing(session, world.channel_id, mug, price=Decimal("15.00"))
    world.settle(lambda: _store_products(world, "MUG")[0]["variants"][0]["price"] == "15.00")
    (stored,) = _store_products(world, "MUG")
    assert [image["id"] for image in stored["images"]] == image_ids  # not uploaded again
    assert stored["title"] == "Big enamel mug"  # not the other channel's

    with world.hub.db.unit_of_work() as session:
        links.upsert_listing(session, world.channel_id, mug, published=False)
    world.settle(lambda: _store_products(world, "MUG")[0]["status"] == "draft")


def test_import_listings_reads_the_store_into_the_channel_listing(world: World) -> None:
    (stored,) = _store_products(world, "MUG")
    world.admin(
        "PUT",
        f"products/{stored['id']}",
        {
            "product": {
                "id": stored["id"],
                "title": "Stoneware mug",
                "body_html": "<p>Dishwasher safe.</p>",
                "images": [{"src": "https://img.example.com/stoneware.png"}],
            }
        },
    )
    _switch_on(world, Toggle.IMPORT_LISTINGS)
    _switch_on(world, Toggle.EXPORT_LISTINGS)  # both ways: what is read is not written back
    writes = _calls(world, "products.update") + _calls(world, "variants.update")
    actions.sync_listings(world.hub, world.plugin_id)
    world.settle()
    listing = _listing(world, _mug(world))
    assert listing is not None
    assert (listing.title, listing.description) == ("Stoneware mug", "<p>Dishwasher safe.</p>")
    assert listing.price == Decimal("12.00") and listing.published
    (image,) = listing.images
    assert image.startswith("https://cdn.shopify.com/") and "stoneware" in image
    assert _calls(world, "products.update") + _calls(world, "variants.update") == writes

    # Sync products reads listings too while Import Listings is on.
    world.admin(
        "PUT",
        f"products/{stored['id']}",
        {"product": {"id": stored["id"], "title": "Mug, stoneware"}},
    )
    actions.sync_products(world.hub, world.plugin_id)
    world.settle(
        lambda: (
            (found := _listing(world, _mug(world))) is not None and found.title == "Mug, stoneware"
        )
    )


def test_a_product_deleted_in_the_store_is_made_again_and_relinked(world: World) -> None:
    _switch_on(world, Toggle.EXPORT_PRODUCTS)
    with world.hub.db.unit_of_work() as session:
        vase = catalog.create_product(session, ProductIn(sku="VASE", title="Vase"))
    world.settle(lambda: _link(world, vase.id) is not None)
    (first,) = _store_products(world, "VASE")
    world.admin("DELETE", f"products/{first['id']}")
    with world.hub.db.unit_of_work() as session:
        catalog.update_product(session, vase.id, {"title": "Tall vase"})
    world.settle(lambda: len(_store_products(world, "VASE")) == 1)
    (again,) = _store_products(world, "VASE")
    assert again["id"] != first["id"] and again["title"] == "Tall vase"
    link = _link(world, vase.id)
    assert link is not None and link.product_ref == str(again["id"])
    assert link.external_id == str(again["variants"][0]["id"])
