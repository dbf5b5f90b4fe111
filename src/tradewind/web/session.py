"""Signing in and out, the session cookie, CSRF, and the dependencies every page uses.

The cookie holds a random session id signed with a key derived from the vault keys
(itsdangerous); the database keeps only its SHA-256, the user and the session's CSRF
token, so signing out or changing a password really ends a session. Every state-changing
request must echo the CSRF token, as a ``csrf_token`` form field or an ``X-CSRF-Token``
header (htmx sends it from ``hx-headers`` on ``<body>``). The sign-in form, which has no
session yet, uses a double-submit cookie instead.
"""

from __future__ import annotations

import secrets
from typing import Literal

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from tradewind.auth import service as auth
from tradewind.auth.keys import signing_keys
from tradewind.auth.service import SessionUser
from tradewind.errors import TradewindError
from tradewind.hub import Hub
from tradewind.vault import Vault

SESSION_COOKIE = "tw_session"
LOGIN_CSRF_COOKIE = "tw_login_csrf"
FLASH_COOKIE = "tw_flash"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(TradewindError):
    status = 401
    title = "Sign in required"


class ReadOnly(TradewindError):
    status = 403
    title = "Read-only"


class CsrfFailed(TradewindError):
    status = 403
    title = "Form expired"


class Signer:
    """Signs cookie values with keys derived from the vault keys, following the vault:
    after ``tradewind keys rotate`` the new key signs, and the old ones verify until
    they are retired."""

    def __init__(self, vault: Vault, purpose: str) -> None:
        self._vault = vault
        self._purpose = purpose
        self._built: tuple[tuple[str, ...], URLSafeTimedSerializer] | None = None

    @classmethod
    def for_hub(cls, hub: Hub, purpose: str) -> Signer:
        return cls(hub.vault, purpose)

    @property
    def serializer(self) -> URLSafeTimedSerializer:
        keys = self._vault.keys
        if self._built is None or self._built[0] != keys:
            derived = signing_keys(keys, self._purpose)
            self._built = (keys, URLSafeTimedSerializer(derived, salt=f"tradewind.{self._purpose}"))
        return self._built[1]

    def sign(self, value: str) -> str:
        return str(self.serializer.dumps(value))

    def unsign(self, value: str, max_age: int) -> str | None:
        try:
            loaded = self.serializer.loads(value, max_age=max_age)
        except BadSignature:
            return None
        return loaded if isinstance(loaded, str) else None


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def signer(request: Request) -> Signer:
    found: Signer = request.app.state.session_signer
    return found


def secure_cookies(hub: Hub) -> bool:
    return hub.settings.base_url.startswith("https://")


def set_cookie(
    response: Response,
    request: Request,
    name: str,
    value: str,
    *,
    max_age: int,
    path: str = "/",
    samesite: Literal["lax", "strict"] = "lax",
) -> None:
    """Every cookie Tradewind sets: HttpOnly, and Secure whenever Tradewind is served
    over https (``TRADEWIND_BASE_URL``) — the one place that decides both."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        samesite=samesite,
        httponly=True,
        secure=secure_cookies(hub_of(request)),
    )


def delete_cookie(response: Response, request: Request, name: str, *, path: str = "/") -> None:
    """Expire a cookie ``set_cookie`` set, with the same attributes."""
    response.delete_cookie(
        name, path=path, httponly=True, secure=secure_cookies(hub_of(request)), samesite="lax"
    )


def client_address(request: Request) -> str:
    """The address this request comes from, as the login throttle counts it: the peer,
    unless the peer is one of ``TRADEWIND_TRUSTED_PROXIES`` — then the client that proxy
    names in X-Forwarded-For. The app's proxy-headers middleware (``api/app.py``,
    configured from that setting alone) has decided it before any route runs; uvicorn's
    own proxy handling, which trusts loopback, is off (``cli/serve.py``)."""
    return request.client.host if request.client else ""


def current_user(request: Request) -> SessionUser | None:
    """The signed-in user of this request, or ``None`` (cached on the request)."""
    if hasattr(request.state, "user"):
        cached: SessionUser | None = request.state.user
        return cached
    user: SessionUser | None = None
    raw = request.cookies.get(SESSION_COOKIE)
    hub = hub_of(request)
    if raw:
        secret = signer(request).unsign(raw, max_age=hub.settings.session_hours * 3600)
        if secret:
            with hub.db.read() as session:
                user = auth.session_user(session, secret)
    request.state.user = user
    return user


def session_secret(request: Request) -> str | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    return signer(request).unsign(raw, max_age=hub_of(request).settings.session_hours * 3600)


async def reader(request: Request) -> SessionUser:
    """Any signed-in user; state-changing requests must carry the CSRF token."""
    user = current_user(request)
    if user is None:
        raise LoginRequired("sign in to continue")
    if request.method not in SAFE_METHODS:
        given = request.headers.get("x-csrf-token")
        if not given and _is_form(request):
            form = await request.form()
            value = form.get("csrf_token")
            given = value if isinstance(value, str) else None
        if not auth.csrf_matches(user.csrf_token, given):
            raise CsrfFailed("the form expired or did not come from this site; reload and retry")
    return user


async def writer(request: Request) -> SessionUser:
    """A signed-in admin (read-only users may look, never change)."""
    user = await reader(request)
    if not user.can_write:
        raise ReadOnly(f"{user.username} has a read-only account")
    return user


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)
