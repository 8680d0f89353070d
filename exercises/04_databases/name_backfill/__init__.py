"""04.6 — An Alembic migration with a data backfill, tested up and down.

The migrations live in ``migrations/`` beside this file. Revision ``0001`` (given) creates
``customers(id, full_name, email)``. Revision ``0002`` (yours, in
``migrations/versions/v0002_split_customer_names.py``) splits ``full_name`` into
``first_name`` and ``last_name``, keeping every customer's data:

- upgrade: add both columns, backfill them from ``full_name`` (trimmed; ``first_name`` is the
  text before the first space, ``last_name`` the trimmed rest or ``''`` for a single word),
  make them NOT NULL, drop ``full_name``;
- downgrade: add ``full_name`` back, fill it with ``first_name || ' ' || last_name`` (trimmed,
  so "Plato" comes back without a trailing space), make it NOT NULL, drop the two columns.

Run it with Alembic against the database in ``sqlalchemy.url``::

    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Config is a ConfigParser: a % in the URL (e.g. options=-csearch_path%3D...) must be %%
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")
"""

from __future__ import annotations

from pathlib import Path

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
CREATE_REVISION = "0001"
SPLIT_REVISION = "0002"
