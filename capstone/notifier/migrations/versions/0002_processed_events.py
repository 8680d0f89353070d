"""processed_events: the event ids lesson 07's consumer (07.7) has handled, per group

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
    op.create_table(
        "processed_events",
        sa.Column("consumer_group", sa.Text, primary_key=True),
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )
    # the notifications stored before: their events count as processed, so a copy that
    # arrives again (a republish) is a duplicate without reaching the handler
    op.execute(
        "INSERT INTO processed_events (consumer_group, event_id, processed_at) "
        "SELECT 'notifier', event_id, created_at FROM notifications"
    )


def downgrade() -> None:
    op.drop_table("processed_events")
