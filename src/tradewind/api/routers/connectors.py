"""Connectors: the installed plugin types, with their settings schema and guide."""

from __future__ import annotations

from fastapi import Request

from tradewind.api import schemas
from tradewind.api.problems import responses
from tradewind.api.routers import resource_router
from tradewind.api.security import hub_of
from tradewind.app.present import connector_out
from tradewind.connectors.registry import UnknownConnector
from tradewind.errors import NotFound

router = resource_router("connectors")


@router.get("/connectors", response_model=list[schemas.ConnectorOut])
def list_connectors(request: Request) -> list[schemas.ConnectorOut]:
    return [connector_out(info) for info in hub_of(request).registry.infos()]


@router.get("/connectors/{key}", response_model=schemas.ConnectorOut, responses=responses(404))
def get_connector(request: Request, key: str) -> schemas.ConnectorOut:
    try:
        return connector_out(hub_of(request).registry.info(key))
    except UnknownConnector as exc:
        raise NotFound(str(exc)) from None
