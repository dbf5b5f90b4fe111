"""gap reports: a day's orders on the platform against Tradewind's

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 11:31:14.822800
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tradewind.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gap_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plugin_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("ran_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("on_platform", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("missing_orders", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plugin_id"],
            ["plugins.id"],
            name=op.f("fk_gap_reports_plugin_id_plugins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gap_reports")),
        sa.UniqueConstraint("plugin_id", "day", name=op.f("uq_gap_reports_plugin_id_day")),
    )


def downgrade() -> None:
    op.drop_table("gap_reports")
