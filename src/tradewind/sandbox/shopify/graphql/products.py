"""Product writes in Shopify's 2024-04+ product model (``productCreate``,
``productUpdate``, ``productSet``, ``productVariantsBulkUpdate``) and ``metafieldsSet``.
GraphQL inputs are translated to the catalog's REST-shaped data, so the same rules and
``products/*`` webhooks apply whichever API wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tradewind.sandbox.shopify.graphql.context import Ctx, context_of, parse_gid
from tradewind.sandbox.shopify.graphql.converters import View
from tradewind.sandbox.shopify.graphql.metafields import find, metafield_view
from tradewind.sandbox.shopify.state import Doc

MAX_METAFIELDS = 25

PRODUCT_FIELDS = {
    "title": "title",
    "descriptionHtml": "body_html",
    "handle": "handle",
    "vendor": "vendor",
    "productType": "product_type",
}

WEIGHT_UNITS = {"GRAMS": "g", "KILOGRAMS": "kg", "OUNCES": "oz", "POUNDS": "lb"}

# Owner kind of a metafield -> the write scope it needs.
OWNER_SCOPES = {
    "Product": "write_products",
    "ProductVariant": "write_products",
    "Customer": "write_customers",
    "Order": "write_orders",
}


def _error(path: list[str], message: str, code: str | None = None) -> Doc:
    return {"field": path, "message": message, "code": code}


def _require(ctx: Ctx, scope: str, name: str) -> None:
    ctx.require((scope,), name)


def _product_data(given: Doc) -> Doc:
    data: Doc = {rest: given[key] for key, rest in PRODUCT_FIELDS.items() if key in given}
    if given.get("tags") is not None:
        data["tags"] = ", ".join(given["tags"])
    if given.get("status") is not None:
        data["status"] = str(given["status"]).lower()
    return data


def _option_names(options: list[Doc] | None) -> list[str]:
    return [str(o.get("name") or "Title") for o in options or []][:3]


def _variant_data(given: Doc, names: list[str], path: list[str]) -> Doc:
    """REST-shaped variant data, or a user error (a dict with ``message``)."""
    data: Doc = {}
    if given.get("id"):
        ident = parse_gid(given["id"], "ProductVariant")
        if ident is None:
            return _error([*path, "id"], "Product variant does not exist", "INVALID_VARIANT")
        data["id"] = ident
    for index, value in enumerate(given.get("optionValues") or []):
        name = value.get("optionName")
        if name not in names:
            return _error(
                [*path, "optionValues", str(index), "optionName"],
                "Option does not exist",
                "OPTION_DOES_NOT_EXIST",
            )
        data[f"option{names.index(name) + 1}"] = value.get("name")
    for key, rest in (("price", "price"), ("compareAtPrice", "compare_at_price")):
        if key in given:
            data[rest] = given[key]
    for key in ("barcode", "taxable"):
        if key in given:
            data[key] = given[key]
    if given.get("inventoryPolicy") is not None:
        data["inventory_policy"] = str(given["inventoryPolicy"]).lower()
    item = given.get("inventoryItem") or {}
    sku = item.get("sku", given.get("sku"))
    if sku is not None:
        data["sku"] = sku
    if item.get("tracked") is not None:
        data["inventory_management"] = "shopify" if item["tracked"] else None
    weight = (item.get("measurement") or {}).get("weight")
    if weight:
        data["weight"] = float(weight["value"])
        data["weight_unit"] = WEIGHT_UNITS[weight["unit"]]
    return data


def _images(files: list[Doc]) -> list[Doc]:
    """``FileSetInput`` as the catalog's images: kept by id, or made from the source."""
    return [
        {"id": parse_gid(f["id"], "MediaImage")} if f.get("id") else {"src": f["originalSource"]}
        for f in files
    ]


def product_create(info: Any, product: Doc | None = None, input: Doc | None = None) -> Doc:
    ctx = context_of(info)
    _require(ctx, "write_products", "productCreate")
    given = product or input or {}
    if not given.get("title"):
        return {"product": None, "userErrors": [_error(["title"], "Title can't be blank")]}
    data = _product_data(given)
    options = given.get("productOptions") or []
    if options:
        data["options"] = [{"name": n} for n in _option_names(options)]
        first = {
            f"option{i + 1}": ((o.get("values") or [{}])[0].get("name") or "Default Title")
            for i, o in enumerate(options[:3])
        }
        data["variants"] = [first]
    created = ctx.ops.catalog.create_product(data)
    _save_metafields(ctx, f"gid://shopify/Product/{created['id']}", given.get("metafields"))
    return {"product": _product(ctx, created["id"]), "userErrors": []}


