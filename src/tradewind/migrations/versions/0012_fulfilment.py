"""fulfilment: orders handed to a fulfilment tool and the shipments it reports

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 10:30:48.032655
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tradewind.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fulfilment_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plugin_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("pushed_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("checked_at", tradewind.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_fulfilment_orders_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plugin_id"],
            ["plugins.id"],
            name=op.f("fk_fulfilment_orders_plugin_id_plugins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfilment_orders")),
        sa.UniqueConstraint(
            "plugin_id", "order_id", name=op.f("uq_fulfilment_orders_plugin_id_order_id")
        ),
        sa.UniqueConstraint(
            "plugin_id", "reference", name=op.f("uq_fulfilment_orders_plugin_id_reference")
        ),
    )
    with op.batch_alter_table("fulfilment_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fulfilment_orders_order_id"), ["order_id"], unique=False
        )

    op.create_table(
        "fulfilment_shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plugin_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("cost", tradewind.db.Money(precision=18, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("recorded_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("voided_at", tradewind.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_fulfilment_shipments_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plugin_id"],
            ["plugins.id"],
            name=op.f("fk_fulfilment_shipments_plugin_id_plugins"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_fulfilment_shipments_shipment_id_shipments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfilment_shipments")),
        sa.UniqueConstraint(
            "plugin_id", "external_id", name=op.f("uq_fulfilment_shipments_plugin_id_external_id")
        ),
    )
    with op.batch_alter_table("fulfilment_shipments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fulfilment_shipments_order_id"), ["order_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("fulfilment_shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fulfilment_shipments_order_id"))

    op.drop_table("fulfilment_shipments")
    with op.batch_alter_table("fulfilment_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fulfilment_orders_order_id"))

    op.drop_table("fulfilment_orders")
