"""shadow mode: a plugin can run in shadow (shadow_since), with what it would import
(shadow_orders) and the stock it would push against the platform's (shadow_stock)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 14:24:44.330104
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tradewind.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shadow_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plugin_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("seen_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("placed_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("would_import", sa.Boolean(), nullable=False),
        sa.Column("code", sa.String(length=160), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("unmatched", sa.JSON(), nullable=False),
        sa.Column("missing_customer_fields", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plugin_id"],
            ["plugins.id"],
            name=op.f("fk_shadow_orders_plugin_id_plugins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shadow_orders")),
        sa.UniqueConstraint(
            "plugin_id", "external_id", name=op.f("uq_shadow_orders_plugin_id_external_id")
        ),
    )
    op.create_table(
        "shadow_stock",
        sa.Column("plugin_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("location_ref", sa.String(length=128), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("would_push", sa.Integer(), nullable=False),
        sa.Column("platform_quantity", sa.Integer(), nullable=True),
        sa.Column("compared_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plugin_id"],
            ["plugins.id"],
            name=op.f("fk_shadow_stock_plugin_id_plugins"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_shadow_stock_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "plugin_id", "product_id", "location_ref", name=op.f("pk_shadow_stock")
        ),
    )
    with op.batch_alter_table("plugins", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("shadow_since", tradewind.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("plugins", schema=None) as batch_op:
        batch_op.drop_column("shadow_since")

    op.drop_table("shadow_stock")
    op.drop_table("shadow_orders")
