"""10.7 Kubernetes manifests validated without a cluster: schema, then the lesson's rules.

Schema validation reads a large bundled schema file per resource, so most tests call one rule
function on a resource directly; a few run the whole check.
"""

from __future__ import annotations

from typing import Any

import pytest

from journey.targets import load

k8s = load(__file__, "k8s_manifests")

# ConfigMap, Deployment and Service that keep every rule; each test breaks one thing in a copy.
GOOD = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: orders-config}
data:
  LOG_LEVEL: INFO
  INVENTORY_TARGET: inventory:50051
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: orders}
spec:
  replicas: 2
  selector:
    matchLabels: {app: orders}
  template:
    metadata:
      labels: {app: orders, tier: backend}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 10001}
      initContainers:
        - name: wait
          image: busybox:1.36.1
          command: ["true"]
          resources:
            requests: {cpu: 10m, memory: 16Mi}
            limits: {cpu: 50m, memory: 32Mi}
          securityContext: {allowPrivilegeEscalation: false}
      containers:
        - name: orders
          image: shop:1.4.2
          ports:
            - {name: http, containerPort: 8002}
            - {name: grpc, containerPort: 50051}
          envFrom:
            - configMapRef: {name: orders-config}
          env:
            - name: JWT_SECRET
              valueFrom: {secretKeyRef: {name: shop-secrets, key: jwt-secret}}
            - name: LOG_FORMAT
              valueFrom: {configMapKeyRef: {name: orders-config, key: LOG_LEVEL}}
            - {name: SERVICE_PORT, value: "8002"}
          readinessProbe:
            httpGet: {path: /health/ready, port: http}
          livenessProbe:
            httpGet: {path: /health/live, port: 8002}
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 500m, memory: 256Mi}
          securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true}
---
apiVersion: v1
kind: Service
metadata: {name: orders}
spec:
  selector: {app: orders}
  ports:
    - {name: http, port: 80, targetPort: http}
    - {name: grpc, port: 50051}
