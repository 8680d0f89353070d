"""CORS seen from the browser's side: simple requests, preflights, and origins that get nothing.

Run: uv run python lessons/08_security/examples/04_cors_and_security_headers.py

FastAPI's TestClient plays the browser (it sends the Origin and preflight headers a browser
would send); the app runs in-process, so nothing listens on a port.
"""

from __future__ import annotations

import warnings

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware

with warnings.catch_warnings():  # Starlette suggests httpx2 for its TestClient; httpx works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}


def build(allow_origins: list[str]) -> TestClient:
    app = FastAPI()

    @app.get("/orders")
    def orders() -> list[str]:
        return ["order-1"]

    app.add_middleware(
        CORSMiddleware,
        allow_origins=allow_origins,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )

    @app.middleware("http")  # added last: the outermost, so it sees every response
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return TestClient(app)


def show(label: str, response) -> None:  # type: ignore[no-untyped-def]
    allow = response.headers.get("access-control-allow-origin", "(none)")
    print(f"{label:<44} {response.status_code}  Access-Control-Allow-Origin: {allow}")


def main() -> None:
    client = build(["https://app.shop.example"])
    show(
        "GET from https://app.shop.example",
        client.get("/orders", headers={"Origin": "https://app.shop.example"}),
    )
    show(
        "GET from https://evil.example",
        client.get("/orders", headers={"Origin": "https://evil.example"}),
    )
    print("  the evil page's request still reached the server: CORS only stops its script from")
    print("  READING the answer. Never rely on CORS to block writes: authenticate them.")
    ask = {
        "Access-Control-Request-Method": "DELETE",
        "Access-Control-Request-Headers": "authorization",
    }
    answer = client.options("/orders", headers={"Origin": "https://app.shop.example", **ask})
    show("preflight DELETE from the app", answer)
    print("  allowed methods:", answer.headers["access-control-allow-methods"])
    print("  allowed headers:", answer.headers["access-control-allow-headers"])
    print("  cached for (s): ", answer.headers["access-control-max-age"])
    refused = client.options("/orders", headers={"Origin": "https://evil.example", **ask})
    show("preflight DELETE from evil.example", refused)
    print("  body:", refused.text, "- the browser never sends the DELETE")

    wildcard = build(["*"])
    show(
        "with allow_origins=['*'], from evil.example",
        wildcard.get("/orders", headers={"Origin": "https://evil.example"}),
    )
    print("  '*' lets every site read the answers: fine for public data, never for an API with")
    print("  accounts (browsers refuse '*' together with cookies, and with good reason)")

    print("security headers on a 404:")
    missing = client.get("/no/such/page")
    for name in HEADERS:
        print(f"  {name}: {missing.headers[name]}")


if __name__ == "__main__":
    main()
