"""A plugin's links: its platform locations mapped to warehouses, and core products mapped
to platform variants (``core/links``)."""

from __future__ import annotations

from fastapi import Request, Response, status

from tradewind.api import schemas
from tradewind.api.problems import responses
from tradewind.api.routers import resource_router
from tradewind.api.security import hub_of
from tradewind.app import actions
from tradewind.core.links import service as links
from tradewind.core.plugins import service as plugins

router = resource_router("plugins")


@router.get(
    "/plugins/{plugin_id}/locations",
    response_model=list[schemas.LocationOut],
    responses=responses(404),
)
def get_locations(request: Request, plugin_id: int) -> list[schemas.LocationOut]:
    with hub_of(request).db.read() as session:
        plugins.get_plugin(session, plugin_id)
        return [
            schemas.LocationOut.model_validate(row)
            for row in links.location_mappings(session, plugin_id)
        ]


@router.put(
    "/plugins/{plugin_id}/locations/{external_id}",
    response_model=schemas.LocationOut,
    responses=responses(404),
)
def map_location(
    request: Request, plugin_id: int, external_id: str, body: schemas.LocationMapIn
) -> schemas.LocationOut:
    """Map a platform location to a warehouse (null: unmapped — its stock never syncs)."""
    row = actions.map_location(
        hub_of(request),
        plugin_id,
        external_id,
        warehouse_id=body.warehouse_id,
        shipping_process=body.shipping_process,
        is_default=body.is_default,
    )
    return schemas.LocationOut.model_validate(row)


@router.get(
    "/plugins/{plugin_id}/product-links",
    response_model=list[schemas.ProductLinkOut],
    responses=responses(404),
)
def get_product_links(request: Request, plugin_id: int) -> list[schemas.ProductLinkOut]:
    with hub_of(request).db.read() as session:
        plugins.get_plugin(session, plugin_id)
        mapped = links.product_links(session, plugin_id)
        return [schemas.ProductLinkOut.model_validate(mapped[key]) for key in sorted(mapped)]


@router.put(
    "/plugins/{plugin_id}/product-links/{product_id}",
    response_model=schemas.ProductLinkOut,
    responses=responses(404, 409),
)
def link_product(
    request: Request, plugin_id: int, product_id: int, body: schemas.ProductLinkIn
) -> schemas.ProductLinkOut:
    """Map a core product to a platform variant (an existing mapping needs `replace`)."""
    with hub_of(request).db.unit_of_work() as session:
        plugins.get_plugin(session, plugin_id)
        link = links.link_product(
            session,
            plugin_id,
            product_id,
            body.external_id,
            product_ref=body.product_ref,
            item_ref=body.item_ref,
            sku=body.sku,
            replace=body.replace,
        )
        return schemas.ProductLinkOut.model_validate(link)


@router.delete(
    "/plugins/{plugin_id}/product-links/{product_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=responses(404),
)
def unlink_product(request: Request, plugin_id: int, product_id: int) -> Response:
    with hub_of(request).db.unit_of_work() as session:
        plugins.get_plugin(session, plugin_id)
        links.unlink_product(session, plugin_id, product_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
