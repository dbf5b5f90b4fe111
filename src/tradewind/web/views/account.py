"""Signing in and out, and the account page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tradewind.auth import service as auth
from tradewind.auth.service import SessionUser
from tradewind.web.app import page
from tradewind.web.session import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    client_address,
    current_user,
    delete_cookie,
    hub_of,
    new_login_csrf,
    reader,
    session_secret,
    set_cookie,
    signer,
)

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


# ------------------------------------------------------------------------------- login


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    if current_user(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    token = new_login_csrf()
    response = page(request, "login.html", next=_safe_next(next), login_csrf=token)
    set_cookie(
        response, request, LOGIN_CSRF_COOKIE, token, max_age=3600, path="/login", samesite="strict"
    )
    return response


@router.post("/login")
def login(
    request: Request,
    username: str = Form(..., max_length=64),
    password: str = Form(..., max_length=1024),
    csrf_token: str = Form(""),
    next: str = Form("/"),
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not auth.csrf_matches(expected, csrf_token):
        return _login_again(request, "The sign-in form expired; please try again.", next, 403)
    hub = hub_of(request)
    with hub.db.unit_of_work() as session:
        result = auth.check_login(session, username, password, client=client_address(request))
        opened = (
            auth.open_session(session, result.user, hours=hub.settings.session_hours)
            if result.user is not None
            else None
        )
    try:
        result.user_or_raise()
    except auth.LoginThrottled as exc:
        response = _login_again(request, str(exc).capitalize() + ".", next, 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except auth.LoginFailed:
        return _login_again(request, "Wrong user name or password.", next, 401)
    assert opened is not None
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_cookie(
        response,
        request,
        SESSION_COOKIE,
        signer(request).sign(opened.secret),
        max_age=hub.settings.session_hours * 3600,
    )
    delete_cookie(response, request, LOGIN_CSRF_COOKIE, path="/login")
    return response


def _login_again(request: Request, error: str, next: str, status: int) -> Response:
    token = new_login_csrf()
    response = page(
        request, "login.html", status=status, next=_safe_next(next), login_csrf=token, error=error
    )
    set_cookie(
        response, request, LOGIN_CSRF_COOKIE, token, max_age=3600, path="/login", samesite="strict"
    )
    return response


@router.post("/logout")
def logout(request: Request, _user: SessionUser = Depends(reader)) -> Response:
    secret = session_secret(request)
    if secret:
        with hub_of(request).db.unit_of_work() as session:
            auth.close_session(session, secret)
    response = RedirectResponse("/login", status_code=303)
    delete_cookie(response, request, SESSION_COOKIE)
    return response


@router.get("/account")
def account(request: Request, user: SessionUser = Depends(reader)) -> HTMLResponse:
    return page(
        request,
        "message.html",
        title="Account",
        message=f"Signed in as {user.username} ({user.role.value.replace('_', '-')}).",
    )
