"""Alembic environment of notifier: see capstone.common.db.run_alembic_env (lesson 04)."""

from capstone.common.db import run_alembic_env
from capstone.notifier.models import Base

run_alembic_env(Base.metadata)
