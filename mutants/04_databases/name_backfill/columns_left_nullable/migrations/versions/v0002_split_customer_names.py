"""Never tightens first_name and last_name to NOT NULL after the backfill.

Split customers.full_name into first_name and last_name, backfilling existing rows.

Revision ID: 0002
Revises: 0001

The usual safe shape of a schema change with data: add the new columns as NULLABLE, backfill
them in one set-based UPDATE, and only then tighten them to NOT NULL and drop the old column.
Downgrade mirrors it, so a release can be rolled back without losing a name.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("first_name", sa.Text, nullable=True))
    op.add_column("customers", sa.Column("last_name", sa.Text, nullable=True))
    # one statement for every row: the database splits the names, no rows travel to Python
    op.execute(
        """
        UPDATE customers SET
            first_name = split_part(btrim(full_name), ' ', 1),
            last_name = CASE
                WHEN strpos(btrim(full_name), ' ') > 0
                THEN btrim(substr(btrim(full_name), strpos(btrim(full_name), ' ') + 1))
                ELSE ''
            END
        """
    )
    op.drop_column("customers", "full_name")


def downgrade() -> None:
    op.add_column("customers", sa.Column("full_name", sa.Text, nullable=True))
    op.execute("UPDATE customers SET full_name = btrim(first_name || ' ' || last_name)")
    op.alter_column("customers", "full_name", nullable=False)
    op.drop_column("customers", "last_name")
    op.drop_column("customers", "first_name")
