"""Split customers.full_name into first_name and last_name, backfilling existing rows.

Revision ID: 0002
Revises: 0001

upgrade():
  1. add ``first_name`` and ``last_name`` (text) as NULLABLE columns;
  2. backfill every row in ONE set-based UPDATE: trim ``full_name``; ``first_name`` is the text
     before the first space; ``last_name`` is the rest, trimmed, or ``''`` when there is no
     space ("  Grace   Hopper " -> "Grace", "Hopper"; "Plato" -> "Plato", "");
  3. make both columns NOT NULL, then drop ``full_name``.

downgrade(): the mirror image, so a release can be rolled back without losing a name:
  add ``full_name`` (nullable), fill it with ``first_name || ' ' || last_name`` trimmed
  ("Plato", not "Plato "), make it NOT NULL, drop ``last_name`` and ``first_name``.

Useful: ``op.add_column``, ``op.execute``, ``op.alter_column(..., nullable=False)``,
``op.drop_column``; PostgreSQL's ``btrim``, ``split_part``, ``strpos``, ``substr``.
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401  (you will need it for sa.Column)
from alembic import op  # noqa: F401

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    raise NotImplementedError("04.6: add the columns, backfill them, tighten, drop full_name")


def downgrade() -> None:
    raise NotImplementedError("04.6: add full_name back, fill it, tighten, drop the new columns")
