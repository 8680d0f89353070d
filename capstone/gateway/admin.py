"""Making an admin (lesson 08): an operator's action, never something a client can ask for.

``journey capstone admin EMAIL`` (and the demo and the tests, through :func:`ensure_admin`)
creates the user with the role ``admin``, or promotes an existing one. It writes to the gateway's
database directly: whoever can do that already controls the shop.
"""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from capstone.gateway.models import RegisterIn, User
from capstone.gateway.security import hasher

Outcome = Literal["created", "promoted", "already admin"]


class AdminError(ValueError):
    """The email or password is not acceptable, or a new user has no password."""


def ensure_admin(database_url: str, email: str, password: str | None = None) -> Outcome:
    """Creates ``email`` as an admin (``password`` required), or gives an existing user the
    admin role (and the new ``password``, when one is given)."""
    email = email.strip().lower()
    checked = _checked(email, password or "placeholder-password")
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with Session(engine) as session, session.begin():
            user = session.scalars(select(User).where(User.email == checked.email)).one_or_none()
            if user is None:
                if password is None:
                    raise AdminError(f"{email} does not exist yet: give it a password")
                session.add(
                    User(
                        id=str(uuid.uuid4()),
                        email=checked.email,
                        password_hash=hasher.hash(password),
                        role="admin",
                    )
                )
                return "created"
            outcome: Outcome = "already admin" if user.role == "admin" else "promoted"
            user.role = "admin"
            if password is not None:
                user.password_hash = hasher.hash(password)
            return outcome
    finally:
        engine.dispose()


def _checked(email: str, password: str) -> RegisterIn:
    from pydantic import ValidationError

    try:
        return RegisterIn(email=email, password=password)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors(include_input=False)
        )
        raise AdminError(problems) from error
