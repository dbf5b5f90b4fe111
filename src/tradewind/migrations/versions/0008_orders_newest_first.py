"""orders newest first: an index on (placed_at, id) for the order lists' keyset pages

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 08:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_placed", ["placed_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_placed")
