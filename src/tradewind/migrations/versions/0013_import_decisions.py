"""import decisions: the latest decision about every external order a sync saw, and a bounded history

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 11:07:20.774906
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tradewind.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_decision_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plugin_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("seen_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "path",
            sa.Enum(
                "webhook",
                "poll",
                "probe",
                "backfill",
                "doctor",
                name="seenby",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "decision",
            sa.Enum(
                "imported",
                "updated",
                "unchanged",
                "skipped",
                "failed",
                "deferred",
                name="decision",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=160), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plugin_id"],
            ["plugins.id"],
            name=op.f("fk_import_decision_history_plugin_id_plugins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_decision_history")),
    )
    with op.batch_alter_table("import_decision_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_import_decision_history_order", ["plugin_id", "external_id", "id"], unique=False
        )
        batch_op.create_index("ix_import_decision_history_seen", ["seen_at"], unique=False)

    op.create_table(
        "import_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plugin_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("seen_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "path",
            sa.Enum(
                "webhook",
                "poll",
                "probe",
                "backfill",
                "doctor",
                name="seenby",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "decision",
            sa.Enum(
                "imported",
                "updated",
                "unchanged",
                "skipped",
                "failed",
                "deferred",
                name="decision",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=160), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_import_decisions_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plugin_id"],
            ["plugins.id"],
            name=op.f("fk_import_decisions_plugin_id_plugins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_decisions")),
        sa.UniqueConstraint(
            "plugin_id", "external_id", name=op.f("uq_import_decisions_plugin_id_external_id")
        ),
    )
    with op.batch_alter_table("import_decisions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_import_decisions_plugin_number", ["plugin_id", "number"], unique=False
        )
        batch_op.create_index("ix_import_decisions_seen", ["seen_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("import_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_import_decisions_seen")
        batch_op.drop_index("ix_import_decisions_plugin_number")

    op.drop_table("import_decisions")
    with op.batch_alter_table("import_decision_history", schema=None) as batch_op:
        batch_op.drop_index("ix_import_decision_history_seen")
        batch_op.drop_index("ix_import_decision_history_order")

    op.drop_table("import_decision_history")
