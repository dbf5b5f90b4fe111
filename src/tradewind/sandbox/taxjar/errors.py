"""TaxJar's one error shape, ``{"error": <reason>, "detail": <text>, "status": <code>}``,
and the exception the sandbox's handlers raise to answer with it."""

from __future__ import annotations

from typing import Any

REASONS: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    410: "Gone",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class ApiError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status} {detail}")
        self.status = status
        self.detail = detail

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.detail)


def error_body(status: int, detail: str) -> dict[str, Any]:
    return {"error": REASONS.get(status, "Error"), "detail": detail, "status": status}


def missing(name: str) -> ApiError:
    return ApiError(406, f"{name} is missing")
