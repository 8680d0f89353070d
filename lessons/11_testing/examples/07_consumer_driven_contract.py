"""07 · Consumer-driven contracts, Pact's model in plain Python.

    uv run python lessons/11_testing/examples/07_consumer_driven_contract.py

1. The consumer's test runs the consumer against a stand-in provider that answers from the
   contract, and writes the contract to a file (Pact calls it a pact file; a broker shares it).
2. The provider's test reads that file and replays each interaction against the real provider,
   set up in the state the interaction names.
Two provider versions are verified: one adds a field (fine: no consumer reads it), the other
renames a field the consumer reads (the contract catches it before anything is deployed).
"""

# no `from __future__ import annotations`: FastAPI reads the route signatures at run time

import json
import tempfile
import warnings
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

with warnings.catch_warnings():  # Starlette suggests httpx2 for its TestClient; httpx works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

# -- the consumer: a billing service that reads a user's email from the accounts service --------


def billing_address(http: httpx.Client, user_id: int) -> str:
    user = http.get(f"/users/{user_id}").json()
    return f"{user['name']} <{user['email']}>"


CONTRACT: dict[str, Any] = {
    "consumer": "billing",
    "provider": "accounts",
    "interactions": [
        {
            "description": "a user that exists",
            "provider_state": "user 7 is Ada",
            "request": {"method": "GET", "path": "/users/7"},
            # only what billing reads; values are examples, types are the contract
            "response": {"status": 200, "body": {"name": "Ada", "email": "ada@example.test"}},
        }
    ],
}


def consumer_test(pact_file: Path) -> None:
    def stand_in(request: httpx.Request) -> httpx.Response:
        for interaction in CONTRACT["interactions"]:
            if request.url.path == interaction["request"]["path"]:
                response = interaction["response"]
                return httpx.Response(response["status"], json=response["body"])
        return httpx.Response(500)

    with httpx.Client(transport=httpx.MockTransport(stand_in), base_url="http://x") as http:
        assert billing_address(http, 7) == "Ada <ada@example.test>"
    pact_file.write_text(json.dumps(CONTRACT, indent=2), encoding="utf-8")
    print(f"consumer test passed; contract written to {pact_file.name}")


# -- two versions of the provider ---------------------------------------------------------------


def accounts_app(version: int, users: dict[int, dict[str, str]]) -> FastAPI:
    app = FastAPI(title=f"accounts v{version}")

    @app.get("/users/{user_id}")
    def get_user(user_id: int) -> dict[str, Any]:
        user = users[user_id]
        if version == 2:  # v2 adds a field: no consumer is hurt
            return {"id": user_id, **user, "created": "2024-01-01"}
        # v3 renames email to email_address: billing breaks
        return {"id": user_id, "name": user["name"], "email_address": user["email"]}

    return app


STATES = {"user 7 is Ada": {7: {"name": "Ada", "email": "ada@example.test"}}}


def like(expected: Any, actual: Any) -> bool:
    """Type matching: each expected field present with a value of the same JSON type."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and like(value, actual[key]) for key, value in expected.items()
        )
    return type(actual) is type(expected)


def provider_verification(pact_file: Path, version: int) -> None:
    contract = json.loads(pact_file.read_text(encoding="utf-8"))
    for interaction in contract["interactions"]:
        app = accounts_app(version, STATES[interaction["provider_state"]])
        with TestClient(app) as client:
            request = interaction["request"]
            answer = client.request(request["method"], request["path"])
        expected = interaction["response"]
        ok = answer.status_code == expected["status"] and like(expected["body"], answer.json())
        verdict = "honours" if ok else "BREAKS"
        print(f"accounts v{version} {verdict} '{interaction['description']}': {answer.json()}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        pact = Path(folder) / "billing-accounts.json"
        consumer_test(pact)
        provider_verification(pact, version=2)
        provider_verification(pact, version=3)
