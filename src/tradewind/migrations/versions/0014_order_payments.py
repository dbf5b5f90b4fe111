"""order payments recorded in Tradewind

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 11:25:41.643016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tradewind.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("amount", tradewind.db.Money(precision=18, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("recorded_by", sa.String(length=150), nullable=False),
        sa.Column("recorded_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_payments_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_payments")),
    )
    with op.batch_alter_table("order_payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_payments_order_id"), ["order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("order_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_payments_order_id"))

    op.drop_table("order_payments")