def product_update(info: Any, product: Doc | None = None, input: Doc | None = None) -> Doc:
    ctx = context_of(info)
    _require(ctx, "write_products", "productUpdate")
    given = product or input or {}
    ident = parse_gid(given.get("id") or "", "Product")
    if ident is None or ctx.ops.shop.products.get(ident) is None:
        return {"product": None, "userErrors": [_error(["id"], "Product does not exist")]}
    ctx.ops.catalog.update_product(ident, _product_data(given))
    _save_metafields(ctx, f"gid://shopify/Product/{ident}", given.get("metafields"))
    return {"product": _product(ctx, ident), "userErrors": []}


def product_set(info: Any, input: Doc, **_options: Any) -> Doc:
    """Create or replace a product with its whole variant list (variants not listed go)."""
    ctx = context_of(info)
    _require(ctx, "write_products", "productSet")
    identifier = _options.get("identifier") or {}
    gid = input.get("id") or identifier.get("id")
    ident = parse_gid(gid, "Product") if gid else None
    if gid and (ident is None or ctx.ops.shop.products.get(ident) is None):
        return _set_error(["input", "id"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
    if ident is None and identifier.get("handle"):
        found = [p for p in ctx.ops.shop.products.values() if p["handle"] == identifier["handle"]]
        ident = found[0]["id"] if found else None
    if ident is None and not input.get("title"):
        return _set_error(["input", "title"], "Title can't be blank", "BLANK")
    data = _product_data(input)
    existing = ctx.ops.shop.products.get(ident) if ident else None
    names = _option_names(input.get("productOptions")) or (
        [o["name"] for o in existing["options"]] if existing else []
    )
    if input.get("productOptions"):
        data["options"] = [{"name": n} for n in names]
    if input.get("variants") is not None:
        variants = []
        for index, given in enumerate(input["variants"]):
            spec = _variant_data(given, names, ["input", "variants", str(index)])
            if "message" in spec:
                return {"product": None, "productSetOperation": None, "userErrors": [spec]}
            variants.append(spec)
        data["variants"] = variants or [{}]
    if input.get("files") is not None:
        data["images"] = _images(input["files"])
    if ident is None:
        ident = int(ctx.ops.catalog.create_product(data)["id"])
    else:
        ctx.ops.catalog.update_product(ident, data)
    _save_metafields(ctx, f"gid://shopify/Product/{ident}", input.get("metafields"))
    return {"product": _product(ctx, ident), "productSetOperation": None, "userErrors": []}


def _set_error(path: list[str], message: str, code: str) -> Doc:
    return {
        "product": None,
        "productSetOperation": None,
        "userErrors": [_error(path, message, code)],
    }


def variants_bulk_update(info: Any, productId: str, variants: list[Doc], **_: Any) -> Doc:  # noqa: N803
    ctx = context_of(info)
    _require(ctx, "write_products", "productVariantsBulkUpdate")
    ident = parse_gid(productId, "Product")
    product = ctx.ops.shop.products.get(ident) if ident else None
    if product is None:
        return {
            "product": None,
            "productVariants": None,
            "userErrors": [
                _error(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
            ],
        }
    names = [o["name"] for o in product["options"]]
    specs = []
    for index, given in enumerate(variants):
        path = ["variants", str(index)]
        spec = _variant_data(given, names, path)
        if "message" in spec:
            return {"product": None, "productVariants": None, "userErrors": [spec]}
        own = ctx.ops.shop.variants.get(spec.get("id", 0))
        if own is None or own["product_id"] != ident:
            return {
                "product": None,
                "productVariants": None,
                "userErrors": [
                    _error(
                        [*path, "id"],
                        "Product variant does not exist",
                        "PRODUCT_VARIANT_DOES_NOT_EXIST",
                    )
                ],
            }
        specs.append(spec)
    view = View(ctx)
    updated = []
    for spec in specs:
        ctx.ops.catalog.update_variant(spec["id"], spec)
        stored = ctx.ops.shop.variants.get(spec["id"])
        assert stored is not None
        updated.append(view.variant(stored))
    return {"product": _product(ctx, ident), "productVariants": updated, "userErrors": []}  # type: ignore[arg-type]


def _product(ctx: Ctx, ident: int) -> Doc:
    stored = ctx.ops.shop.products.get(ident)
    assert stored is not None
    return View(ctx).product(stored)


# --- metafields ---------------------------------------------------------------------------


def _owner_exists(ctx: Ctx, gid: str) -> str | None:
    """The owner's kind when it exists."""
    tables = {
        "Product": ctx.ops.shop.products,
        "ProductVariant": ctx.ops.shop.variants,
        "Customer": ctx.ops.shop.customers,
        "Order": ctx.ops.shop.orders,
    }
    for kind, table in tables.items():
        ident = parse_gid(gid, kind)
        if ident is not None and table.get(ident) is not None:
            return kind
    return None


def _check_value(kind: str, value: str) -> str | None:
    if kind == "number_integer":
        try:
            int(value)
        except ValueError:
            return "Value must be an integer."
    if kind == "boolean" and value not in ("true", "false"):
        return "Value must be true or false."
    return None


def metafields_set(info: Any, metafields: list[Doc]) -> Doc:
    """All or nothing, as Shopify: one bad input and none is written."""
    ctx = context_of(info)
    if len(metafields) > MAX_METAFIELDS:
        message = f"Exceeded the maximum metafields input limit of {MAX_METAFIELDS}."
        return {
            "metafields": None,
            "userErrors": [
                {
                    "field": ["metafields"],
                    "message": message,
                    "code": "LESS_THAN_OR_EQUAL_TO",
                    "elementIndex": None,
                }
            ],
        }
    errors: list[Doc] = []
    plans: list[tuple[Doc, str, Doc | None]] = []
    for index, given in enumerate(metafields):
        path = ["metafields", str(index)]
        kind = _owner_exists(ctx, given["ownerId"])
        if kind is None:
            errors.append(_mf_error([*path, "ownerId"], "Owner does not exist.", "INVALID", index))
            continue
        _require(ctx, OWNER_SCOPES[kind], "metafieldsSet")
        namespace = given.get("namespace") or "$app"
        existing = find(ctx, given["ownerId"], namespace, given["key"])
        mf_type = given.get("type") or (existing["type"] if existing else None)
        if not mf_type:
            errors.append(_mf_error([*path, "type"], "Type can't be blank", "BLANK", index))
            continue
        bad = _check_value(mf_type, given["value"])
        if bad:
            errors.append(_mf_error([*path, "value"], bad, "INVALID_VALUE", index))
            continue
        plans.append((dict(given, namespace=namespace, type=mf_type), kind, existing))
    if errors:
        return {"metafields": None, "userErrors": errors}
    saved = [_write(ctx, given, kind, existing) for given, kind, existing in plans]
    return {"metafields": [metafield_view(doc) for doc in saved], "userErrors": []}


def _mf_error(path: list[str], message: str, code: str, index: int) -> Doc:
    return {"field": path, "message": message, "code": code, "elementIndex": index}


def _write(ctx: Ctx, given: Doc, kind: str, existing: Doc | None) -> Doc:
    now = ctx.ops.now()
    doc = existing or {
        "id": ctx.ops.state.next_id(),
        "owner_id": given["ownerId"],
        "owner_type": kind.upper() if kind != "ProductVariant" else "PRODUCTVARIANT",
        "namespace": given["namespace"],
        "key": given["key"],
        "created_at": now,
    }
    doc = dict(doc, value=given["value"], type=given["type"], updated_at=now)
    ctx.ops.shop.metafields.put(doc["id"], doc)
    return doc


def _save_metafields(ctx: Ctx, owner: str, given: list[Doc] | None) -> None:
    for mf in given or []:
        if mf.get("key") and mf.get("value") is not None and mf.get("type"):
            namespace = mf.get("namespace") or "$app"
            existing = find(ctx, owner, namespace, mf["key"])
            kind = owner.split("/")[3]
            _write(ctx, dict(mf, ownerId=owner, namespace=namespace), kind, existing)


MUTATIONS: dict[str, Callable[..., Doc]] = {
    "productCreate": product_create,
    "productUpdate": product_update,
    "productSet": product_set,
    "productVariantsBulkUpdate": variants_bulk_update,
    "metafieldsSet": metafields_set,
}
