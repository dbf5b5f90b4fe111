"""customer exports: the runs of "Export all customers" (counts, cursor, failures)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 14:46:50.763709
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tradewind.db

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plugin_id", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("no_email", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("already_linked", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "running",
                "done",
                "cancelled",
                "failed",
                name="backfillstate",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("finished_at", tradewind.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plugin_id"],
            ["plugins.id"],
            name=op.f("fk_customer_exports_plugin_id_plugins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_exports")),
    )


def downgrade() -> None:
    op.drop_table("customer_exports")
