"""A template can read a store's catalog and its locations like a Python connector: the
``products`` pull pages through products (a record that does not fit is skipped alone,
with its reason) and the ``locations`` pull is read to its last page."""

from __future__ import annotations

import json

import httpx2

from tradewind.connectors.base import ImportsProducts, ListsLocations
from tradewind.connectors.ratelimit import Priority
from tradewind.connectors.template import connector_class, load_template
from tradewind.connectors.testing import suite_context

CATALOG = """\
schema: tradewind-template/v1
id: catalog_store
version: 1.0.0
display_name: Catalog store
category: storefront
capabilities: [import_products, locations]
environments:
  live: {base_url: "https://store.example"}
auth: {kind: none}
test_connection:
  request: {path: /me}
pulls:
  products:
    request: {path: /products}
    paginate: {kind: page, param: page, size: 2, size_param: limit}
    records: body.products
    map: |
      {"external_id": record.id, "title": record.name,
       "variants": [record.skus.{"external_id": code, "sku": code, "price": price}]}
    returns: Product
  locations:
    request: {path: /locations}
    paginate: {kind: cursor, param: after, next: body.next}
    records: body.locations
    map: '{"external_id": record.id, "name": record.name}'
    returns: Location
"""
PRODUCTS = [
    {"id": "p1", "name": "Mug", "skus": [{"code": "MUG", "price": "12.00"}]},
    {"id": "p2", "name": None, "skus": []},  # no title: does not fit a product
    {"id": "p3", "name": "Plate", "skus": [{"code": "PLATE", "price": "8.50"}]},
]
LOCATIONS = {None: ([{"id": "a", "name": "Main"}], "2"), "2": ([{"id": "b", "name": "Pop"}], None)}


def _store(request: httpx2.Request) -> httpx2.Response:
    query = dict(request.url.params)
    if request.url.path == "/products":
        page, size = int(query["page"]), int(query["limit"])
        return httpx2.Response(200, json={"products": PRODUCTS[(page - 1) * size : page * size]})
    rows, following = LOCATIONS[query.get("after")]
    return httpx2.Response(200, content=json.dumps({"locations": rows, "next": following}))


def _connector() -> object:
    made = connector_class(load_template(CATALOG))
    return made(made.info.settings(), suite_context(httpx2.MockTransport(_store)))


def test_products_page_through_and_a_bad_one_is_skipped_alone() -> None:
    connector = _connector()
    assert isinstance(connector, ImportsProducts)
    first = connector.list_products(None, Priority.BACKGROUND)
    assert [p.external_id for p in first.records] == ["p1"]
    assert first.skipped[0][0] == "p2" and "does not fit a product" in first.skipped[0][1]
    assert first.records[0].variants[0].sku == "MUG"
    second = connector.list_products(first.next_cursor, Priority.BACKGROUND)
    assert [p.title for p in second.records] == ["Plate"]


def test_every_page_of_locations_is_read() -> None:
    connector = _connector()
    assert isinstance(connector, ListsLocations)
    assert [(loc.external_id, loc.name) for loc in connector.list_locations()] == [
        ("a", "Main"),
        ("b", "Pop"),
    ]
