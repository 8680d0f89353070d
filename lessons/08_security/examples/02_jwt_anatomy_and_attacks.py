"""A JWT taken apart, then refused in every way that matters: none, HS512, forged, expired...

Run: uv run python lessons/08_security/examples/02_jwt_anatomy_and_attacks.py
"""

from __future__ import annotations

import base64
import json
import time
import warnings

import jwt

SECRET = "example-signing-secret-0123456789-abcdefghijk"
ATTACKER = "the-attacker-s-own-secret-0123456789-lmnopqrs"
ISSUER, AUDIENCE = "https://auth.shop.example", "shop-api"


def b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64encode(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def verify(token: str) -> str:
    try:
        claims = jwt.decode(
            token,
            SECRET,
            algorithms=["HS256"],  # the server's choice, never the token's
            issuer=ISSUER,
            audience=AUDIENCE,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.PyJWTError as error:
        return f"refused: {type(error).__name__}: {error}"
    return f"accepted: sub={claims['sub']} scope={claims['scope']!r}"


def main() -> None:
    now = int(time.time())
    claims = {
        "sub": "42",
        "scope": "orders:read",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 900,
    }
    token = jwt.encode(claims, SECRET, algorithm="HS256", headers={"kid": "2026-01"})
    header, payload, signature = token.split(".")
    print("token:", token)
    print("  header   :", b64decode(header).decode())
    print("  claims   :", b64decode(payload).decode(), "<- readable by anyone: not encrypted")
    print("  signature:", f"{len(b64decode(signature))} bytes of HMAC-SHA256 over header.claims")
    print()
    print("the real token       ->", verify(token))

    unsigned = (
        f"{b64encode({'alg': 'none', 'typ': 'JWT'})}.{b64encode(claims | {'scope': 'admin'})}."
    )
    print("alg none, admin  ->", verify(unsigned))
    with warnings.catch_warnings():  # PyJWT warns that HS512 wants a 64-byte key
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        other_alg = jwt.encode(claims, SECRET, algorithm="HS512")
    print("HS512, right secret  ->", verify(other_alg))
    forged = f"{header}.{b64encode(claims | {'scope': 'admin'})}.{signature}"
    print("claims edited        ->", verify(forged))
    print("signature cut short  ->", verify(token[:-6]))
    print("attacker's secret    ->", verify(jwt.encode(claims, ATTACKER, algorithm="HS256")))
    expired = jwt.encode(claims | {"exp": now - 60}, SECRET, algorithm="HS256")
    print("expired a minute ago ->", verify(expired))
    early = jwt.encode(claims | {"nbf": now + 600}, SECRET, algorithm="HS256")
    print("not before +10 min   ->", verify(early))
    billing = jwt.encode(claims | {"aud": "billing-api"}, SECRET, algorithm="HS256")
    print("audience billing-api ->", verify(billing))
    print()
    print("what the header asks for is never trusted:", jwt.get_unverified_header(unsigned))


if __name__ == "__main__":
    main()
