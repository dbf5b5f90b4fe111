"""Users, API tokens, web sessions, the failed-login ledger and known clients."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tradewind.db import Base, UTCDateTime, str_enum, utcnow


class Role(StrEnum):
    """What a person may do: an admin changes things, a read-only user looks."""

    ADMIN = "admin"
    READ_ONLY = "read_only"


class TokenScope(StrEnum):
    READ = "read"
    READ_WRITE = "read_write"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored as typed; matched without regard to case (``username_key``).
    username: Mapped[str] = mapped_column(String(64))
    username_key: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.READ_ONLY)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The IANA zone the UI shows this person's times in; blank: the browser's.
    time_zone: Mapped[str] = mapped_column(String(64), default="", server_default="")

    @property
    def can_write(self) -> bool:
        return self.role is Role.ADMIN

    def __repr__(self) -> str:  # never includes the hash
        return f"<User {self.id} {self.username!r} {self.role.value}>"


class ApiToken(Base):
    """A bearer token. Only its SHA-256 is kept: the token itself is shown once, at creation.
    ``prefix`` (public, unique) finds the row without scanning hashes."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    scope: Mapped[TokenScope] = mapped_column(str_enum(TokenScope), default=TokenScope.READ)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @property
    def can_write(self) -> bool:
        return self.scope is TokenScope.READ_WRITE

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.name!r} {self.scope.value}>"


class WebSession(Base):
    """A signed-in browser. The cookie carries a random id (signed); the row holds its
    SHA-256, the user, and the CSRF token every form and htmx request must echo."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class LoginThrottle(Base):
    """Failed logins per key (``pair:alice|203.0.113.9``, ``ip:203.0.113.9``,
    ``user:alice``): after a few, each next attempt must wait longer. Shared by every
    process, so throttling holds behind a load balancer too."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    blocked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class KnownClient(Base):
    """A client address a user has signed in from. The account-wide login throttle never
    applies there, so a stranger's failures cannot lock the owner out of their usual
    browser; one not used for 90 days is forgotten."""

    __tablename__ = "login_known_clients"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_login_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
