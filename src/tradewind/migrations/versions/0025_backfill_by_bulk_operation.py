"""backfills read by bulk operation: how the range is read (``route``) and, for a bulk
read, the export's id, its last known status, result URL and size, and the byte of the
result up to which every order is imported (``export_offset``), so a restart resumes it

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 19:32:10.367717
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("backfills", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("route", sa.String(length=16), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("export_id", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("export_status", sa.String(length=16), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("export_url", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("export_offset", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("export_size", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("export_objects", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("backfills", schema=None) as batch_op:
        batch_op.drop_column("export_objects")
        batch_op.drop_column("export_size")
        batch_op.drop_column("export_offset")
        batch_op.drop_column("export_url")
        batch_op.drop_column("export_status")
        batch_op.drop_column("export_id")
        batch_op.drop_column("route")
