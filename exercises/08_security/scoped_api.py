"""08.5 The OAuth2 password flow and scopes in FastAPI.

A client sends a username and password once, to `POST /token` (a form, as OAuth2's password
flow says), and gets a short-lived bearer token that carries *scopes*: what this token may do.
Every protected route names the scopes it needs with `Security(dependency, scopes=[...])`; the
dependency receives them in a `SecurityScopes` and checks the token against them. The token is
only good while its user exists: the dependency looks the user up on every request.

(This is the flow for first-party clients: your own web or mobile app. Third-party apps and
single sign-on use the authorization-code flow with an identity provider; see the lesson.)
"""

import time  # noqa: F401 - you will need it
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any  # noqa: F401 - you will need it

import jwt  # noqa: F401 - you will need it
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError  # noqa: F401 - you will need it
from fastapi import Depends, FastAPI, HTTPException, Security, status  # noqa: F401 - you will need it
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm, SecurityScopes  # noqa: F401 - you will need it

SCOPES = {
    "notes:read": "read your notes",
    "notes:write": "write notes",
    "admin": "see every user",
}
TOKEN_URL = "/token"
ALGORITHM = "HS256"
LOGIN_FAILED = "incorrect username or password"


@dataclass
class User:
    """A stored user (given). `id` is a random, never reused id; `scopes` what they may get."""

    id: str
    username: str
    password_hash: str
    scopes: frozenset[str]


@dataclass
class UserStore:
    """An in-memory user table (given). `hasher` hashes passwords (tests use a cheap one)."""

    hasher: PasswordHasher
    by_id: dict[str, User] = field(default_factory=dict)

    def add(self, username: str, password: str, scopes: set[str] | frozenset[str]) -> User:
        unknown = set(scopes) - SCOPES.keys()
        if unknown:
            raise ValueError(f"unknown scopes: {sorted(unknown)}")
        user = User(str(uuid.uuid4()), username, self.hasher.hash(password), frozenset(scopes))
        self.by_id[user.id] = user
        return user

    def find(self, username: str) -> User | None:
        return next((u for u in self.by_id.values() if u.username == username), None)

    def get(self, user_id: str) -> User | None:
        return self.by_id.get(user_id)

    def delete(self, username: str) -> None:
        user = self.find(username)
        if user is not None:
            del self.by_id[user.id]


def create_app(users: UserStore, secret: str, *, ttl_seconds: int = 900) -> FastAPI:
    """An API with the OAuth2 password flow and scope checks.

    `POST /token` (form fields username, password, and optional scope: scopes separated by
    spaces): 200 {"access_token": ..., "token_type": "bearer", "scope": "<granted, space
    separated>"}. Granted scopes are the requested ones the user has (all the user's scopes
    when none are requested). The token is an HS256 JWT signed with `secret`, with "sub" = the
    user's id (never the username: names can be reused), "scope", "iat" and "exp" (now +
    ttl_seconds). An unknown user or a wrong password: 401 with detail LOGIN_FAILED, the same
    for both (and an unknown user still costs one password verification, so timing does not
    tell them apart either).

    Routes, each behind `Security(<your dependency>, scopes=[...])`:
      GET  /me           any valid token -> {"username": ..., "scopes": [sorted effective scopes]}
      GET  /notes        "notes:read"    -> {"notes": []}
      POST /notes        "notes:write"   -> 201 {"created": true}
      GET  /admin/users  "admin"         -> {"users": [sorted usernames]}

    The dependency: no token, or a token that does not verify (signature, HS256 only, exp
    required and in the future): 401 "not authenticated" / "invalid token"; a token whose
    user no longer exists: 401 "user no longer exists". The effective scopes are the token's
    scopes that the user still has now (a scope taken away works at once). A missing scope:
    403 "missing scope: <scope>". Every 401 and 403 carries `WWW-Authenticate: Bearer`, with
    `scope="<the route's scopes>"` when the route needs some. The OpenAPI document describes
    the password flow with tokenUrl TOKEN_URL and SCOPES. No response ever contains a
    password or a password hash.
    """
    raise NotImplementedError("08.5: token route, a scope-checking dependency, routes")
