"""The ``/api/v1`` resources, one module per area of the core."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from tradewind.api.problems import responses
from tradewind.api.security import api_principal


def resource_router(tag: str) -> APIRouter:
    """A router whose every route needs a bearer token and documents the common problems."""
    return APIRouter(tags=[tag], dependencies=[Depends(api_principal)], responses=responses())
