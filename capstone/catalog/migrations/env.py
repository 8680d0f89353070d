"""Alembic environment of catalog: see capstone.common.db.run_alembic_env (lesson 04)."""

from capstone.catalog.models import Base
from capstone.common.db import run_alembic_env

run_alembic_env(Base.metadata)
