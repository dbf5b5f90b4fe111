"""Users, API tokens, web sessions and login throttling.

* Passwords are hashed with argon2 (argon2-cffi's defaults); a sign-in for an unknown
  user still verifies against a dummy hash, so timing does not tell which names exist.
* API tokens and session ids are random and high-entropy: only their SHA-256 is stored,
  the token is shown once, a revoked token stops working at once.
* Failed logins are throttled per (account, client): after ``LoginPolicy.free_failures``
  each next attempt from that client must wait longer (1 s, 2 s, 4 s … up to
  ``max_block_seconds``); an attempt while blocked is refused without looking at the
  password. A stranger's failures therefore never lock the owner out. A client is also
  throttled across accounts, and an account across clients — at a much higher ceiling,
  which never applies to a client the user has signed in from before (``KnownClient``).
  Which address a request comes from is decided once, by the proxy-headers middleware
  the app installs from ``TRADEWIND_TRUSTED_PROXIES``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from tradewind.auth.models import (
    ApiToken,
    KnownClient,
    LoginThrottle,
    Role,
    TokenScope,
    User,
    WebSession,
)
from tradewind.db import utcnow
from tradewind.errors import Conflict, Invalid, NotFound, TradewindError

MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "tw_"  # noqa: S105 (a public marker, not a secret)

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("tradewind-dummy-password")


class LoginThrottled(TradewindError):
    """Too many failed logins: wait ``retry_after`` seconds."""

    status = 429
    title = "Too many failed logins"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after} s")
        self.retry_after = retry_after


class LoginFailed(TradewindError):
    status = 401
    title = "Sign-in failed"


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def username_key(username: str) -> str:
    return username.strip().casefold()


# ------------------------------------------------------------------------------ users


def create_user(session: Session, username: str, password: str, role: Role) -> User:
    name = username.strip()
    if not name or len(name) > 64 or not name.isprintable() or " " in name:
        raise Invalid(
            "a user name is 1–64 printable characters without spaces",
            fields={"username": "invalid"},
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters",
            fields={"password": "too short"},
        )
    if session.scalar(select(User).where(User.username_key == username_key(name))):
        raise Conflict(f"user {name!r} already exists", fields={"username": "already exists"})
    user = User(
        username=name,
        username_key=username_key(name),
        password_hash=_hasher.hash(password),
        role=role,
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> User:
    user = get_user_by_name(session, username)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters",
            fields={"password": "too short"},
        )
    user.password_hash = _hasher.hash(password)
    # A new password signs every browser out.
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.flush()
    return user


def get_user_by_name(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username_key == username_key(username)))
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """How many failures each throttle forgives before it makes attempts wait."""

    free_failures: int = 3  # one client, one account
    client_free_failures: int = 20  # one client, any account (names being sprayed)
    account_free_failures: int = 100  # one account, any client not known for it
    max_block_seconds: int = 300
    known_client_days: int = 90


LOGIN_POLICY = LoginPolicy()


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a sign-in attempt. Failures are *recorded* by ``check_login`` and
    raised by ``user_or_raise`` after the caller's unit of work has committed them (an
    exception inside the unit of work would roll the failure count back)."""

    user: User | None
    retry_after: int = 0

    def user_or_raise(self) -> User:
        if self.retry_after:
            raise LoginThrottled(self.retry_after)
        if self.user is None:
            raise LoginFailed("wrong user name or password")
        return self.user


def check_login(
    session: Session,
    username: str,
    password: str,
    *,
    client: str = "",
    now: dt.datetime | None = None,
    policy: LoginPolicy = LOGIN_POLICY,
) -> LoginResult:
    """Check a sign-in: the user when the password matches and none of the throttles
    that apply is holding this attempt back. A failure counts against each of them."""
    now = now or utcnow()
    name, client = username_key(username), client[:64]
    user = session.scalar(select(User).where(User.username_key == name))
    throttles = [(f"pair:{name}|{client}"[:255], policy.free_failures)]
    if client:
        throttles.append((f"ip:{client}", policy.client_free_failures))
    account = (f"user:{name}", policy.account_free_failures)
    if not _known(session, user, client, now, policy):
        throttles.append(account)
    wait = max(_blocked_for(session, key, now) for key, _ in throttles)
    if wait > 0:
        return LoginResult(user=None, retry_after=wait)
    ok: bool
    try:
        ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or not user.active:
        for key, free in dict.fromkeys([*throttles, account]):  # known clients' count too
            _fail(session, key, free, now, policy)
        return LoginResult(user=None)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == throttles[0][0]))
    if client:
        _remember(session, user, client, now, policy)
    user.last_login_at = now
    session.flush()
    return LoginResult(user=user)


def _known(
    session: Session, user: User | None, client: str, now: dt.datetime, policy: LoginPolicy
) -> bool:
    if user is None or not client:
        return False
    row = session.get(KnownClient, (user.id, client))
    return row is not None and row.last_login_at > now - dt.timedelta(days=policy.known_client_days)


