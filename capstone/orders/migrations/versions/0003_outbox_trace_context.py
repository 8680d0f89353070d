"""outbox rows keep the trace context of the request that placed their order

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("trace_context", JSONB))


def downgrade() -> None:
    op.drop_column("outbox", "trace_context")
