"""Mounting the UI on the FastAPI app: templates, static files, the session signer, the
error pages and the page routes (``tradewind.web.views``)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from tradewind import __version__
from tradewind.core.orders.listing import zone_named
from tradewind.hub import Hub
from tradewind.web import render
from tradewind.web.session import (
    FLASH_COOKIE,
    LoginRequired,
    Signer,
    current_user,
    delete_cookie,
    set_cookie,
    signer,
)

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


@pass_context
def _when(context: Context, value: dt.datetime | None) -> str:
    """A time in the zone of the page's reader (``tz``), its UTC time in the tooltip; in
    UTC where the page knows no reader (a fragment)."""
    zone = context.get("tz")
    if isinstance(zone, dt.tzinfo):
        return _local(value, zone)
    if value is None:
        return "—"
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


# The browser's zone (static/tz.js) for a person who chose none.
TZ_COOKIE = "tw_tz"


def zone_of(request: Request) -> ZoneInfo:
    """The zone this person's times are shown in: the one they chose, else their
    browser's, else UTC."""
    user = current_user(request)
    browser = unquote(request.cookies.get(TZ_COOKIE, ""))  # tz.js sends it URI-encoded
    for name in ((user.time_zone if user else ""), browser):
        if name:
            try:
                return zone_named(name)
            except ValueError:
                continue
    return ZoneInfo("UTC")


def _local(value: dt.datetime | None, zone: dt.tzinfo) -> Markup:
    """A time in ``zone``, with its UTC time in the tooltip."""
    if value is None:
        return Markup("—")
    utc = value.astimezone(dt.UTC)
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        utc.isoformat(),
        utc.strftime("%Y-%m-%d %H:%M UTC"),
        value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
    )


def _ago(value: dt.datetime | None) -> str:
    if value is None:
        return "never"
    seconds = int((dt.datetime.now(dt.UTC) - value).total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def _money(value: Decimal | None) -> str:
    """Amounts with two decimals unless the value needs more (4-place storage)."""
    if value is None:
        return ""
    shown = value.quantize(Decimal("0.01"))
    return f"{value.normalize():f}" if shown != value else f"{shown:,.2f}"


templates.env.filters["money"] = _money
templates.env.filters["when"] = _when
templates.env.filters["ago"] = _ago
templates.env.filters["local"] = _local
templates.env.filters["markdown"] = render.markdown
templates.env.globals["version"] = __version__


def install(app: FastAPI, hub: Hub) -> None:
    from tradewind.web import views

    app.state.session_signer = Signer.for_hub(hub, "session")
    app.state.flash_signer = Signer.for_hub(hub, "flash")
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    # Browsers ask for /favicon.ico by themselves (the pages link the SVG one too).
    app.add_api_route("/favicon.ico", _favicon, methods=["GET"], include_in_schema=False)
    app.include_router(views.router)


def _favicon() -> FileResponse:
    return FileResponse(
        HERE / "static" / "favicon.ico",
        media_type="image/x-icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` with the user, their CSRF token and any flash message."""
    user = current_user(request)
    flash = take_flash(request)
    zone = zone_of(request)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "csrf": user.csrf_token if user else "",
            "flash": flash,
            "tz": zone,
            "tz_chosen": bool(user and user.time_zone),
            **context,
        },
        status_code=status,
    )
    if flash:
        delete_cookie(response, request, FLASH_COOKIE)
    return response


def fragment(request: Request, template: str, **context: Any) -> HTMLResponse:
    user = current_user(request)
    return templates.TemplateResponse(
        request, template, {"user": user, "csrf": user.csrf_token if user else "", **context}
    )


def redirect(request: Request, url: str, message: str = "", *, error: bool = False) -> Response:
    """303 to ``url`` (``HX-Redirect`` for htmx requests) with a one-shot flash message."""
    if request.headers.get("hx-request"):
        response: Response = Response(status_code=204, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    if message:
        flash_signer: Signer = request.app.state.flash_signer
        set_cookie(
            response,
            request,
            FLASH_COOKIE,
            flash_signer.sign(("!" if error else "") + message),
            max_age=60,
        )
    return response


def take_flash(request: Request) -> dict[str, Any] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    flash_signer: Signer = request.app.state.flash_signer
    value = flash_signer.unsign(raw, max_age=120)
    if not value:
        return None
    error = value.startswith("!")
    return {"message": value[1:] if error else value, "error": error}


def message_page(request: Request, title: str, message: str, *, status: int = 200) -> HTMLResponse:
    return page(request, "message.html", status=status, title=title, message=message)


async def error_response(request: Request, status: int, title: str, detail: str) -> Response:
    """How the UI shows an error: a sign-in redirect, an htmx error line, or a page."""
    if status == LoginRequired.status:
        target = "/login"
        if request.method == "GET" and not request.url.path.startswith("/login"):
            target = f"/login?next={request.url.path}"
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    if request.headers.get("hx-request"):
        # htmx swaps 2xx only: answer 200 with the error, retargeted to the form's answer.
        return HTMLResponse(
            str(
                Markup('<div class="alert error" role="alert"><strong>{}</strong> {}</div>').format(
                    title, detail
                )
            ),
            status_code=200,
            headers=answer_headers(request),
        )
    return page(request, "message.html", status=status, title=title, message=detail)


# An answer slot's id, as base.html's script names it (``<form id>-answer``).
_SLOT = re.compile(r"[A-Za-z][\w-]{0,80}-answer")


def answer_headers(request: Request) -> dict[str, str]:
    """Where an htmx request's error goes: into the answer slot of the form (or button)
    that sent it, next to it, which the page's script names in ``X-Answer-Slot``; into
    the page's alerts (atop the page) only when it has none."""
    slot = request.headers.get("x-answer-slot", "")
    target = f"#{slot}" if _SLOT.fullmatch(slot) else "#alerts"
    return {"HX-Retarget": target, "HX-Reswap": "innerHTML"}


def unavailable_page(
    request: Request, detail: str, *, headers: dict[str, str] | None = None
) -> Response:
    """The UI's answer while the database is unavailable: a page that needs no database
    (no user, no flash), or an htmx error line."""
    if request.headers.get("hx-request"):
        return HTMLResponse(
            str(Markup('<div class="alert error" role="alert">{}</div>').format(detail)),
            headers={**answer_headers(request), **(headers or {})},
        )
    return templates.TemplateResponse(
        request,
        "message.html",
        {"user": None, "csrf": "", "flash": None, "title": "Unavailable", "message": detail},
        status_code=503,
        headers=headers,
    )


__all__ = [
    "answer_headers",
    "error_response",
    "install",
    "message_page",
    "page",
    "signer",
    "unavailable_page",
    "zone_of",
]
