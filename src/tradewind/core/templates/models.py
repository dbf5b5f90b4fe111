"""An uploaded integration template: its YAML source, one row per version. The core
keeps the text only; reading it is the template engine's (``connectors/template``)."""

from __future__ import annotations

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tradewind.db import Base, Timestamped


class StoredTemplate(Timestamped, Base):
    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("template_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128), default="")
