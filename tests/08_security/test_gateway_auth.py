"""08.8 Gateway piece 1: async passwords, rotating-key tokens, scopes and live users.

Three groups, in the order to build them: passwords, then tokens, then the FastAPI dependency.
"""

import asyncio
import base64
import json
import threading

import pytest

from journey.targets import load

auth = load(__file__, "gateway_auth")
OLD = "retired-gateway-secret-0123456789-abcdefghijk"
NEW = "current-gateway-secret-0123456789-lmnopqrstuv"
ATTACKER = "an-attacker-s-own-secret-0123456789-qrstuvwxyz"
WHO = {"issuer": "shop-gateway", "audience": "shop-api"}
ALICE = auth.Account("u-alice", is_admin=False)
ROOT = auth.Account("u-root", is_admin=True)


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class Directory:
    """The user lookup the gateway would back with its database: awaitable, and it counts."""

    def __init__(self, *accounts) -> None:
        self.accounts = {a.user_id: a for a in accounts}
        self.asked: list[str] = []

    async def __call__(self, user_id: str):
        self.asked.append(user_id)
        await asyncio.sleep(0)
        return self.accounts.get(user_id)


def authority(clock, users=None, keys=None, **options):
    keys = keys or [auth.SigningKey("k2", NEW)]
    users = users or Directory(ALICE, ROOT)
    return auth.TokenAuthority(keys, users=users, clock=clock, **{**WHO, **options})


def rotated_keys(retired_at: float):
    return [auth.SigningKey("k1", OLD, retired_at=retired_at), auth.SigningKey("k2", NEW)]


def refused(coro, status: int, detail: str) -> None:
    with pytest.raises(auth.AuthError) as caught:
        asyncio.run(coro)
    error = caught.value
    assert (error.status, error.detail) == (status, detail), (
        f"expected {status} {detail!r}, got {error.status} {error.detail!r}"
    )
    assert error.headers.get("WWW-Authenticate", "").startswith("Bearer"), (
        "every 401 and 403 carries a WWW-Authenticate: Bearer challenge"
    )
    for secret in (OLD, NEW):
        assert secret not in error.detail


def claims(clock, **changes) -> dict:
    now = int(clock())
    base = {"sub": "u-alice", "scope": "orders:read", "iat": now, "nbf": now, "exp": now + 900}
    return {k: v for k, v in {**base, **WHO_CLAIMS, **changes}.items() if v is not None}


WHO_CLAIMS = {"iss": WHO["issuer"], "aud": WHO["audience"]}


# -- stage 1a: passwords ------------------------------------------------------------------


def test_hashing_is_argon2id_off_the_event_loop(cheap_hasher) -> None:
    from argon2 import PasswordHasher

    threads: list[int] = []

    class Recording(PasswordHasher):
        def hash(self, password, *, salt=None):
            threads.append(threading.get_ident())
            return super().hash(password, salt=salt)

    async def main():
        loop_thread = threading.get_ident()
        hashing = auth.PasswordHashing(Recording(time_cost=1, memory_cost=1024, parallelism=1))
        threads.clear()
        stored = await hashing.hash("s3cret-pass")
        return loop_thread, stored, await hashing.verify(stored, "s3cret-pass")

    loop_thread, stored, ok = asyncio.run(main())
    assert stored.startswith("$argon2id$")
    assert "m=1024,t=1,p=1" in stored, "hash with the injected PasswordHasher"
    assert ok is True
    assert threads, "hash with the injected PasswordHasher"
    assert loop_thread not in threads, (
        "argon2 burns CPU for tens of milliseconds: run it with asyncio.to_thread, not on the "
        "event loop where it would stall every other request"
    )


def test_verify_is_false_for_wrong_damaged_and_unknown(cheap_hasher) -> None:
    async def main():
        hashing = auth.PasswordHashing(cheap_hasher)
        stored = await hashing.hash("s3cret-pass")
        return [
            await hashing.verify(stored, "wrong"),
            await hashing.verify("not-a-hash", "not-a-hash"),
            await hashing.verify(stored[:-5], "s3cret-pass"),
            await hashing.verify(None, "s3cret-pass"),
        ]

    assert asyncio.run(main()) == [False, False, False, False]


