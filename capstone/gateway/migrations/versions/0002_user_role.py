"""users.role replaces users.is_admin: admin is a stored role, set by a command

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
    op.add_column("users", sa.Column("role", sa.String(20), nullable=False, server_default="user"))
    op.execute("UPDATE users SET role = 'admin' WHERE is_admin")
    op.drop_column("users", "is_admin")


def downgrade() -> None:
    op.add_column(
        "users", sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.execute("UPDATE users SET is_admin = (role = 'admin')")
    op.drop_column("users", "role")
