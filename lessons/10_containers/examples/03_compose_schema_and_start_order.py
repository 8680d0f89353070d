"""The capstone's compose file against the Compose Specification's JSON schema, three typical
mistakes the schema catches, and the order in which compose starts the services.

    uv run python lessons/10_containers/examples/03_compose_schema_and_start_order.py

The schema is the official one, vendored in lessons/10_containers/compose-spec/. jsonschema
reports every error with the path to it; the order comes from graphlib, the standard
library's topological sorter, over the depends_on edges.
"""

from __future__ import annotations

import copy
import graphlib
import json
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "capstone" / "compose.yaml"
SCHEMA = ROOT / "lessons" / "10_containers" / "compose-spec" / "compose-spec.json"


def errors(validator: jsonschema.Draft7Validator, document: dict) -> list[str]:
    found = []
    for error in validator.iter_errors(document):
        path = ".".join(map(str, error.absolute_path)) or "(top level)"
        message = error.message if len(error.message) < 90 else error.message[:87] + "..."
        found.append(f"{path}: {message}")
    return found


def main() -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    document = yaml.safe_load(COMPOSE.read_text())  # anchors and <<: merge keys resolved
    print(
        f"{COMPOSE.relative_to(ROOT)}: {len(document['services'])} services, "
        f"{len(errors(validator, document))} schema errors"
    )

    mistakes = {
        "a misspelt key": lambda d: d["services"]["redis"].update(helthcheck={"test": ["NONE"]}),
        "a duration as a number": lambda d: d["services"]["redis"]["healthcheck"].update(
            interval=5
        ),
        "an unknown condition": lambda d: d["services"]["orders"]["depends_on"]["inventory"].update(
            condition="service_ready"
        ),
    }
    for what, mistake in mistakes.items():
        broken = copy.deepcopy(document)
        mistake(broken)
        print(f"\n{what}:")
        for line in errors(validator, broken):
            print(f"  {line}")
    print("  (depends_on is a oneOf - a list or a mapping - so the error about the whole mapping")
    print("   hides the useful one in error.context: exercise 10.5 digs it out)")

    graph = {
        name: set(service.get("depends_on") or {}) for name, service in document["services"].items()
    }
    sorter = graphlib.TopologicalSorter(graph)
    sorter.prepare()
    print("\nstart order (each wave waits for the one before to be healthy or completed):")
    wave = 1
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        print(f"  {wave}. {', '.join(ready)}")
        sorter.done(*ready)
        wave += 1


if __name__ == "__main__":
    main()