def test_an_unknown_user_still_costs_a_verification() -> None:
    from argon2 import PasswordHasher

    class Counting(PasswordHasher):
        verified = 0

        def verify(self, hash, password):
            Counting.verified += 1
            return super().verify(hash, password)

    async def main() -> bool:
        hashing = auth.PasswordHashing(Counting(time_cost=1, memory_cost=1024, parallelism=1))
        return await hashing.verify(None, "any-guess")

    assert asyncio.run(main()) is False
    assert Counting.verified == 1, (
        "stored_hash None (no such user): verify a dummy hash anyway, so unknown emails take "
        "as long as wrong passwords"
    )


def test_needs_rehash_follows_the_hasher(cheap_hasher) -> None:
    from argon2 import PasswordHasher

    old = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash("pw")
    hashing = auth.PasswordHashing(cheap_hasher)
    assert hashing.needs_rehash(old) is True
    assert hashing.needs_rehash(cheap_hasher.hash("pw")) is False


# -- stage 1b: tokens ---------------------------------------------------------------------


def test_issue_signs_with_the_current_key_and_the_clock(clock) -> None:
    import jwt

    issued = authority(clock, keys=rotated_keys(clock() - 10), ttl_seconds=600).issue(ALICE)
    assert jwt.get_unverified_header(issued.access_token) == {
        "alg": "HS256",
        "typ": "JWT",
        "kid": "k2",
    }, "sign with the key whose retired_at is None, and name it in the header's kid"
    got = jwt.decode(
        issued.access_token,
        NEW,
        algorithms=["HS256"],
        audience="shop-api",
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    now = int(clock())
    assert got == {
        "sub": "u-alice",
        "scope": "orders:read orders:write",
        "iss": "shop-gateway",
        "aud": "shop-api",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }, "times come from the injected clock"
    assert (issued.expires_in, issued.scope, issued.token_type) == (
        600,
        "orders:read orders:write",
        "bearer",
    )


def test_scopes_are_granted_from_the_stored_role(clock) -> None:
    gate = authority(clock)
    assert gate.grant(ALICE) == ["orders:read", "orders:write"]
    assert gate.grant(ROOT) == ["orders:read", "orders:write", "admin"]
    assert gate.grant(ALICE, ["admin", "orders:read", "bogus"]) == ["orders:read"], (
        "requested scopes the account may not have are left out"
    )
    assert gate.grant(ROOT, ["admin"]) == ["admin"]


def test_a_good_token_authenticates_and_the_user_is_asked(clock) -> None:
    users = Directory(ALICE, ROOT)
    gate = authority(clock, users=users)
    token = gate.issue(ALICE).access_token
    principal = asyncio.run(gate.authenticate(token, ["orders:read"]))
    assert principal == auth.Principal("u-alice", frozenset({"orders:read", "orders:write"}))
    assert users.asked == ["u-alice"], "the user lookup is awaited on every authentication"


def test_no_token_is_401(clock) -> None:
    refused(authority(clock).authenticate(None, []), 401, "a bearer token is required")
    refused(authority(clock).authenticate("", []), 401, "a bearer token is required")


def test_expiry_is_judged_by_the_injected_clock(clock) -> None:
    gate = authority(clock, ttl_seconds=600)
    token = gate.issue(ALICE).access_token
    clock.advance(599)
    assert asyncio.run(gate.authenticate(token)).user_id == "u-alice", "1 s before exp: good"
    clock.advance(1)
    refused(gate.authenticate(token), 401, "invalid token: expired")


def test_leeway_tolerates_small_skew(clock) -> None:
    gate = authority(clock, ttl_seconds=600, leeway_seconds=30)
    token = gate.issue(ALICE).access_token
    clock.advance(620)
    assert asyncio.run(gate.authenticate(token)).user_id == "u-alice"
    clock.advance(10)
    refused(gate.authenticate(token), 401, "invalid token: expired")


def test_a_token_from_the_future_is_not_yet_valid(clock) -> None:
    import jwt

    later = jwt.encode(
        claims(clock, nbf=int(clock()) + 300), NEW, algorithm="HS256", headers={"kid": "k2"}
    )
    refused(authority(clock).authenticate(later), 401, "invalid token: not yet valid")
    minted_later = jwt.encode(
        claims(clock, iat=int(clock()) + 300, nbf=None),
        NEW,
        algorithm="HS256",
        headers={"kid": "k2"},
    )
    refused(authority(clock).authenticate(minted_later), 401, "invalid token: not yet valid")


def test_a_retired_key_verifies_during_the_overlap_then_stops(clock) -> None:
    old_gate = authority(clock, keys=[auth.SigningKey("k1", OLD)], ttl_seconds=3600)
    old_token = old_gate.issue(ALICE).access_token
    rotated = authority(clock, keys=rotated_keys(clock()), overlap_seconds=900, ttl_seconds=3600)
    clock.advance(899)
    assert asyncio.run(rotated.authenticate(old_token)).user_id == "u-alice", (
        "within the overlap, tokens signed with the retired key still work"
    )
    clock.advance(1)
    refused(rotated.authenticate(old_token), 401, "invalid token: key retired")


def test_a_leaked_retired_key_cannot_mint_long_lived_tokens(clock) -> None:
    import jwt

    rotated = authority(clock, keys=rotated_keys(clock() - 1000), overlap_seconds=900)
    minted = jwt.encode(
        claims(clock, exp=int(clock()) + 10**6, scope="admin", sub="u-root"),
        OLD,
        algorithm="HS256",
        headers={"kid": "k1"},
    )
    refused(rotated.authenticate(minted), 401, "invalid token: key retired")


@pytest.mark.parametrize("kid", [None, "k9", "../k2"], ids=["no-kid", "unknown", "path"])
def test_an_unknown_key_id_is_refused(clock, kid) -> None:
    import jwt

    headers = {"kid": kid} if kid else None
    token = jwt.encode(claims(clock), NEW, algorithm="HS256", headers=headers)
    refused(authority(clock).authenticate(token), 401, "invalid token: unknown key id")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # HS512
def test_forged_none_other_algorithm_and_truncated_tokens_are_refused(clock) -> None:
    import jwt

    gate = authority(clock)
    good = gate.issue(ALICE).access_token
    header, payload, signature = good.split(".")
    forgeries = {
        "other secret": jwt.encode(
            claims(clock), ATTACKER, algorithm="HS256", headers={"kid": "k2"}
        ),
        "alg none": f"{b64({'alg': 'none', 'kid': 'k2'})}.{b64(claims(clock, scope='admin'))}.",
        "HS512": jwt.encode(claims(clock), NEW, algorithm="HS512", headers={"kid": "k2"}),
        "swapped claims": f"{header}.{b64(claims(clock, sub='u-root', scope='admin'))}.{signature}",
        "truncated": f"{header}.{payload}.{signature[:-2]}",
        "no signature": f"{header}.{payload}.",
    }
    for name, token in forgeries.items():
        with pytest.raises(auth.AuthError) as caught:
            asyncio.run(gate.authenticate(token))
        assert caught.value.status == 401, f"a token with {name} must be refused"
        assert caught.value.detail.startswith("invalid token"), caught.value.detail


def test_wrong_issuer_audience_or_missing_claims_are_refused(clock) -> None:
    import jwt

    gate = authority(clock)

    def signed(**changes) -> str:
        return jwt.encode(claims(clock, **changes), NEW, algorithm="HS256", headers={"kid": "k2"})

    for name, token in {
        "another issuer": signed(iss="someone-else"),
        "another audience": signed(aud="billing-api"),
        "no exp": signed(exp=None),
        "no sub": signed(sub=None),
        "no aud": signed(aud=None),
    }.items():
        with pytest.raises(auth.AuthError) as caught:
            asyncio.run(gate.authenticate(token))
        assert (caught.value.status, caught.value.detail[:13]) == (401, "invalid token"), name


def test_a_deleted_user_s_token_stops_working(clock) -> None:
    users = Directory(ALICE)
    gate = authority(clock, users=users)
    token = gate.issue(ALICE).access_token
    del users.accounts["u-alice"]
    refused(gate.authenticate(token), 401, "this token's user no longer exists")


def test_a_demoted_admin_loses_admin_at_once(clock) -> None:
    users = Directory(ROOT)
    gate = authority(clock, users=users)
    token = gate.issue(ROOT).access_token
    assert "admin" in asyncio.run(gate.authenticate(token, ["admin"])).scopes
    users.accounts["u-root"] = auth.Account("u-root", is_admin=False)
    refused(gate.authenticate(token, ["admin"]), 403, "this token lacks the scope admin")


def test_a_missing_scope_is_403_with_a_challenge(clock) -> None:
    gate = authority(clock)
    token = gate.issue(ALICE, ["orders:read"]).access_token
    with pytest.raises(auth.AuthError) as caught:
        asyncio.run(gate.authenticate(token, ["orders:read", "orders:write"]))
    assert (caught.value.status, caught.value.detail) == (
        403,
        "this token lacks the scope orders:write",
    )
    assert caught.value.headers == {"WWW-Authenticate": 'Bearer scope="orders:read orders:write"'}


def test_bad_key_rings_are_refused(clock) -> None:
    with pytest.raises(ValueError, match="secret"):
        authority(clock, keys=[auth.SigningKey("k1", "short")])
    with pytest.raises(ValueError, match="signing key"):
        authority(clock, keys=[auth.SigningKey("k1", OLD), auth.SigningKey("k2", NEW)])
    with pytest.raises(ValueError, match="signing key"):
        authority(clock, keys=[auth.SigningKey("k1", OLD, retired_at=1.0)])
    with pytest.raises(ValueError, match="unique"):
        authority(
            clock, keys=[auth.SigningKey("k1", OLD, retired_at=1.0), auth.SigningKey("k1", NEW)]
        )


def test_secrets_never_show_in_a_repr(clock, no_leak) -> None:
    keys = rotated_keys(clock())
    gate = authority(clock, keys=keys)
    no_leak([repr(keys), repr(gate), str(gate)], [OLD, NEW], "a repr")


# -- stage 1c: the FastAPI dependency -----------------------------------------------------


def app_with(gate):
    from typing import Annotated

    from fastapi import FastAPI, Security
    from fastapi.testclient import TestClient

    authenticate = auth.bearer_dependency(gate, "/api/v1/auth/token")
    app = FastAPI()

    @app.post("/orders")
    async def place(
        who: Annotated[auth.Principal, Security(authenticate, scopes=["orders:write"])],
    ) -> dict:
        return {"user": who.user_id}

    @app.get("/admin")
    async def admin(
        who: Annotated[auth.Principal, Security(authenticate, scopes=["admin"])],
    ) -> dict:
        return {"user": who.user_id}

    return app, TestClient(app)


def test_the_dependency_guards_routes_with_scopes(clock, no_leak) -> None:
    gate = authority(clock)
    _app, client = app_with(gate)
    token = gate.issue(ALICE).access_token
    ok = client.post("/orders", headers={"Authorization": f"Bearer {token}"})
    assert (ok.status_code, ok.json()) == (200, {"user": "u-alice"})
    anonymous = client.post("/orders")
    assert anonymous.status_code == 401
    assert anonymous.json()["detail"] == "a bearer token is required"
    assert anonymous.headers["www-authenticate"] == "Bearer"
    forbidden = client.get("/admin", headers={"Authorization": f"Bearer {token}"})
    assert forbidden.status_code == 403
    assert forbidden.headers["www-authenticate"] == 'Bearer scope="admin"'
    forged = client.post("/orders", headers={"Authorization": f"Bearer {token[:-3]}xyz"})
    assert forged.status_code == 401
    texts = [r.text + str(dict(r.headers)) for r in (ok, anonymous, forbidden, forged)]
    no_leak(texts, [NEW, OLD], "a response")


def test_openapi_shows_the_password_flow_and_scopes(clock) -> None:
    app, _ = app_with(authority(clock))
    schemes = app.openapi()["components"]["securitySchemes"]
    flows = [s["flows"]["password"] for s in schemes.values() if s.get("type") == "oauth2"]
    assert flows
    assert flows[0]["tokenUrl"] == "/api/v1/auth/token"
    assert flows[0]["scopes"] == auth.SCOPES
