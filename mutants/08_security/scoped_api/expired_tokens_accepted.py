"""Accepts expired tokens.

A client sends a username and password once, to `POST /token` (a form, as OAuth2's password
flow says), and gets a short-lived bearer token that carries *scopes*: what this token may do.
Every protected route names the scopes it needs with `Security(dependency, scopes=[...])`; the
dependency receives them in a `SecurityScopes` and checks the token against them. The token is
only good while its user exists: the dependency looks the user up on every request.

(This is the flow for first-party clients: your own web or mobile app. Third-party apps and
single sign-on use the authorization-code flow with an identity provider; see the lesson.)
"""

import time
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, FastAPI, HTTPException, Security, status
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm, SecurityScopes

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
    oauth2 = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, scopes=SCOPES, auto_error=False)
    dummy_hash = users.hasher.hash("a password nobody has")  # see login()
    app = FastAPI(title="notes")

    def check_password(user: User | None, password: str) -> bool:
        try:
            # verify even for an unknown user, so both failures take as long
            ok = users.hasher.verify(user.password_hash if user else dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        return ok and user is not None

    @app.post(TOKEN_URL)
    def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, str]:
        user = users.find(form.username)
        if not check_password(user, form.password) or user is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, LOGIN_FAILED, headers={"WWW-Authenticate": "Bearer"}
            )
        granted = sorted(user.scopes & set(form.scopes)) if form.scopes else sorted(user.scopes)
        now = int(time.time())
        claims = {"sub": user.id, "scope": " ".join(granted), "iat": now, "exp": now + ttl_seconds}
        token = jwt.encode(claims, secret, algorithm=ALGORITHM)
        return {"access_token": token, "token_type": "bearer", "scope": " ".join(granted)}

    def current_user(
        security_scopes: SecurityScopes, token: Annotated[str | None, Depends(oauth2)]
    ) -> tuple[User, frozenset[str]]:
        challenge = "Bearer"
        if security_scopes.scopes:
            challenge = f'Bearer scope="{security_scopes.scope_str}"'

        def refuse(code: int, detail: str) -> HTTPException:
            return HTTPException(code, detail, headers={"WWW-Authenticate": challenge})

        if not token:
            raise refuse(status.HTTP_401_UNAUTHORIZED, "not authenticated")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "sub"], "verify_exp": False},
            )
        except jwt.PyJWTError:
            raise refuse(status.HTTP_401_UNAUTHORIZED, "invalid token") from None
        user = users.get(str(claims["sub"]))
        if user is None:
            raise refuse(status.HTTP_401_UNAUTHORIZED, "user no longer exists")
        effective = frozenset(str(claims.get("scope", "")).split()) & user.scopes
        for scope in security_scopes.scopes:
            if scope not in effective:
                raise refuse(status.HTTP_403_FORBIDDEN, f"missing scope: {scope}")
        return user, effective

    Caller = Annotated[tuple[User, frozenset[str]], Security(current_user)]
    Reader = Annotated[tuple[User, frozenset[str]], Security(current_user, scopes=["notes:read"])]
    Writer = Annotated[tuple[User, frozenset[str]], Security(current_user, scopes=["notes:write"])]
    Admin = Annotated[tuple[User, frozenset[str]], Security(current_user, scopes=["admin"])]

    @app.get("/me")
    def me(caller: Caller) -> dict[str, Any]:
        user, scopes = caller
        return {"username": user.username, "scopes": sorted(scopes)}

    @app.get("/notes")
    def read_notes(caller: Reader) -> dict[str, Any]:
        return {"notes": []}

    @app.post("/notes", status_code=201)
    def write_note(caller: Writer) -> dict[str, Any]:
        return {"created": True}

    @app.get("/admin/users")
    def list_users(caller: Admin) -> dict[str, Any]:
        return {"users": sorted(u.username for u in users.by_id.values())}

    return app
