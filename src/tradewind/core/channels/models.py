"""The channel: a logical sales destination."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tradewind.db import Base, Timestamped


class Channel(Timestamped, Base):
    """A logical sales destination ("Shopify UK", "Wholesale"). Orders belong to one."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"<Channel {self.id} {self.name!r}>"
