"""08.3 Key ids and rotation: the retired key works during the overlap, then stops."""

from __future__ import annotations

import base64
import json
import time

import pytest

from journey.targets import load

rotation = load(__file__, "key_rotation")
K1 = "first-signing-secret-0123456789-abcdefghijklmn"
K2 = "second-signing-secret-0123456789-opqrstuvwxyz"
WHO = {"issuer": "https://auth.shop.example", "audience": "shop-api"}


def claims(**changes) -> dict:
    now = int(time.time())
    return {"sub": "42", "iss": WHO["issuer"], "aud": WHO["audience"], "exp": now + 600, **changes}


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def ring(clock, overlap: float = 3600):
    return rotation.KeyRing("k1", K1, overlap_seconds=overlap, clock=clock)


def rejected(keys, token: str, fragment: str) -> None:
    with pytest.raises(rotation.TokenRejected, match=fragment):
        keys.verify(token, **WHO)


def test_tokens_name_their_key_and_verify(clock) -> None:
    import jwt

    keys = ring(clock)
    token = keys.sign(claims())
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT", "kid": "k1"}, (
        "the header names the signing key in 'kid'"
    )
    assert keys.verify(token, **WHO)["sub"] == "42"
    assert keys.signing_kid == "k1"
    assert keys.kids() == ["k1"]


def test_after_rotation_new_tokens_use_the_new_key_and_old_ones_still_verify(clock) -> None:
    import jwt

    keys = ring(clock)
    old_token = keys.sign(claims())
    keys.rotate("k2", K2)
    new_token = keys.sign(claims())
    assert jwt.get_unverified_header(new_token)["kid"] == "k2"
    assert keys.signing_kid == "k2"
    assert keys.kids() == ["k1", "k2"]
    clock.advance(3599)
    assert keys.verify(old_token, **WHO)["sub"] == "42", (
        "during the overlap, tokens signed with the retired key still verify"
    )
    assert keys.verify(new_token, **WHO)["sub"] == "42"


def test_the_retired_key_stops_working_when_the_overlap_ends(clock) -> None:
    keys = ring(clock, overlap=3600)
    old_token = keys.sign(claims())
    keys.rotate("k2", K2)
    clock.advance(3600)
    rejected(keys, old_token, "key retired")
    assert keys.verify(keys.sign(claims()), **WHO)["sub"] == "42", "the new key still works"


def test_prune_drops_only_keys_whose_overlap_is_over(clock) -> None:
    keys = ring(clock, overlap=100)
    keys.rotate("k2", K2)
    assert keys.prune() == [], "k1 is still in its overlap"
    clock.advance(100)
    assert keys.prune() == ["k1"]
    assert keys.kids() == ["k2"]


def test_the_kid_chooses_the_key_and_no_other_key_is_tried(clock) -> None:
    import jwt

    keys = ring(clock)
    keys.rotate("k2", K2)
    lying = jwt.encode(claims(), K1, algorithm="HS256", headers={"kid": "k2"})
    rejected(keys, lying, "invalid token")


@pytest.mark.parametrize(
    "headers",
    [None, {"kid": "k9"}, {"kid": "../../etc/passwd"}],
    ids=["no-kid", "unknown-kid", "path-kid"],
)
def test_a_missing_or_unknown_kid_is_refused(clock, headers: dict | None) -> None:
    import jwt

    keys = ring(clock)
    token = jwt.encode(claims(), K1, algorithm="HS256", headers=headers)
    rejected(keys, token, "unknown key id")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # HS512
def test_alg_none_and_other_algorithms_are_refused_with_a_known_kid(clock) -> None:
    import jwt

    keys = ring(clock)
    unsigned = f"{b64({'alg': 'none', 'kid': 'k1'})}.{b64(claims(scope='admin'))}."
    rejected(keys, unsigned, "invalid token")
    hs512 = jwt.encode(claims(), K1, algorithm="HS512", headers={"kid": "k1"})
    rejected(keys, hs512, "invalid token")


def test_expiry_issuer_and_audience_are_still_checked(clock) -> None:
    keys = ring(clock)
    rejected(keys, keys.sign(claims(exp=int(time.time()) - 10)), "invalid token")
    rejected(keys, keys.sign(claims(aud="billing-api")), "invalid token")
    rejected(keys, keys.sign(claims(iss="https://evil.example")), "invalid token")
    no_exp = {k: v for k, v in claims().items() if k != "exp"}
    rejected(keys, keys.sign(no_exp), "invalid token")


def test_bad_keys_are_refused(clock) -> None:
    with pytest.raises(ValueError, match="secret"):
        rotation.KeyRing("k1", "short", clock=clock)
    keys = ring(clock)
    with pytest.raises(ValueError, match="kid"):
        keys.rotate("k1", K2)  # a kid is never reused: old tokens would verify with a new key
    with pytest.raises(ValueError, match="kid"):
        keys.rotate("../k2", K2)
    assert keys.signing_kid == "k1", "a refused rotation changes nothing"
    keys.rotate("k2", K2)
    with pytest.raises(ValueError, match="kid"):
        keys.rotate("k1", K1)  # not even a retired one


def test_garbage_is_rejected_not_crashed(clock) -> None:
    keys = ring(clock)
    for garbage in ["", "abc", "a.b.c"]:
        rejected(keys, garbage, "invalid token|unknown key id")
