"""Products (the list, CSV import, a product and its stock movements) and warehouses."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from tradewind.auth.service import SessionUser
from tradewind.core.catalog import service as catalog
from tradewind.core.catalog.schemas import ProductIn
from tradewind.core.inventory import service as inventory
from tradewind.core.inventory.schemas import Move, MovementIn
from tradewind.errors import Invalid
from tradewind.web.app import page, redirect
from tradewind.web.session import (
    hub_of,
    reader,
    writer,
)
from tradewind.web.views.common import PAGE_SIZE, page_of

router = APIRouter(include_in_schema=False)


@router.get("/products")
def product_list(
    request: Request,
    q: str = Query("", max_length=128),
    after: int = Query(0, ge=0),
    _user: SessionUser = Depends(reader),
) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        listed = page_of(
            catalog.list_products(session, search=q or None, after_id=after, limit=PAGE_SIZE + 1),
            lambda last: f"/products?{urlencode({'q': q, 'after': last.id})}",
        )
        levels = inventory.levels(session, product_ids=[p.id for p in listed.rows])
        warehouses = inventory.list_warehouses(session)
    stock: dict[int, dict[int, Any]] = {}
    for level in levels:
        stock.setdefault(level.product_id, {})[level.warehouse_id] = level
    return page(
        request,
        "products.html",
        rows=listed.rows,
        stock=stock,
        warehouses=warehouses,
        q=q,
        next_url=listed.next_url,
    )


@router.post("/products")
def product_create(
    request: Request,
    sku: str = Form(..., max_length=128),
    title: str = Form(..., max_length=255),
    barcode: str = Form("", max_length=64),
    price: str = Form("0", max_length=32),
    _user: SessionUser = Depends(writer),
) -> Response:
    try:
        data = ProductIn(sku=sku, title=title, barcode=barcode or None, price=Decimal(price or "0"))
    except (ValidationError, InvalidOperation) as exc:
        raise Invalid(f"the product is not valid: {exc}") from None
    with hub_of(request).db.unit_of_work() as session:
        product = catalog.create_product(session, data)
    return redirect(request, f"/products/{product.id}", f"Product {product.sku} created.")


@router.post("/products/import")
async def product_import(request: Request, _user: SessionUser = Depends(writer)) -> Response:
    import io

    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise Invalid("choose a CSV file")
    raw = await upload.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the CSV file is not UTF-8") from None
    hub = hub_of(request)

    def run() -> Any:
        with hub.db.unit_of_work() as session:
            return catalog.import_csv(session, io.StringIO(text, newline=""))

    report = await run_in_threadpool(run)
    summary = (
        f"Imported: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged"
    )
    if report.errors:
        details = "; ".join(f"line {e.line}: {e.message}" for e in report.errors[:10])
        return redirect(
            request,
            "/products",
            f"{summary}; {len(report.errors)} row(s) refused — {details}",
            error=True,
        )
    return redirect(request, "/products", summary + ".")


@router.get("/products/{product_id}")
def product_page(
    request: Request, product_id: int, _user: SessionUser = Depends(reader)
) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        product = catalog.get_product(session, product_id)
        warehouses = inventory.list_warehouses(session)
        levels = {
            lvl.warehouse_id: lvl for lvl in inventory.levels(session, product_ids=[product_id])
        }
        moves = inventory.movements(session, product_id=product_id, limit=100)
    return page(
        request, "product.html", product=product, warehouses=warehouses, levels=levels, moves=moves
    )


@router.post("/products/{product_id}/movements")
def product_move(
    request: Request,
    product_id: int,
    kind: str = Form(...),
    warehouse_id: int = Form(...),
    quantity: int = Form(..., ge=-1_000_000_000, le=1_000_000_000),
    to_warehouse_id: str = Form(""),
    reason: str = Form("", max_length=255),
    _user: SessionUser = Depends(writer),
) -> Response:
    try:
        body = MovementIn(
            kind=kind,
            product_id=product_id,
            warehouse_id=warehouse_id,
            quantity=quantity,
            to_warehouse_id=int(to_warehouse_id) if to_warehouse_id.isdigit() else None,
            reason=reason,
        )
    except ValidationError:
        raise Invalid(f"choose one of: {', '.join(Move)}") from None
    with hub_of(request).db.unit_of_work() as session:
        moved = inventory.record_movement(session, body)
    return redirect(
        request,
        f"/products/{product_id}",
        f"{kind.capitalize()} recorded ({len(moved)} movement(s)).",
    )


@router.get("/warehouses")
def warehouse_list(request: Request, _user: SessionUser = Depends(reader)) -> HTMLResponse:
    with hub_of(request).db.read() as session:
        rows = inventory.list_warehouses(session)
    return page(request, "warehouses.html", rows=rows)


@router.post("/warehouses")
def warehouse_create(
    request: Request,
    code: str = Form(..., max_length=64),
    name: str = Form("", max_length=255),
    _user: SessionUser = Depends(writer),
) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        warehouse = inventory.create_warehouse(session, code, name or None)
    return redirect(request, "/warehouses", f"Warehouse {warehouse.code} created.")
