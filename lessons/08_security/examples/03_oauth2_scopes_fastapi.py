"""The OAuth2 password flow with scopes in FastAPI, served by uvicorn and called over HTTP.

Run: uv run python lessons/08_security/examples/03_oauth2_scopes_fastapi.py

A tiny library API: log in at /token with a form, get a bearer JWT with the scopes you asked
for (and may have), then each route checks its own scopes through `Security(...)`. The user
is looked up on every request, so deleting them ends their tokens at once.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Annotated

import httpx
import jwt
import uvicorn
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from fastapi import Depends, FastAPI, HTTPException, Security
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm, SecurityScopes

SECRET = "example-signing-secret-0123456789-abcdefghijk"
SCOPES = {"books:read": "read the catalogue", "books:write": "add books"}
hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # cheap: an example
# keyed by a user id that is never reused; "sub" carries the id, not the name
USERS = {
    "u-1": {"name": "reader", "hash": hasher.hash("reader-pass"), "scopes": {"books:read"}},
    "u-2": {
        "name": "librarian",
        "hash": hasher.hash("librarian-pass"),
        "scopes": {"books:read", "books:write"},
    },
}
DUMMY_HASH = hasher.hash("nobody has this password")  # verified for unknown names
oauth2 = OAuth2PasswordBearer(tokenUrl="/token", scopes=SCOPES)
app = FastAPI(title="library")


@app.post("/token")
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, str]:
    user_id, user = next(
        ((i, u) for i, u in USERS.items() if u["name"] == form.username), ("", None)
    )
    try:  # verify even for an unknown name, so both failures take as long
        hasher.verify(user["hash"] if user else DUMMY_HASH, form.password)
    except VerificationError:
        user = None
    if user is None:
        raise HTTPException(401, "incorrect username or password", {"WWW-Authenticate": "Bearer"})
    granted = [s for s in form.scopes if s in user["scopes"]]  # never more than they have
    now = int(time.time())
    claims = {"sub": user_id, "scope": " ".join(granted), "iat": now, "exp": now + 300}
    return {"access_token": jwt.encode(claims, SECRET, "HS256"), "token_type": "bearer"}


def caller(scopes: SecurityScopes, raw: Annotated[str, Depends(oauth2)]) -> str:
    challenge = {"WWW-Authenticate": f'Bearer scope="{scopes.scope_str}"'}
    try:
        claims = jwt.decode(raw, SECRET, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.PyJWTError:
        raise HTTPException(401, "invalid token", challenge) from None
    if claims["sub"] not in USERS:  # a token is good only while its user exists
        raise HTTPException(401, "user no longer exists", challenge)
    granted = set(claims["scope"].split())
    missing = [s for s in scopes.scopes if s not in granted]
    if missing:
        raise HTTPException(403, f"missing scope: {missing[0]}", challenge)
    return str(USERS[claims["sub"]]["name"])


@app.get("/books")
def books(who: Annotated[str, Security(caller, scopes=["books:read"])]) -> dict[str, object]:
    return {"books": ["Dune"], "for": who}


@app.post("/books", status_code=201)
def add_book(who: Annotated[str, Security(caller, scopes=["books:write"])]) -> dict[str, str]:
    return {"added_by": who}


def main() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # port 0: the OS picks a free port
    host, port = sock.getsockname()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    print(f"serving on http://{host}:{port}")
    try:
        with httpx.Client(base_url=f"http://{host}:{port}", timeout=5) as client:

            def login(user: str, password: str, scope: str) -> str:
                form = {"username": user, "password": password, "scope": scope}
                answer = client.post("/token", data=form)
                print(f"POST /token {user:<9} scope={scope!r:<26} ->", answer.status_code)
                return answer.json().get("access_token", "")

            login("reader", "wrong", "books:read")
            reader = login("reader", "reader-pass", "books:read books:write")
            print("  granted:", jwt.decode(reader, options={"verify_signature": False})["scope"])
            librarian = login("librarian", "librarian-pass", "books:read books:write")
            for who, raw in (("anonymous", ""), ("reader", reader), ("librarian", librarian)):
                headers = {"Authorization": f"Bearer {raw}"} if raw else {}
                for method in ("GET", "POST"):
                    answer = client.request(method, "/books", headers=headers)
                    print(f"{method:4} /books as {who:<9} -> {answer.status_code} {answer.json()}")
            del USERS["u-2"]
            gone = client.get("/books", headers={"Authorization": f"Bearer {librarian}"})
            print("after deleting librarian, their token ->", gone.status_code, gone.json())
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
    print("server stopped:", not thread.is_alive())


if __name__ == "__main__":
    main()
