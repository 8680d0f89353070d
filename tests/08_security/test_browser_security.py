"""08.7 CORS for exact origins, and security headers on every response."""

from __future__ import annotations

import pytest

from journey.targets import load

browser = load(__file__, "browser_security")
APP_ORIGIN = "https://app.shop.example"
ADMIN_ORIGIN = "http://localhost:5173"
STRANGERS = [
    "https://evil.example",
    "https://app.shop.example.evil.example",  # a suffix trick
    "http://app.shop.example",  # another scheme is another origin
    "https://app.shop.example:8443",  # and so is another port
    "https://appXshop.example",  # a dot that a regex would read as "any character"
    "null",  # sandboxed frames and file:// pages
]


def make_client():
    from fastapi import FastAPI, HTTPException
    from fastapi.testclient import TestClient

    app = FastAPI()

    @app.get("/items/{item_id}")
    def item(item_id: int) -> dict:
        return {"id": item_id}

    @app.get("/private")
    def private() -> dict:
        raise HTTPException(401, "not authenticated")

    @app.get("/cached")
    def cached():
        from fastapi.responses import JSONResponse

        return JSONResponse({}, headers={"Cache-Control": "public, max-age=60"})

    return TestClient(browser.secure(app, [APP_ORIGIN, ADMIN_ORIGIN]))


def preflight(client, origin: str, method: str = "PUT", headers: str = "authorization"):
    return client.options(
        "/items/1",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def test_an_allowed_origin_is_named_exactly() -> None:
    client = make_client()
    for origin in (APP_ORIGIN, ADMIN_ORIGIN):
        response = client.get("/items/1", headers={"Origin": origin})
        assert response.headers.get("access-control-allow-origin") == origin, (
            "an allowed origin gets its own origin back, never '*'"
        )
        assert "Origin" in response.headers.get("vary", ""), "Vary: Origin keeps caches honest"
        assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize("origin", STRANGERS)
def test_any_other_origin_gets_no_permission(origin: str) -> None:
    client = make_client()
    response = client.get("/items/1", headers={"Origin": origin})
    assert "access-control-allow-origin" not in response.headers, (
        f"{origin} is not allowed: its answer must carry no Access-Control-Allow-Origin"
    )
    refused = preflight(client, origin)
    assert refused.status_code == 400, f"a preflight from {origin} is refused"
    assert "access-control-allow-origin" not in refused.headers


def test_a_preflight_from_an_allowed_origin_is_answered() -> None:
    response = preflight(make_client(), APP_ORIGIN, "DELETE", "authorization, content-type")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "DELETE" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed
    assert "content-type" in allowed
    assert response.headers["access-control-max-age"] == str(browser.PREFLIGHT_MAX_AGE)


def test_a_preflight_for_a_header_that_is_not_allowed_is_refused() -> None:
    assert preflight(make_client(), APP_ORIGIN, "GET", "x-debug-admin").status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/items/1", {}),
        ("GET", "/no/such/path", {}),
        ("GET", "/items/not-a-number", {}),
        ("GET", "/private", {}),
        (
            "OPTIONS",
            "/items/1",
            {"Origin": APP_ORIGIN, "Access-Control-Request-Method": "PUT"},
        ),
    ],
    ids=["ok", "404", "422", "401", "preflight"],
)
def test_every_response_carries_the_security_headers(method: str, path: str, headers) -> None:
    response = make_client().request(method, path, headers=headers)
    for name, value in browser.SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (
            f"{method} {path} ({response.status_code}) lacks {name}: {value} - a middleware "
            "sees every response, a route decorator or dependency does not"
        )


def test_a_header_a_route_set_itself_is_kept() -> None:
    response = make_client().get("/cached")
    assert response.headers["cache-control"] == "public, max-age=60"


@pytest.mark.parametrize(
    "bad",
    [
        "*",
        "null",
        "https://app.shop.example/",
        "https://app.shop.example/path",
        "app.shop.example",
        "ftp://files.example",
        "https://user:pw@app.shop.example",
        "https://app.shop.example?x=1",
    ],
)
def test_an_origin_that_is_not_exact_is_a_configuration_error(bad: str) -> None:
    from fastapi import FastAPI

    with pytest.raises(ValueError, match=r"^origin"):
        browser.check_origin(bad)
    with pytest.raises(ValueError, match=r"^origin"):
        browser.secure(FastAPI(), [APP_ORIGIN, bad])


def test_good_origins_pass_unchanged() -> None:
    for origin in (APP_ORIGIN, ADMIN_ORIGIN, "https://shop.example:8443"):
        assert browser.check_origin(origin) == origin
