"""Products through the API: free-form attributes are bounded where they enter, and a
PATCH's nulls are answered clearly (#10 items 8 and 9)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api
from tests.api.test_resources import problem_of
from tradewind.core.catalog.schemas import ATTRIBUTES_MAX_BYTES, ATTRIBUTES_MAX_DEPTH


def nested(depth: int) -> dict[str, Any]:
    """An object ``depth`` levels deep: {"a": {"a": … {"leaf": 1}}}."""
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("attributes", "says"),
    [
        (nested(500), f"nested at most {ATTRIBUTES_MAX_DEPTH} deep"),
        (nested(ATTRIBUTES_MAX_DEPTH + 1), f"nested at most {ATTRIBUTES_MAX_DEPTH} deep"),
        ({"list": [[[[[[[[[1]]]]]]]]]}, f"nested at most {ATTRIBUTES_MAX_DEPTH} deep"),
        ({"text": "x" * ATTRIBUTES_MAX_BYTES}, f"at most {ATTRIBUTES_MAX_BYTES} bytes"),
    ],
    ids=["500-deep", "just-too-deep", "deep-lists", "too-large"],
)
def test_attributes_too_deep_or_too_large_are_refused_and_the_list_keeps_working(
    api: Api, attributes: dict[str, Any], says: str
) -> None:
    refused = problem_of(
        api.post("/products", json={"sku": "DEEP", "title": "Deep", "attributes": attributes}),
        422,
    )
    assert says in str(refused["errors"]["attributes"])  # type: ignore[index]
    mug = api.post("/products", json={"sku": "MUG", "title": "Mug"}).json()
    patched = api.patch(f"/products/{mug['id']}", json={"attributes": attributes})
    assert says in str(problem_of(patched, 422)["detail"])
    listed = api.get("/products")
    assert listed.status_code == 200
    assert [p["sku"] for p in listed.json()["items"]] == ["MUG"]


def test_attributes_within_the_bounds_are_kept(api: Api) -> None:
    attributes = {**nested(ATTRIBUTES_MAX_DEPTH), "colours": ["red", "blue"], "size": 4.5}
    created = api.post("/products", json={"sku": "OK", "title": "Ok", "attributes": attributes})
    assert created.status_code == 201, created.text
    assert api.get("/products").json()["items"][0]["attributes"] == attributes


@pytest.mark.parametrize("field", ["sku", "title", "price", "attributes", "active"])
def test_a_patch_with_null_for_a_field_that_always_has_a_value_is_refused(
    api: Api, field: str
) -> None:
    created = api.post("/products", json={"sku": "MUG", "title": "Mug", "price": "9.5"})
    before = api.get(f"/products/{created.json()['id']}").json()
    refused = problem_of(api.patch(f"/products/{before['id']}", json={field: None}), 422)
    assert "may not be null" in str(refused["errors"][field])  # type: ignore[index]
    assert api.get(f"/products/{before['id']}").json() == before


def test_a_patch_with_null_clears_the_optional_fields(api: Api) -> None:
    created = api.post(
        "/products",
        json={"sku": "MUG", "title": "Mug", "barcode": "5012345678900", "weight_grams": "300"},
    ).json()
    cleared = api.patch(f"/products/{created['id']}", json={"barcode": None, "weight_grams": None})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["barcode"] is None and cleared.json()["weight_grams"] is None


def test_a_product_is_deleted_and_then_not_found(api: Api) -> None:
    mug = api.post("/products", json={"sku": "MUG", "title": "Mug"}).json()
    assert api.delete(f"/products/{mug['id']}").status_code == 204
    problem_of(api.get(f"/products/{mug['id']}"), 404)
    problem_of(api.delete(f"/products/{mug['id']}"), 404)
