"""RFC 9457 problem details: every error the API answers, in one shape, documented.

``responses(404, 409)`` gives a route's OpenAPI ``responses`` for the codes it can answer
besides the ones every API route can (400, 401, 403, 422), so the schema lists every
status code a client can meet (schemathesis checks it)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, Field
from starlette.responses import JSONResponse

MEDIA_TYPE = "application/problem+json"


class Problem(BaseModel):
    """An RFC 9457 problem."""

    type: str = Field(default="about:blank", description="A URI naming the kind of problem.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(default="", description="What went wrong this time, for a person.")
    instance: str | None = Field(default=None, description="The request path.")
    errors: dict[str, str] | None = Field(
        default=None, description="Field → what is wrong with it (invalid input only)."
    )


_DESCRIPTIONS: dict[int, str] = {
    400: "Bad request",
    401: "Missing, unknown or revoked bearer token",
    403: "The token or user may only read",
    404: "No such resource",
    409: "Conflicts with the current state",
    413: "Body too large",
    422: "Invalid input",
    429: "Too many requests",
    502: "The platform or its connector failed",
    503: "The database is unavailable: retry after the Retry-After seconds",
}

# Seconds a client is asked to wait while the database is unavailable (503).
RETRY_AFTER_SECONDS = 5

COMMON = (400, 401, 403, 422)


def responses(*codes: int, common: bool = True) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the problem codes a route answers."""
    wanted = sorted({*(COMMON if common else ()), *codes})
    return {
        code: {
            "model": Problem,
            "description": _DESCRIPTIONS.get(code, HTTPStatus(code).phrase),
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code in wanted
    }


def problem(
    status: int,
    detail: str = "",
    *,
    title: str | None = None,
    instance: str | None = None,
    errors: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        title=title or HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=instance,
        errors=errors or None,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )
