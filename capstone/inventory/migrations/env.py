"""Alembic environment: see capstone.common.db.run_alembic_env (lesson 04)."""

from capstone.common.db import run_alembic_env

run_alembic_env()
