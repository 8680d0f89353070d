"""Alembic environment of gateway: see capstone.common.db.run_alembic_env (lesson 04)."""

from capstone.common.db import run_alembic_env
from capstone.gateway.models import Base

run_alembic_env(Base.metadata)
