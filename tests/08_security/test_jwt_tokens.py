"""08.2 Issue and verify JWTs: every refusal has its test."""

from __future__ import annotations

import base64
import json
import time

import pytest

from journey.targets import load

tokens = load(__file__, "jwt_tokens")
SECRET = "test-signing-secret-0123456789-abcdefghijklmnop"
OTHER_SECRET = "an-attacker-s-own-secret-0123456789-qrstuvwxyz"
WHO = {"issuer": "https://auth.shop.example", "audience": "shop-api"}


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(**changes) -> dict:
    now = int(time.time())
    base = {
        "sub": "42",
        "iss": WHO["issuer"],
        "aud": WHO["audience"],
        "scope": "",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def refused(token: str, reason: str, **who) -> None:
    with pytest.raises(tokens.TokenError) as caught:
        tokens.verify_token(token, SECRET, **{**WHO, **who})
    assert str(caught.value) == reason, f"expected the reason {reason!r}, got {caught.value!r}"
    assert SECRET not in str(caught.value)


def test_issue_writes_the_claims() -> None:
    import jwt

    token = tokens.issue_token(
        SECRET, "42", scopes=["orders:read", "orders:write"], ttl_seconds=300, now=1000, **WHO
    )
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    got = jwt.decode(token, options={"verify_signature": False})
    assert got == {
        "sub": "42",
        "iss": WHO["issuer"],
        "aud": WHO["audience"],
        "scope": "orders:read orders:write",
        "iat": 1000,
        "nbf": 1000,
        "exp": 1300,
    }, "claims: sub, iss, aud, scope (space separated), iat = nbf = now, exp = now + ttl"


def test_a_fresh_token_verifies_and_returns_its_claims() -> None:
    token = tokens.issue_token(SECRET, "42", scopes=["orders:read"], **WHO)
    got = tokens.verify_token(token, SECRET, **WHO)
    assert got["sub"] == "42"
    assert got["scope"] == "orders:read"
    assert abs(got["iat"] - time.time()) < 60, "without `now`, iat is the current time"


def test_a_short_secret_cannot_sign() -> None:
    with pytest.raises(ValueError, match=r"^secret must"):
        tokens.issue_token("too-short-secret", "42", **WHO)
    just_enough = "s" * tokens.MIN_SECRET_BYTES
    assert tokens.issue_token(just_enough, "42", **WHO).count(".") == 2, (
        "a secret of exactly MIN_SECRET_BYTES bytes is long enough"
    )


def test_an_expired_token_is_refused() -> None:
    token = tokens.issue_token(SECRET, "42", ttl_seconds=60, now=int(time.time()) - 120, **WHO)
    refused(token, "token expired")


def test_leeway_tolerates_a_little_clock_skew_and_no_more() -> None:
    token = tokens.issue_token(SECRET, "42", ttl_seconds=60, now=int(time.time()) - 90, **WHO)
    assert tokens.verify_token(token, SECRET, leeway_seconds=120, **WHO)["sub"] == "42"
    refused(token, "token expired")


def test_a_token_that_is_not_yet_valid_is_refused() -> None:
    later = int(time.time()) + 600
    token = tokens.issue_token(SECRET, "42", not_before=later, **WHO)
    refused(token, "token not yet valid")


def test_a_token_from_another_issuer_is_refused() -> None:
    token = tokens.issue_token(SECRET, "42", issuer="https://evil.example", audience="shop-api")
    refused(token, "wrong issuer")


def test_a_token_for_another_audience_is_refused() -> None:
    token = tokens.issue_token(SECRET, "42", issuer=WHO["issuer"], audience="billing-api")
    refused(token, "wrong audience")


def test_alg_none_is_refused() -> None:
    header = b64({"alg": "none", "typ": "JWT"})
    unsigned = f"{header}.{b64(claims(scope='admin'))}."
    refused(unsigned, "algorithm not allowed")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # HS512
def test_another_algorithm_is_refused_even_with_the_right_secret() -> None:
    import jwt

    token = jwt.encode(claims(), SECRET, algorithm="HS512")
    refused(token, "algorithm not allowed")  # the server picks the algorithm, not the token


def test_a_token_signed_with_another_secret_is_refused() -> None:
    import jwt

    refused(jwt.encode(claims(scope="admin"), OTHER_SECRET, algorithm="HS256"), "invalid signature")


def test_changed_claims_break_the_signature() -> None:
    header, _, signature = tokens.issue_token(SECRET, "42", **WHO).split(".")
    forged = f"{header}.{b64(claims(sub='1', scope='admin'))}.{signature}"
    refused(forged, "invalid signature")


def test_a_truncated_signature_is_refused() -> None:
    token = tokens.issue_token(SECRET, "42", **WHO)
    with pytest.raises(tokens.TokenError, match=r"^(invalid signature|malformed token)$"):
        tokens.verify_token(token[:-4], SECRET, **WHO)  # cut base64 may not even decode
    header, payload, _ = token.split(".")
    refused(f"{header}.{payload}.", "invalid signature")


def test_a_token_without_expiry_is_refused() -> None:
    import jwt

    refused(jwt.encode(claims(exp=None), SECRET, algorithm="HS256"), "missing claim")


@pytest.mark.parametrize("garbage", ["", "abc", "a.b", "a.b.c", "🙂.🙂.🙂"])
def test_garbage_is_a_malformed_token(garbage: str) -> None:
    refused(garbage, "malformed token")
