"""Products (the catalog of record), warehouses, stock levels and movements."""

from __future__ import annotations

import io

from fastapi import Depends, File, Query, Request, Response, UploadFile, status

from tradewind.api import schemas
from tradewind.api.pagination import Page, PageParams, page_params, paginate
from tradewind.api.problems import responses
from tradewind.api.routers import resource_router
from tradewind.api.security import hub_of
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ImportReport, ProductIn, ProductOut
from tradewind.core.inventory import service as inventory
from tradewind.errors import Invalid

router = resource_router("catalog")


@router.get("/products", response_model=Page[ProductOut])
def list_products(
    request: Request,
    page: PageParams = Depends(page_params),
    search: str | None = Query(default=None, max_length=128, description="SKU or title."),
) -> Page[ProductOut]:
    with hub_of(request).db.read() as session:
        rows = catalog.list_products(
            session, search=search, after_id=page.after_id, limit=page.limit + 1
        )
        return paginate(rows, page.limit, ProductOut.model_validate, lambda p: p.id)


@router.post(
    "/products",
    status_code=status.HTTP_201_CREATED,
    response_model=ProductOut,
    responses=responses(409),
)
def create_product(request: Request, body: ProductIn) -> ProductOut:
    with hub_of(request).db.unit_of_work() as session:
        return ProductOut.model_validate(catalog.create_product(session, body))


@router.post("/products/import", response_model=ImportReport)
def import_products(request: Request, file: UploadFile = File(...)) -> ImportReport:
    """CSV import: sku, title (required), barcode, price, weight_grams, active, attr.<name>.
    Bad rows are reported with their line; good rows are imported regardless."""
    # The body was bounded by TRADEWIND_IMPORT_MAX_BYTES as it streamed in (api/limits.py).
    raw = file.file.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the CSV file is not UTF-8", fields={"file": "encoding"}) from None
    with hub_of(request).db.unit_of_work() as session:
        return catalog.import_csv(session, io.StringIO(text, newline=""))


@router.get("/products/{product_id}", response_model=ProductOut, responses=responses(404))
def get_product(request: Request, product_id: int) -> ProductOut:
    with hub_of(request).db.read() as session:
        return ProductOut.model_validate(catalog.get_product(session, product_id))


@router.patch("/products/{product_id}", response_model=ProductOut, responses=responses(404, 409))
def update_product(request: Request, product_id: int, body: schemas.ProductPatch) -> ProductOut:
    changes = body.model_dump(exclude_unset=True)
    with hub_of(request).db.unit_of_work() as session:
        return ProductOut.model_validate(catalog.update_product(session, product_id, changes))


@router.delete(
    "/products/{product_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(404, 409),
)
def delete_product(request: Request, product_id: int) -> Response:
    """Remove a product (its stock, listings and links with it); one that was ordered is
    refused (409): set it inactive instead."""
    with hub_of(request).db.unit_of_work() as session:
        catalog.delete_product(session, product_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -------------------------------------------------------------------------- warehouses


@router.get("/warehouses", response_model=list[schemas.WarehouseOut])
def list_warehouses(request: Request) -> list[schemas.WarehouseOut]:
    with hub_of(request).db.read() as session:
        return [schemas.WarehouseOut.model_validate(w) for w in inventory.list_warehouses(session)]


@router.post(
    "/warehouses",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.WarehouseOut,
    responses=responses(409),
)
def create_warehouse(request: Request, body: schemas.WarehouseIn) -> schemas.WarehouseOut:
    with hub_of(request).db.unit_of_work() as session:
        warehouse = inventory.create_warehouse(
            session, body.code, body.name, is_default=body.is_default
        )
        return schemas.WarehouseOut.model_validate(warehouse)


@router.get(
    "/warehouses/{warehouse_id}", response_model=schemas.WarehouseOut, responses=responses(404)
)
def get_warehouse(request: Request, warehouse_id: int) -> schemas.WarehouseOut:
    with hub_of(request).db.read() as session:
        return schemas.WarehouseOut.model_validate(inventory.get_warehouse(session, warehouse_id))


@router.post(
    "/warehouses/{warehouse_id}/default",
    response_model=schemas.WarehouseOut,
    responses=responses(404),
)
def make_default(request: Request, warehouse_id: int) -> schemas.WarehouseOut:
    """The warehouse new manual orders ship from."""
    with hub_of(request).db.unit_of_work() as session:
        warehouse = inventory.set_default_warehouse(session, warehouse_id)
        return schemas.WarehouseOut.model_validate(warehouse)


# ------------------------------------------------------------------------------- stock


@router.get("/stock", response_model=list[schemas.StockLevelOut], tags=["stock"])
def stock_levels(
    request: Request,
    product_id: int | None = None,
    warehouse_id: int | None = None,
) -> list[schemas.StockLevelOut]:
    """On hand, reserved and available per (product, warehouse)."""
    with hub_of(request).db.read() as session:
        rows = inventory.levels(
            session,
            product_ids=[product_id] if product_id is not None else None,
            warehouse_ids=[warehouse_id] if warehouse_id is not None else None,
        )
        return [schemas.StockLevelOut.model_validate(row) for row in rows]


@router.get("/stock/movements", response_model=Page[schemas.MovementOut], tags=["stock"])
def list_movements(
    request: Request,
    page: PageParams = Depends(page_params),
    product_id: int | None = None,
    warehouse_id: int | None = None,
) -> Page[schemas.MovementOut]:
    """Every change of on-hand stock, newest first."""
    with hub_of(request).db.read() as session:
        rows = inventory.movements(
            session,
            product_id=product_id,
            warehouse_id=warehouse_id,
            before_id=page.after_id,
            limit=page.limit + 1,
        )
        return paginate(rows, page.limit, schemas.MovementOut.model_validate, lambda m: m.id)


@router.post(
    "/stock/movements",
    status_code=status.HTTP_201_CREATED,
    response_model=list[schemas.MovementOut],
    responses=responses(404),
    tags=["stock"],
)
def create_movement(request: Request, body: schemas.MovementIn) -> list[schemas.MovementOut]:
    """Receive, pick, adjust (signed, with a reason), transfer (two movements) or count
    (sets on hand to the counted total). On hand never goes below zero."""
    with hub_of(request).db.unit_of_work() as session:
        moved = inventory.record_movement(session, body)
        return [schemas.MovementOut.model_validate(row) for row in moved]
