"""shipping and tax: packages with parcels, rate quotes, labels (one in force per
package), tracking events and a shipment's tracking status, an order's tax and each
line's, which plugin of a channel does each service capability, warehouse addresses

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 06:58:22.306915
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tradewind.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_services",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column(
            "capability",
            sa.Enum(
                "get_rates",
                "buy_label",
                "void_label",
                "track",
                "calculate_tax",
                "commit_tax",
                "push_order_for_fulfilment",
                name="servicecapability",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("plugin_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_channel_services_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plugin_id"],
            ["plugins.id"],
            name=op.f("fk_channel_services_plugin_id_plugins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", "capability", name=op.f("pk_channel_services")),
    )
    op.create_table(
        "order_taxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("plugin_id", sa.Integer(), nullable=False),
        sa.Column("amount", tradewind.db.Money(precision=18, scale=4), nullable=False),
        sa.Column("shipping_tax", tradewind.db.Money(precision=18, scale=4), nullable=False),
        sa.Column("rate", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("computed_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("committed_at", tradewind.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("refunded", tradewind.db.Money(precision=18, scale=4), nullable=False),
        sa.Column("created_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_taxes_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plugin_id"],
            ["plugins.id"],
            name=op.f("fk_order_taxes_plugin_id_plugins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_taxes")),
        sa.UniqueConstraint("order_id", name=op.f("uq_order_taxes_order_id")),
    )
    op.create_table(
        "packages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "buying",
                "labelled",
                "voided",
                name="packagestate",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("ship_from", sa.JSON(), nullable=True),
        sa.Column("ship_to", sa.JSON(), nullable=True),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_packages_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_packages_shipment_id_shipments")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_packages_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packages")),
        sa.UniqueConstraint("shipment_id", name=op.f("uq_packages_shipment_id")),
    )
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_packages_order_id"), ["order_id"], unique=False)

    op.create_table(
        "tracking_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("plugin_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "unknown",
                "pre_transit",
                "in_transit",
                "out_for_delivery",
                "delivered",
                "returned",
                "failure",
                "cancelled",
                name="trackingstatus",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("raw_status", sa.String(length=64), nullable=False),
        sa.Column("message", sa.String(length=512), nullable=False),
        sa.Column("location", sa.String(length=255), nullable=False),
        sa.Column("occurred_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plugin_id"],
            ["plugins.id"],
            name=op.f("fk_tracking_events_plugin_id_plugins"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_tracking_events_shipment_id_shipments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_events")),
        sa.UniqueConstraint(
            "shipment_id",
            "occurred_at",
            "raw_status",
            name=op.f("uq_tracking_events_shipment_id_occurred_at_raw_status"),
        ),
    )
    with op.batch_alter_table("tracking_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tracking_events_shipment_id"), ["shipment_id"], unique=False
        )

    op.create_table(
        "parcels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("length", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("width", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("height", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("distance_unit", sa.String(length=2), nullable=False),
        sa.Column("weight", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("mass_unit", sa.String(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_parcels_package_id_packages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parcels")),
    )
    with op.batch_alter_table("parcels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_parcels_package_id"), ["package_id"], unique=False)

    op.create_table(
        "rate_quotes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("plugin_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("carrier", sa.String(length=64), nullable=False),
        sa.Column("service", sa.String(length=128), nullable=False),
        sa.Column("amount", tradewind.db.Money(precision=18, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("estimated_days", sa.Integer(), nullable=True),
        sa.Column("quoted_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_rate_quotes_package_id_packages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plugin_id"],
            ["plugins.id"],
            name=op.f("fk_rate_quotes_plugin_id_plugins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_quotes")),
    )
    with op.batch_alter_table("rate_quotes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rate_quotes_package_id"), ["package_id"], unique=False)

    op.create_table(
        "labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("plugin_id", sa.Integer(), nullable=False),
        sa.Column("rate_quote_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum("purchased", "voided", name="labelstate", native_enum=False, length=40),
            nullable=False,
        ),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("carrier", sa.String(length=64), nullable=False),
        sa.Column("service", sa.String(length=128), nullable=False),
        sa.Column("tracking_number", sa.String(length=128), nullable=False),
        sa.Column("cost", tradewind.db.Money(precision=18, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("label_url", sa.String(length=2048), nullable=False),
        sa.Column("label_data", sa.LargeBinary(), nullable=True),
        sa.Column("label_format", sa.String(length=16), nullable=False),
        sa.Column("bought_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("voided_at", tradewind.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_labels_package_id_packages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plugin_id"],
            ["plugins.id"],
            name=op.f("fk_labels_plugin_id_plugins"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rate_quote_id"], ["rate_quotes.id"], name=op.f("fk_labels_rate_quote_id_rate_quotes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labels")),
    )
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_labels_package_id"), ["package_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_labels_tracking_number"), ["tracking_number"], unique=False
        )
        batch_op.create_index(
            "uq_labels_package_purchased",
            ["package_id"],
            unique=True,
            sqlite_where=sa.text("state = 'purchased'"),
            postgresql_where=sa.text("state = 'purchased'"),
        )

    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "tax_amount",
                tradewind.db.Money(precision=18, scale=4),
                nullable=False,
                server_default="0",
            )
        )

    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "tracking_status",
                sa.Enum(
                    "unknown",
                    "pre_transit",
                    "in_transit",
                    "out_for_delivery",
                    "delivered",
                    "returned",
                    "failure",
                    "cancelled",
                    name="trackingstatus",
                    native_enum=False,
                    length=40,
                ),
                nullable=False,
                server_default="unknown",
            )
        )

    with op.batch_alter_table("warehouses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("warehouses", schema=None) as batch_op:
        batch_op.drop_column("address")

    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_column("tracking_status")

    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_column("tax_amount")

    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_labels_package_purchased",
            sqlite_where=sa.text("state = 'purchased'"),
            postgresql_where=sa.text("state = 'purchased'"),
        )
        batch_op.drop_index(batch_op.f("ix_labels_tracking_number"))
        batch_op.drop_index(batch_op.f("ix_labels_package_id"))

    op.drop_table("labels")
    with op.batch_alter_table("rate_quotes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_quotes_package_id"))

    op.drop_table("rate_quotes")
    with op.batch_alter_table("parcels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parcels_package_id"))

    op.drop_table("parcels")
    with op.batch_alter_table("tracking_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_events_shipment_id"))

    op.drop_table("tracking_events")
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_packages_order_id"))

    op.drop_table("packages")
    op.drop_table("order_taxes")
    op.drop_table("channel_services")
