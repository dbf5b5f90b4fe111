"""Alembic environment: runs on the engine handed over by ``tradewind.migrations``, or on
``sqlalchemy.url`` when alembic is run by hand (``alembic -x url=… upgrade head``)."""

from __future__ import annotations

from alembic import context

import tradewind.models  # noqa: F401  (registers every table on Base.metadata)
from tradewind.db import Base, make_engine

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("give the database: alembic -x url=sqlite:///var/tradewind.db …")
    engine = make_engine(url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
