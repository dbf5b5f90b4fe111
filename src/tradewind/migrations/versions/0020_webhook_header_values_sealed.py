"""webhook custom headers: the values sealed by the vault (``header_values``), the names
alone left in ``custom_headers`` (an endpoint made before keeps {name: value} there until
it is edited; it is read either way)

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-03 14:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("header_values", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.drop_column("header_values")
