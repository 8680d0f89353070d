"""08.5 OAuth2 password flow and scopes in FastAPI; a token lives only as long as its user."""

from __future__ import annotations

import time

import pytest

from journey.targets import load

api = load(__file__, "scoped_api")
SECRET = "test-signing-secret-0123456789-abcdefghijklmnop"
ROUTES = [("GET", "/me"), ("GET", "/notes"), ("POST", "/notes"), ("GET", "/admin/users")]


@pytest.fixture
def users(cheap_hasher):
    store = api.UserStore(cheap_hasher)
    store.add("ann", "ann-password-1", {"notes:read", "notes:write"})
    store.add("root", "root-password-1", {"notes:read", "notes:write", "admin"})
    return store


def client_for(users):
    from fastapi.testclient import TestClient

    return TestClient(api.create_app(users, SECRET))


def login(client, username: str, password: str, scope: str | None = None):
    form = {"username": username, "password": password}
    if scope is not None:
        form["scope"] = scope
    return client.post("/token", data=form)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_for(client, username: str, password: str, scope: str | None = None) -> str:
    response = login(client, username, password, scope)
    assert response.status_code == 200, f"login should work: {response.text}"
    return response.json()["access_token"]


def test_login_returns_a_bearer_token_with_the_user_scopes(users) -> None:
    import jwt

    response = login(client_for(users), "ann", "ann-password-1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["scope"] == "notes:read notes:write", "no scope asked: all of the user's scopes"
    claims = jwt.decode(body["access_token"], SECRET, algorithms=["HS256"])
    assert claims["sub"] == users.find("ann").id, "sub is the user's id, not the username"
    assert claims["exp"] - claims["iat"] == 900
    assert abs(claims["iat"] - time.time()) < 60


def test_wrong_password_and_unknown_user_look_the_same(users) -> None:
    client = client_for(users)
    wrong = login(client, "ann", "nope")
    unknown = login(client, "nobody", "nope")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": api.LOGIN_FAILED}, (
        "never say which of the two was wrong: that tells an attacker which usernames exist"
    )
    assert wrong.headers.get("www-authenticate") == "Bearer"


def test_an_unknown_user_still_costs_a_password_check(cheap_hasher) -> None:
    from argon2 import PasswordHasher

    class CountingHasher(PasswordHasher):
        verified = 0

        def verify(self, hash, password):
            CountingHasher.verified += 1
            return super().verify(hash, password)

    store = api.UserStore(CountingHasher(time_cost=1, memory_cost=1024, parallelism=1))
    store.add("ann", "ann-password-1", {"notes:read"})
    client = client_for(store)
    before = CountingHasher.verified
    assert login(client, "nobody", "guess").status_code == 401
    assert CountingHasher.verified == before + 1, (
        "verify a dummy hash when the user does not exist, so the answer takes as long as "
        "for a wrong password (timing would tell otherwise)"
    )


def test_requested_scopes_are_narrowed_to_what_the_user_has(users) -> None:
    client = client_for(users)
    response = login(client, "ann", "ann-password-1", scope="notes:read admin")
    assert response.json()["scope"] == "notes:read", "ann asked for admin, which she does not have"
    token = response.json()["access_token"]
    assert client.get("/notes", headers=bearer(token)).status_code == 200
    assert client.post("/notes", headers=bearer(token)).status_code == 403, "not asked for"
    assert client.get("/admin/users", headers=bearer(token)).status_code == 403


def test_each_route_needs_its_scope(users) -> None:
    client = client_for(users)
    ann = token_for(client, "ann", "ann-password-1")
    root = token_for(client, "root", "root-password-1")
    assert client.get("/me", headers=bearer(ann)).json() == {
        "username": "ann",
        "scopes": ["notes:read", "notes:write"],
    }
    assert client.post("/notes", headers=bearer(ann)).status_code == 201
    refused = client.get("/admin/users", headers=bearer(ann))
    assert refused.status_code == 403
    assert refused.json() == {"detail": "missing scope: admin"}
    assert refused.headers.get("www-authenticate") == 'Bearer scope="admin"', (
        "a 403 names the scope the route needs in its WWW-Authenticate challenge"
    )
    assert client.get("/admin/users", headers=bearer(root)).json() == {"users": ["ann", "root"]}


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_no_token_is_401_everywhere(users, method: str, path: str) -> None:
    response = client_for(users).request(method, path)
    assert response.status_code == 401, f"{method} {path} without a token"
    assert response.json() == {"detail": "not authenticated"}
    assert response.headers.get("www-authenticate", "").startswith("Bearer")


