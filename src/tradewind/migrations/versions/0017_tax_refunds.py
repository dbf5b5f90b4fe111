"""tax refunds: the tax of a return's units recorded as a refund of the order's
committed sale (once per return), and the plugin a sale was committed with

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 10:35:18.064866
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tradewind.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tax_refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("plugin_id", sa.Integer(), nullable=True),
        sa.Column("amount", tradewind.db.Money(precision=18, scale=4), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("refunded_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_tax_refunds_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plugin_id"],
            ["plugins.id"],
            name=op.f("fk_tax_refunds_plugin_id_plugins"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["returns.id"],
            name=op.f("fk_tax_refunds_return_id_returns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_refunds")),
        sa.UniqueConstraint("return_id", name=op.f("uq_tax_refunds_return_id")),
    )
    with op.batch_alter_table("tax_refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tax_refunds_order_id"), ["order_id"], unique=False)

    with op.batch_alter_table("order_taxes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("committed_plugin_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_order_taxes_committed_plugin_id_plugins"),
            "plugins",
            ["committed_plugin_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("order_taxes", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_order_taxes_committed_plugin_id_plugins"), type_="foreignkey"
        )
        batch_op.drop_column("committed_plugin_id")

    with op.batch_alter_table("tax_refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tax_refunds_order_id"))

    op.drop_table("tax_refunds")
