"""login known clients: where each user has signed in from (exempt from the
account-wide login throttle)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tradewind.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_known_clients",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("last_login_at", tradewind.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_login_known_clients_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "client", name=op.f("pk_login_known_clients")),
    )
    with op.batch_alter_table("login_known_clients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_known_clients_last_login_at"), ["last_login_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("login_known_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_known_clients_last_login_at"))
    op.drop_table("login_known_clients")
