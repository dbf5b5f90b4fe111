"""webhook custom headers: the values sealed by the vault (``header_values``), the names
alone left in ``custom_headers`` (an endpoint made before keeps {name: value} there until
it is edited; it is read either way); an event's ``subject``, what a newer untried event
of its type replaces it for (a burst of stock changes coalesced)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 14:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_webhook_events_subject"), ["subject"], unique=False)

    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("header_values", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.drop_column("header_values")

    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_events_subject"))
        batch_op.drop_column("subject")
