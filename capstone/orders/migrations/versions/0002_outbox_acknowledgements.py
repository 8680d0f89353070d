"""outbox rows remember their stream entry and its acknowledgement; orders paged by keyset

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("stream_id", sa.String(40)))
    op.add_column("outbox", sa.Column("acked_at", sa.DateTime(timezone=True)))
    # rows sent before this revision: their fate is unknown, and assumed delivered
    op.execute("UPDATE outbox SET acked_at = sent_at WHERE sent_at IS NOT NULL")
    op.create_index(
        "ix_outbox_unacknowledged",
        "outbox",
        ["id"],
        postgresql_where=sa.text("sent_at IS NOT NULL AND acked_at IS NULL"),
    )
    op.create_index("ix_orders_user_created", "orders", ["user_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_orders_user_created", "orders")
    op.drop_index("ix_outbox_unacknowledged", "outbox")
    op.drop_column("outbox", "acked_at")
    op.drop_column("outbox", "stream_id")
