"""The capstone's Kubernetes manifests validated without a cluster by kubernetes-validate, which
bundles the API's JSON schemas for many Kubernetes versions.

    uv run python lessons/10_containers/examples/04_kubernetes_without_a_cluster.py

Strict mode also refuses fields the API does not know: a misspelt ``readinesProbe`` is
silently dropped by a lenient check (and by an old kubectl), so the pod runs without a
readiness probe at all.
"""

from __future__ import annotations

import copy
from pathlib import Path

import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[3]
MANIFESTS = ROOT / "capstone" / "k8s"
VERSION = "1.31"


def check(resource: dict, strict: bool) -> str:
    try:
        kubernetes_validate.validate(resource, VERSION, strict=strict)
    except kubernetes_validate.ValidationError as error:
        path = ".".join(map(str, error.path))
        return f"invalid at {path}: {error.message}"
    except kubernetes_validate.SchemaNotFoundError as error:
        return f"unknown: {error.message}"
    return "valid"


def main() -> None:
    resources = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        for resource in yaml.safe_load_all(path.read_text()):
            if resource:
                resources.append(resource)
                name = f"{resource['kind']}/{resource['metadata']['name']}"
                print(f"{path.name:<16} {name:<26} {check(resource, strict=True)}")

    deployment = next(r for r in resources if r["kind"] == "Deployment")
    typo = copy.deepcopy(deployment)
    container = typo["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    print(f"\na misspelt readinessProbe in Deployment/{deployment['metadata']['name']}:")
    print(f"  lenient: {check(typo, strict=False)}")
    print(f"  strict:  {check(typo, strict=True)}")

    wrong_type = copy.deepcopy(deployment)
    wrong_type["spec"]["replicas"] = "two"
    print(f"a replica count as a word: {check(wrong_type, strict=True)}")

    unknown = {**deployment, "apiVersion": "extensions/v1beta1"}
    print(f"an API version long removed: {check(unknown, strict=True)}")


if __name__ == "__main__":
    main()