def forged_tokens(users) -> dict[str, str]:
    import jwt

    ann_id = users.find("ann").id
    now = int(time.time())
    good = {"sub": ann_id, "scope": "notes:read", "iat": now, "exp": now + 600}
    header, payload, signature = jwt.encode(good, SECRET, algorithm="HS256").split(".")
    admin_payload = jwt.encode({**good, "scope": "admin"}, SECRET, algorithm="HS256").split(".")[1]
    return {
        "expired": jwt.encode({**good, "exp": now - 10}, SECRET, algorithm="HS256"),
        "other-secret": jwt.encode(good, "x" * 40, algorithm="HS256"),
        "alg-none": jwt.encode(good, None, algorithm="none"),
        "no-exp": jwt.encode({"sub": ann_id, "scope": "notes:read"}, SECRET, algorithm="HS256"),
        "swapped-payload": f"{header}.{admin_payload.replace('A', 'B', 1)}.{signature}",
        "truncated": f"{header}.{payload}.{signature[:-3]}",
        "garbage": "not-a-token",
    }


@pytest.mark.parametrize(
    "kind",
    ["expired", "other-secret", "alg-none", "no-exp", "swapped-payload", "truncated", "garbage"],
)
def test_bad_tokens_are_401(users, kind: str) -> None:
    token = forged_tokens(users)[kind]
    response = client_for(users).get("/notes", headers=bearer(token))
    assert response.status_code == 401, f"a {kind} token must be refused"
    assert response.json() == {"detail": "invalid token"}


def test_a_deleted_user_s_token_stops_working(users) -> None:
    client = client_for(users)
    token = token_for(client, "ann", "ann-password-1")
    assert client.get("/me", headers=bearer(token)).status_code == 200
    users.delete("ann")
    response = client.get("/me", headers=bearer(token))
    assert response.status_code == 401, "a token is good only while its user exists"
    assert response.json() == {"detail": "user no longer exists"}
    users.add("ann", "new-ann-password", {"notes:read", "notes:write"})
    assert client.get("/me", headers=bearer(token)).status_code == 401, (
        "a new user with the same name is somebody else: the old token names the old id"
    )


def test_a_scope_taken_away_stops_working_at_once(users) -> None:
    client = client_for(users)
    token = token_for(client, "root", "root-password-1")
    assert client.get("/admin/users", headers=bearer(token)).status_code == 200
    users.find("root").scopes = frozenset({"notes:read"})  # demoted by another admin
    assert client.get("/admin/users", headers=bearer(token)).status_code == 403, (
        "the effective scopes are the token's scopes that the user still has"
    )


def test_openapi_describes_the_password_flow(users) -> None:
    schemes = api.create_app(users, SECRET).openapi()["components"]["securitySchemes"]
    flows = [s["flows"]["password"] for s in schemes.values() if s.get("type") == "oauth2"]
    assert flows, "use OAuth2PasswordBearer: the docs page then offers the password flow"
    assert flows[0]["tokenUrl"] == api.TOKEN_URL
    assert flows[0]["scopes"] == api.SCOPES


def test_no_password_or_hash_in_any_response(users, no_leak) -> None:
    client = client_for(users)
    token = token_for(client, "root", "root-password-1")
    responses = [
        login(client, "ann", "wrong-password"),
        login(client, "root", "root-password-1"),
        *(client.request(m, p, headers=bearer(token)) for m, p in ROUTES),
    ]
    texts = [r.text + str(dict(r.headers)) for r in responses]
    hashes = [u.password_hash for u in users.by_id.values()]
    no_leak(texts, [*hashes, "root-password-1", "wrong-password", "$argon2", SECRET], "a response")
