"""A database outage on demand: while it lasts, every new connection is refused the way a
stopped server refuses it (the DBAPI's own OperationalError), and the pooled ones are
gone, as after a restart. Nothing is patched but the connect hook SQLAlchemy offers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from tradewind.db import Database


class Outage:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.down = False
        event.listen(db.engine, "do_connect", self._connect)

    def _connect(self, dialect: Any, _record: Any, _args: Any, _params: Any) -> Any:
        if self.down:
            raise dialect.loaded_dbapi.OperationalError("connection refused (a test outage)")
        return None  # connect as usual

    def start(self) -> None:
        self.down = True
        self.db.engine.dispose()

    def end(self) -> None:
        self.down = False

    def close(self) -> None:
        self.end()
        event.remove(self.db.engine, "do_connect", self._connect)
