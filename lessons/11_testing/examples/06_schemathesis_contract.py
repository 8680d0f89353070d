"""06 · Contract tests from an OpenAPI document with schemathesis.

    uv run python lessons/11_testing/examples/06_schemathesis_contract.py

Schemathesis reads a FastAPI app's document, turns each operation into a Hypothesis strategy of
requests, sends them in-process, and checks every answer against the document. The first app
breaks its own response schema for some ids; the fixed app keeps its contract.
"""

# no `from __future__ import annotations`: FastAPI reads the route signatures at run time

import os
import tempfile
from typing import Any

import schemathesis
from fastapi import FastAPI, HTTPException
from hypothesis import HealthCheck, Phase, given, settings
from pydantic import BaseModel
from schemathesis import checks

_storage = tempfile.TemporaryDirectory(prefix="hypothesis-")  # see 05: no .hypothesis/ left
os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = _storage.name

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.response_schema_conformance,
]
FUZZ = settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # report the first failure as it is: no shrinking
    suppress_health_check=list(HealthCheck),
)


class Item(BaseModel):
    id: int
    name: str
    price_cents: int


def make_app(fixed: bool) -> FastAPI:
    app = FastAPI(title="items")
    documented: dict[int | str, dict[str, Any]] = {
        200: {"model": Item, "description": "the item"},
        404: {"description": "no such item"},
    }

    # response_model=None: FastAPI does not check the answer, only documents `responses`
    @app.get("/items/{item_id}", response_model=None, responses=documented)
    def get_item(item_id: int) -> dict[str, Any]:
        if item_id < 0:
            raise HTTPException(404, "no such item")
        price = item_id * 10 if fixed or item_id < 1000 else None  # the bug: a missing price
        return {"id": item_id, "name": f"item {item_id}", "price_cents": price}

    return app


def fuzz(app: FastAPI) -> str:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    (operation,) = [result.ok() for result in schema.get_all_operations()]

    @FUZZ
    @given(case=operation.as_strategy())
    def exchange(case: Any) -> None:
        case.call_and_validate(checks=CHECKS)

    try:
        exchange()
    except BaseExceptionGroup as failures:  # schemathesis raises a group of what it found
        lines = [line.strip() for line in str(failures).splitlines() if line.strip()]
        found = [line for line in lines if line.startswith(("- ", "curl", "`"))]
        return "\n  ".join([lines[0], *found])
    return "every answer kept the contract"


if __name__ == "__main__":
    print("buggy app:", fuzz(make_app(fixed=False)))
    print("fixed app:", fuzz(make_app(fixed=True)))
    _storage.cleanup()