"""


@pytest.fixture
def good() -> list[dict[str, Any]]:
    import yaml

    return list(yaml.safe_load_all(GOOD))  # parsed here, not by the exercise


def _container(resources: list[dict[str, Any]]) -> dict[str, Any]:
    container: dict[str, Any] = resources[1]["spec"]["template"]["spec"]["containers"][0]
    return container


def _paths(found: list[Any], rule: str | None = None) -> list[str]:
    return [f.path for f in found if rule is None or f.rule == rule]


C0 = "spec.template.spec.containers.0"
INIT0 = "spec.template.spec.initContainers.0"


def test_load_manifests_reads_every_document() -> None:
    resources = k8s.load_manifests("---\n" + GOOD + "\n---\n")
    assert [k8s.resource_id(r) for r in resources] == [
        "ConfigMap/orders-config",
        "Deployment/orders",
        "Service/orders",
    ], "empty documents are skipped; resource_id is Kind/name"


def test_load_manifests_refuses_what_is_not_a_resource() -> None:
    with pytest.raises(k8s.ManifestError, match="document 2"):
        k8s.load_manifests("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: Pod\n")
    with pytest.raises(k8s.ManifestError, match=r"apiVersion, kind and metadata\.name"):
        k8s.load_manifests("- a list\n")
    with pytest.raises(k8s.ManifestError, match="YAML"):
        k8s.load_manifests("kind: [\n")


def test_good_manifests_have_no_findings(good: list[dict[str, Any]]) -> None:
    found = k8s.check_manifests(good)
    assert found == [], f"the good manifests keep every rule, but got: {found}"


def test_schema_finds_a_misspelt_field_and_a_wrong_type(good: list[dict[str, Any]]) -> None:
    _container(good)["readinesProbe"] = _container(good).pop("readinessProbe")
    found = k8s.schema_findings(good[1])
    assert _paths(found) == [C0], "strict mode refuses an unknown field, at its parent's path"
    assert found[0].rule == "schema"
    assert found[0].resource == "Deployment/orders"
    assert "readinesProbe" in found[0].message
    good[2]["spec"]["ports"][1]["port"] = "grpc"
    assert _paths(k8s.schema_findings(good[2])) == ["spec.ports.1.port"]


def test_schema_finds_an_unknown_kind(good: list[dict[str, Any]]) -> None:
    good[2]["apiVersion"] = "apps/v1"  # Service is core v1
    found = k8s.schema_findings(good[2])
    assert len(found) == 1
    assert found[0].path == ""
    assert found[0].rule == "schema"
    assert "Service" in found[0].message
    assert "apps/v1" in found[0].message


def test_rules_run_only_on_resources_that_pass_the_schema(good: list[dict[str, Any]]) -> None:
    deployment = good[1]
    deployment["spec"]["replicas"] = "two"
    del _container(good)["livenessProbe"]
    found = k8s.check_manifests(good)
    assert [(f.resource, f.rule) for f in found] == [
        ("Deployment/orders", "schema"),
        ("Service/orders", "selectors"),
    ], "the invalid Deployment gets its schema finding only, and selects nothing"


# -- probes -----------------------------------------------------------------------------------


def test_missing_probes(good: list[dict[str, Any]]) -> None:
    del _container(good)["livenessProbe"]
    del _container(good)["readinessProbe"]
    assert _paths(k8s.probes_findings(good[1])) == [f"{C0}.livenessProbe", f"{C0}.readinessProbe"]


def test_probes_ask_the_right_route(good: list[dict[str, Any]]) -> None:
    _container(good)["livenessProbe"]["httpGet"]["path"] = "/health/ready"
    assert _paths(k8s.probes_findings(good[1])) == [f"{C0}.livenessProbe"], (
        "liveness on the readiness route restarts every pod when the database blinks"
    )


def test_grpc_probes_and_port_names(good: list[dict[str, Any]]) -> None:
    _container(good)["livenessProbe"] = {"grpc": {"port": 50051}}
    assert k8s.probes_findings(good[1]) == [], "the gRPC health service is a good liveness probe"
    _container(good)["livenessProbe"] = {"tcpSocket": {"port": 8002}}
    assert _paths(k8s.probes_findings(good[1])) == [f"{C0}.livenessProbe"], (
        "an open port says nothing about health"
    )


@pytest.mark.parametrize("port", [8003, "metrics"])
def test_a_probe_on_a_port_the_container_lacks(good: list[dict[str, Any]], port: Any) -> None:
    _container(good)["readinessProbe"]["httpGet"]["port"] = port
    assert _paths(k8s.probes_findings(good[1])) == [f"{C0}.readinessProbe"]


def test_probes_are_for_servers_and_their_main_containers(good: list[dict[str, Any]]) -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate"},
        "spec": {"template": good[1]["spec"]["template"]},
    }
    del _container(good)["livenessProbe"]
    assert k8s.probes_findings(job) == [], "a Job runs to completion: no probes"
    assert k8s.probes_findings(good[0]) == []
    statefulset = {**good[1], "kind": "StatefulSet"}
    assert _paths(k8s.probes_findings(statefulset)) == [f"{C0}.livenessProbe"]


# -- resources, security, images --------------------------------------------------------------


def test_requests_and_limits(good: list[dict[str, Any]]) -> None:
    del _container(good)["resources"]["limits"]["memory"]
    pod = good[1]["spec"]["template"]["spec"]
    del pod["initContainers"][0]["resources"]
    found = k8s.resources_findings(good[1])
    assert _paths(found) == [f"{C0}.resources", f"{INIT0}.resources"]
    assert "limits.memory" in found[0].message
    assert "requests.cpu" not in found[0].message


def test_non_root_from_the_pod_or_the_container(good: list[dict[str, Any]]) -> None:
    pod = good[1]["spec"]["template"]["spec"]
    assert k8s.security_findings(good[1]) == [], "the pod's runAsNonRoot covers its containers"
    _container(good)["securityContext"]["runAsNonRoot"] = False
    assert _paths(k8s.security_findings(good[1])) == [f"{C0}.securityContext"], (
        "a container's own runAsNonRoot: false overrides the pod's"
    )
    del pod["securityContext"]
    _container(good)["securityContext"]["runAsNonRoot"] = True
    assert _paths(k8s.security_findings(good[1])) == [f"{INIT0}.securityContext"], (
        "without the pod's, the init container may run as root"
    )


def test_privilege_escalation(good: list[dict[str, Any]]) -> None:
    del _container(good)["securityContext"]["allowPrivilegeEscalation"]
    assert _paths(k8s.security_findings(good[1])) == [f"{C0}.securityContext"], (
        "allowPrivilegeEscalation defaults to true: it must be set to false"
    )


@pytest.mark.parametrize("image", ["shop", "shop:latest", "shop:1.4"])
def test_container_images_are_pinned(good: list[dict[str, Any]], image: str) -> None:
    _container(good)["image"] = image
    assert _paths(k8s.images_findings(good[1])) == [f"{C0}.image"]


# -- secrets ----------------------------------------------------------------------------------


def test_secret_env_must_come_from_a_secret(good: list[dict[str, Any]]) -> None:
    env = _container(good)["env"]
    env[0] = {"name": "JWT_SECRET", "value": "hunter2"}
    env[1] = {"name": "API_KEY", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}
    env.append({"name": "DATABASE_URL", "value": "postgresql://shop:pw@db/shop"})
    assert _paths(k8s.secrets_findings(good[1])) == [f"{C0}.env.0", f"{C0}.env.1", f"{C0}.env.3"]


def test_no_secret_in_a_config_map(good: list[dict[str, Any]]) -> None:
    good[0]["data"]["DB_PASSWORD"] = "pw"
    good[0]["data"]["BROKER_URL"] = "amqp://guest:guest@mq:5672/"
    assert _paths(k8s.secrets_findings(good[0])) == ["data.DB_PASSWORD", "data.BROKER_URL"]


def test_no_committed_secret_values() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "stringData": {"jwt-secret": "hunter2"},
    }
    assert _paths(k8s.secrets_findings(secret)) == ["stringData"]
    secret = {**secret, "stringData": {}, "data": {"jwt-secret": "aHVudGVyMg=="}}
    assert _paths(k8s.secrets_findings(secret)) == ["data"]
    empty = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": ""}}
    assert k8s.secrets_findings(empty) == [], "a placeholder with no values is fine"


# -- selectors and references -----------------------------------------------------------------


def test_a_deployment_selector_that_misses_its_pods(good: list[dict[str, Any]]) -> None:
    good[1]["spec"]["selector"]["matchLabels"]["tier"] = "frontend"
    found = k8s.selectors_findings(good)
    assert [(f.resource, f.path) for f in found] == [("Deployment/orders", "spec.selector")]


@pytest.mark.parametrize("selector", [{"app": "order"}, {"app": "orders", "tier": "db"}, {}])
def test_a_service_that_selects_no_pod(good: list[dict[str, Any]], selector: Any) -> None:
    good[2]["spec"]["selector"] = selector
    found = k8s.selectors_findings(good)
    assert [(f.resource, f.path) for f in found] == [("Service/orders", "spec.selector")]


def test_a_service_port_the_pods_lack(good: list[dict[str, Any]]) -> None:
    good[2]["spec"]["ports"][0]["targetPort"] = "metrics"
    good[2]["spec"]["ports"][1]["port"] = 9000  # no targetPort: the port itself
    found = k8s.selectors_findings(good)
    assert [(f.resource, f.path) for f in found] == [
        ("Service/orders", "spec.ports.0"),
        ("Service/orders", "spec.ports.1"),
    ]


def test_a_service_selects_pods_in_another_list_position(good: list[dict[str, Any]]) -> None:
    assert k8s.selectors_findings([good[2], good[1]]) == [], "order does not matter"
    assert _paths(k8s.selectors_findings([good[2]])) == ["spec.selector"], "no pods at all"


def test_references_to_config_maps(good: list[dict[str, Any]]) -> None:
    env = _container(good)["env"]
    env[1]["valueFrom"]["configMapKeyRef"]["key"] = "LOG_LVL"
    _container(good)["envFrom"].append({"configMapRef": {"name": "missing"}})
    _container(good)["envFrom"].append({"configMapRef": {"name": "gone", "optional": True}})
    found = k8s.references_findings(good)
    assert _paths(found) == [f"{C0}.envFrom.1", f"{C0}.env.1"]
    assert k8s.references_findings([good[1]]) != [], "a ConfigMap not in the set is missing"
