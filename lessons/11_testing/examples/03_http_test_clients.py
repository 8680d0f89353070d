"""03 · Testing HTTP code without a network: FastAPI's TestClient, httpx.MockTransport, respx.

    uv run python lessons/11_testing/examples/03_http_test_clients.py

A server side (a FastAPI app, driven in-process by TestClient, with a dependency overridden)
and a client side (an httpx client, answered by a MockTransport function, then by respx).
"""

# no `from __future__ import annotations`: FastAPI reads the route signatures at run time

import warnings
from typing import Annotated

import httpx
import respx
from fastapi import Depends, FastAPI, HTTPException

with warnings.catch_warnings():  # Starlette suggests httpx2 for its TestClient; httpx works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

# -- a server ------------------------------------------------------------------------------


def current_user() -> str:
    """In production this would check a token; tests replace it (dependency_overrides)."""
    raise HTTPException(401, "log in first")


app = FastAPI()


@app.get("/me")
def me(user: Annotated[str, Depends(current_user)]) -> dict[str, str]:
    return {"user": user}


def server_side() -> None:
    with TestClient(app) as client:  # the app runs in-process: no port, no server
        print("GET /me without a user:", client.get("/me").status_code)
        app.dependency_overrides[current_user] = lambda: "ada"  # no mock.patch needed
        try:
            answer = client.get("/me")
        finally:
            app.dependency_overrides.clear()
        print("GET /me as ada:", answer.status_code, answer.json())
        assert answer.json() == {"user": "ada"}


# -- a client ------------------------------------------------------------------------------


def fetch_temperature(http: httpx.Client, city: str) -> float:
    response = http.get(f"https://weather.example.test/v1/now/{city}")
    response.raise_for_status()
    return float(response.json()["celsius"])


def client_side_with_mock_transport() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:  # plays the server's part
        seen.append(request)
        return httpx.Response(200, json={"celsius": 21.5})

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        print("MockTransport answered:", fetch_temperature(http, "lyon"))
    print("the request it saw:", seen[0].method, seen[0].url.path)
    assert seen[0].url.path == "/v1/now/lyon"


def client_side_with_respx() -> None:
    with respx.mock(base_url="https://weather.example.test") as weather:
        route = weather.get("/v1/now/oslo").mock(return_value=httpx.Response(503))
        with httpx.Client() as http:  # any client: respx patches httpx itself
            try:
                fetch_temperature(http, "oslo")
            except httpx.HTTPStatusError as error:
                print("respx made it fail:", error.response.status_code)
        print("respx route called", route.call_count, "time(s)")
        assert route.called


if __name__ == "__main__":
    server_side()
    client_side_with_mock_transport()
    client_side_with_respx()
