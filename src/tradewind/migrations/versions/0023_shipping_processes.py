"""shipping processes: named fulfilment routes (carrier plugin, service, packaging) that a
platform location's mapping names

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 14:45:52.193612
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tradewind.db

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shipping_processes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("plugin_id", sa.Integer(), nullable=True),
        sa.Column("service", sa.String(length=128), nullable=False),
        sa.Column("packaging", sa.JSON(), nullable=True),
        sa.Column("created_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plugin_id"],
            ["plugins.id"],
            name=op.f("fk_shipping_processes_plugin_id_plugins"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipping_processes")),
        sa.UniqueConstraint("name", name=op.f("uq_shipping_processes_name")),
    )


def downgrade() -> None:
    op.drop_table("shipping_processes")
