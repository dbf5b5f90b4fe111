"""``tradewind listings`` and the plugin commands of Import/Export Customers, Listings and
Products: what a merchant types, and one line with exit status 2 for bad input."""

from __future__ import annotations

from decimal import Decimal

from tests.cli.test_cli import bad, ok
from tradewind.core.channels import service as channels
from tradewind.core.links import service as links
from tradewind.hub import Hub


def test_set_and_list_listings_per_channel(hub: Hub) -> None:
    ok(hub, "products", "add", "MUG", "Mug")
    ok(hub, "channels", "add", "Shopify UK")
    ok(hub, "channels", "add", "Wholesale")
    out = ok(
        hub,
        "listings",
        "set",
        "Shopify UK",
        "MUG",
        "--title",
        "Enamel mug",
        "--description",
        "<p>Holds a pint.</p>",
        "--image",
        "https://img.example.com/mug-1.jpg",
        "--image",
        "https://img.example.com/mug-2.jpg",
        "--price",
        "14.00",
    )
    assert "MUG on Shopify UK: Enamel mug at 14.00" in out
    ok(hub, "listings", "set", "wholesale", "MUG", "--title", "Mug (case of 6)", "--unpublished")
    ok(hub, "listings", "set", "Shopify UK", "MUG", "--price", "15")  # the rest is kept
    with hub.db.read() as session:
        uk = channels.channel_by_ref(session, "Shopify UK")
        (listing,) = links.list_listings(session, channel_id=uk.id)
        assert (listing.title, listing.price) == ("Enamel mug", Decimal("15"))
        assert listing.images == [
            "https://img.example.com/mug-1.jpg",
            "https://img.example.com/mug-2.jpg",
        ]
    everything = ok(hub, "listings", "list")
    assert "Enamel mug" in everything and "Mug (case of 6)" in everything
    only_uk = ok(hub, "listings", "list", "--channel", "Shopify UK")
    assert "Enamel mug" in only_uk and "case of 6" not in only_uk


def test_bad_listing_input_exits_2_with_one_line(hub: Hub) -> None:
    ok(hub, "products", "add", "MUG", "Mug")
    ok(hub, "channels", "add", "Shopify UK")
    assert "'abc' is not an amount" in bad(
        hub, "listings", "set", "Shopify UK", "MUG", "--price", "abc"
    )
    assert "cannot be negative" in bad(hub, "listings", "set", "Shopify UK", "MUG", "--price", "-1")
    assert "no channel named 'Nowhere'" in bad(hub, "listings", "set", "Nowhere", "MUG")
    assert "no product with SKU or id 'NOPE'" in bad(hub, "listings", "set", "Shopify UK", "NOPE")


def test_plugin_commands_name_what_the_connector_cannot_do(hub: Hub) -> None:
    ok(hub, "plugins", "add", "fake", "s", "--set", "shop=shop", "--set", "api_token=t")
    assert "does not support Import Customers" in bad(hub, "plugins", "sync-customers", "s")
    assert "does not support Import Listings" in bad(hub, "plugins", "sync-listings", "s")
    assert "does not support Export Products" in bad(hub, "plugins", "export-products", "s")
    assert "no plugin named 'ghost'" in bad(hub, "plugins", "export-products", "ghost")