def _remember(
    session: Session, user: User, client: str, now: dt.datetime, policy: LoginPolicy
) -> None:
    row = session.get(KnownClient, (user.id, client))
    if row is None:
        session.add(KnownClient(user_id=user.id, client=client, last_login_at=now))
    else:
        row.last_login_at = now
    forgotten = now - dt.timedelta(days=policy.known_client_days)
    session.execute(delete(KnownClient).where(KnownClient.last_login_at < forgotten))


def _blocked_for(session: Session, key: str, now: dt.datetime) -> int:
    row = session.get(LoginThrottle, key)
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return 0
    return max(1, int((row.blocked_until - now).total_seconds() + 0.999))


def _fail(session: Session, key: str, free: int, now: dt.datetime, policy: LoginPolicy) -> None:
    row = session.get(LoginThrottle, key)
    if row is None:
        row = LoginThrottle(key=key, failures=0)
        session.add(row)
    # A quiet day forgets old failures.
    if row.failures and row.last_failure_at < now - dt.timedelta(days=1):
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    extra = row.failures - free
    if extra >= 0:
        seconds = min(2 ** min(extra, 30), policy.max_block_seconds)
        row.blocked_until = now + dt.timedelta(seconds=seconds)
    session.flush()


# ----------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class NewToken:
    """A token just created: ``secret`` is shown once and never stored."""

    token: ApiToken
    secret: str


def create_token(session: Session, name: str, scope: TokenScope) -> NewToken:
    name = name.strip()
    if not name or len(name) > 128:
        raise Invalid("a token needs a name of 1–128 characters", fields={"name": "invalid"})
    prefix = secrets.token_hex(4)
    while session.scalar(select(ApiToken).where(ApiToken.prefix == prefix)) is not None:
        prefix = secrets.token_hex(4)  # pragma: no cover - 1 in 4 billion
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(name=name, prefix=prefix, token_hash=_sha256(secret), scope=scope)
    session.add(token)
    session.flush()
    return NewToken(token=token, secret=secret)


def list_tokens(session: Session, *, include_revoked: bool = False) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return list(session.scalars(query))


def revoke_token(session: Session, ref: str) -> ApiToken:
    """Revoke by id, prefix or name; revoking twice is harmless."""
    ref = ref.strip()
    token = session.scalar(select(ApiToken).where(ApiToken.prefix == ref))
    if token is None and ref.isdigit():
        token = session.get(ApiToken, int(ref))
    if token is None:
        matches = list(
            session.scalars(
                select(ApiToken).where(
                    func.lower(ApiToken.name) == ref.casefold(), ApiToken.revoked_at.is_(None)
                )
            )
        )
        if len(matches) > 1:
            raise Conflict(f"{len(matches)} tokens are named {ref!r}; revoke one by id")
        token = matches[0] if matches else None
    if token is None:
        raise NotFound(f"no API token with id, prefix or name {ref!r}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
    return token


def token_for(session: Session, secret: str) -> ApiToken | None:
    """The live token ``secret`` is, or ``None``."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    prefix, _, rest = secret[len(TOKEN_PREFIX) :].partition("_")
    if not prefix or not rest:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    if token is None or token.revoked_at is not None:
        return None
    if not hmac.compare_digest(token.token_hash, _sha256(secret)):
        return None
    return token


def touch_token(
    session: Session,
    token_id: int,
    now: dt.datetime | None = None,
    *,
    every: dt.timedelta = dt.timedelta(0),
) -> bool:
    """Note that the token was used at ``now``, unless that was noted less than ``every``
    ago. One conditional UPDATE: concurrent requests and processes write it once, and a
    token in constant use costs one write per ``every``. True when it was written."""
    moment = now or utcnow()
    result = session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= moment - every),
        )
        .values(last_used_at=moment)
    )
    return bool(getattr(result, "rowcount", 0))


# --------------------------------------------------------------------------- sessions


@dataclass(frozen=True)
class NewSession:
    """A session just opened: ``secret`` goes into the (signed) cookie, never the DB."""

    secret: str
    csrf_token: str
    user_id: int


def open_session(session: Session, user: User, *, hours: int) -> NewSession:
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        WebSession(
            id=_sha256(secret),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
    )
    # Expired sessions go as new ones arrive: the table never grows without bound.
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    session.flush()
    return NewSession(secret=secret, csrf_token=csrf, user_id=user.id)


@dataclass(frozen=True)
class SessionUser:
    """Who a session belongs to, detached from the database."""

    session_id: str
    user_id: int
    username: str
    role: Role
    csrf_token: str
    time_zone: str = ""  # the IANA zone chosen for the UI; blank: the browser's

    @property
    def can_write(self) -> bool:
        return self.role is Role.ADMIN


def set_time_zone(session: Session, user_id: int, zone: str) -> None:
    """The zone the UI shows ``user_id``'s times in (blank: the browser's); the caller
    checks that ``zone`` is one."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    user.time_zone = zone


def session_user(
    session: Session, secret: str, now: dt.datetime | None = None
) -> SessionUser | None:
    now = now or utcnow()
    row = session.get(WebSession, _sha256(secret))
    if row is None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return SessionUser(row.id, user.id, user.username, user.role, row.csrf_token, user.time_zone)


def close_session(session: Session, secret: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == _sha256(secret)))


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
