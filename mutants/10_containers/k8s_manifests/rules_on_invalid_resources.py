"""Runs the rules on resources that failed the schema.

10.7 Kubernetes manifests, validated without a cluster (core).

A manifest can be wrong in two ways. It can be invalid - a misspelt field, a port given as a
word where a number goes - which the API server would refuse: kubernetes-validate checks each
resource against the OpenAPI schemas of a Kubernetes version that it bundles (strict mode also
refuses unknown fields). Or it can be valid and still unfit for production: a pod with no
probes gets traffic before it is ready, one with no limits can starve its node, one that runs
as root turns a bug into a break-in, a Service whose selector matches no pod sends traffic
nowhere. The lesson's rules catch those.

This module uses your 10.1 (``is_secret_name``, ``password_in_url``) and 10.2 (``pin_level``):
finish those first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from .image_refs import ImageRefError, PinLevel, pin_level
from .twelve_factor import is_secret_name, password_in_url

KUBERNETES_VERSION = "1.31"
RULES = (
    "schema",
    "probes",
    "resources",
    "security",
    "images",
    "secrets",
    "selectors",
    "references",
)
LIVE_PATH = "/health/live"
READY_PATH = "/health/ready"
# Kinds whose pods run for ever (probes apply) and kinds whose pods run to completion.
SERVER_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet"})
WORKLOAD_KINDS = SERVER_KINDS | {"Job"}
RESOURCE_NAMES = ("cpu", "memory")


class ManifestError(ValueError):
    """The text is not a list of Kubernetes resources; the message says which and why."""


@dataclass(frozen=True, order=True)
class Finding:
    """A problem: in which resource (``Deployment/orders``), where in it (a dotted path such
    as ``spec.template.spec.containers.0.livenessProbe``; empty for the whole resource),
    which rule (one of RULES), and what to do."""

    resource: str
    path: str
    rule: str
    message: str


def resource_id(resource: dict[str, Any]) -> str:
    """``Kind/name``, e.g. ``Deployment/orders``."""
    return f"{resource.get('kind')}/{(resource.get('metadata') or {}).get('name')}"


def load_manifests(text: str) -> list[dict[str, Any]]:
    """The resources of a multi-document YAML text (``yaml.safe_load_all``), skipping empty
    documents. Raises ManifestError when the YAML does not parse ("not valid YAML: ..."), or
    when a document is not a mapping with ``apiVersion``, ``kind`` and ``metadata.name`` (the
    message names the document's number, counted from 1: "document 2", and says "apiVersion,
    kind and metadata.name")."""
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as error:
        raise ManifestError(f"not valid YAML: {error}") from error
    for number, document in enumerate(documents, start=1):
        if not (
            isinstance(document, dict)
            and document.get("apiVersion")
            and document.get("kind")
            and isinstance(document.get("metadata"), dict)
            and document["metadata"].get("name")
        ):
            raise ManifestError(
                f"document {number} is not a resource: it needs apiVersion, kind and metadata.name"
            )
    return documents


def schema_findings(resource: dict[str, Any], version: str = KUBERNETES_VERSION) -> list[Finding]:
    """Validates one resource with ``kubernetes_validate.validate(resource, version,
    strict=True)``. Its ValidationError becomes Finding(id, path, "schema", message) with the
    error's ``path`` joined with dots and its ``message``; its SchemaNotFoundError (an unknown
    kind or apiVersion) becomes a finding with an empty path whose message contains the
    kind and the apiVersion. A valid resource has no findings."""
    import kubernetes_validate  # imported here: it loads jsonschema, which takes a while

    try:
        kubernetes_validate.validate(resource, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = ".".join(str(part) for part in error.path)
        return [Finding(resource_id(resource), path, "schema", error.message)]
    except kubernetes_validate.SchemaNotFoundError:
        return [
            Finding(
                resource_id(resource),
                "",
                "schema",
                (
                    f"no schema for kind {resource.get('kind')} in apiVersion "
                    f"{resource.get('apiVersion')} (Kubernetes {version}): a typo?"
                ),
            )
        ]
    return []


# -- walking the pods ------------------------------------------------------------------------


def pod_spec(resource: dict[str, Any]) -> dict[str, Any] | None:
    """The pod template's spec of a workload (WORKLOAD_KINDS), None for other kinds."""
    if resource.get("kind") not in WORKLOAD_KINDS:
        return None
    spec: dict[str, Any] = ((resource.get("spec") or {}).get("template") or {}).get("spec") or {}
    return spec


def containers(resource: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, container) for each container and init container of a workload's pod:
    ``spec.template.spec.containers.0``, ``spec.template.spec.initContainers.0``..."""
    spec = pod_spec(resource)
    if spec is None:
        return
    for field in ("containers", "initContainers"):
        for index, container in enumerate(spec.get(field) or []):
            yield f"spec.template.spec.{field}.{index}", container


def _port_names_and_numbers(container: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for port in container.get("ports") or []:
        found.add(str(port.get("containerPort")))
        if port.get("name"):
            found.add(str(port["name"]))
    return found


# -- the rules -------------------------------------------------------------------------------


def probes_findings(resource: dict[str, Any]) -> list[Finding]:
    """Each container (not init containers) of a server (SERVER_KINDS) has a livenessProbe
    and a readinessProbe, each either ``httpGet`` or ``grpc`` (the standard gRPC health
    service):

    - an httpGet liveness probe asks LIVE_PATH, an httpGet readiness probe asks READY_PATH
      (liveness on the readiness route restarts every pod when the database blinks);
    - the probe's port (a number, or the name of a port) is one of the container's ports.

    Path ``<container path>.livenessProbe`` / ``.readinessProbe``.
    """
    if resource.get("kind") not in SERVER_KINDS:
        return []
    findings: list[Finding] = []
    for path, container in containers(resource):
        if ".initContainers." in path:
            continue
        ports = _port_names_and_numbers(container)
        for field, route in (("livenessProbe", LIVE_PATH), ("readinessProbe", READY_PATH)):
            where = f"{path}.{field}"
            probe = container.get(field)
            name = container.get("name")
            if not probe:
                findings.append(
                    Finding(
                        resource_id(resource),
                        where,
                        "probes",
                        (f"container {name} has no {field}: probe {route} (or gRPC health)"),
                    )
                )
                continue
            action = probe.get("httpGet") or probe.get("grpc")
            if action is None:
                findings.append(
                    Finding(
                        resource_id(resource),
                        where,
                        "probes",
                        (
                            f"{field} of {name} should ask the health route {route} (httpGet) or "
                            "the gRPC health service (grpc)"
                        ),
                    )
                )
                continue
            if "httpGet" in probe and probe["httpGet"].get("path") != route:
                findings.append(
                    Finding(
                        resource_id(resource),
                        where,
                        "probes",
                        (f"{field} of {name} asks {probe['httpGet'].get('path')}, not {route}"),
                    )
                )
            if str(action.get("port")) not in ports:
                findings.append(
                    Finding(
                        resource_id(resource),
                        where,
                        "probes",
                        (
                            f"{field} of {name} probes port {action.get('port')}, which the "
                            "container does not declare"
                        ),
                    )
                )
    return findings


def resources_findings(resource: dict[str, Any]) -> list[Finding]:
    """Each container and init container of a workload sets ``resources.requests`` and
    ``resources.limits``, each with every name of RESOURCE_NAMES. One finding per container
    that misses any, path ``<container path>.resources``, naming each missing one as
    ``requests.cpu``, ``limits.memory``... (and only those)."""
    findings: list[Finding] = []
    for path, container in containers(resource):
        resources = container.get("resources") or {}
        missing = [
            f"{kind}.{name}"
            for kind in ("requests", "limits")
            for name in RESOURCE_NAMES
            if name not in (resources.get(kind) or {})
        ]
        if missing:
            findings.append(
                Finding(
                    resource_id(resource),
                    f"{path}.resources",
                    "resources",
                    (
                        f"container {container.get('name')} does not set {', '.join(missing)}: the "
                        "scheduler cannot place it well, and nothing stops it starving its node"
                    ),
                )
            )
    return findings


def security_findings(resource: dict[str, Any]) -> list[Finding]:
    """Each container and init container of a workload runs as non-root and cannot gain
    privileges:

    - ``runAsNonRoot`` is true for it: its own ``securityContext`` decides when it sets the
      field, else the pod's ``securityContext``;
    - its own ``securityContext.allowPrivilegeEscalation`` is false (only containers have it).

    Path ``<container path>.securityContext``, one finding per broken point.
    """
    spec = pod_spec(resource)
    if spec is None:
        return []
    pod_context = spec.get("securityContext") or {}
    findings: list[Finding] = []
    for path, container in containers(resource):
        context = container.get("securityContext") or {}
        name = container.get("name")
        non_root = context.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
        where = f"{path}.securityContext"
        if non_root is not True:
            findings.append(
                Finding(
                    resource_id(resource),
                    where,
                    "security",
                    (f"container {name} may run as root: set runAsNonRoot: true"),
                )
            )
        if context.get("allowPrivilegeEscalation") is not False:
            findings.append(
                Finding(
                    resource_id(resource),
                    where,
                    "security",
                    (f"container {name} may gain privileges: set allowPrivilegeEscalation: false"),
                )
            )
    return findings


def images_findings(resource: dict[str, Any]) -> list[Finding]:
    """Each container's image is pinned to an exact version or a digest
    (``pin_level >= PinLevel.VERSION``): a node pulls it again whenever a pod lands there.
    Path ``<container path>.image``."""
    findings: list[Finding] = []
    for path, container in containers(resource):
        image = str(container.get("image", ""))
        try:
            level = pin_level(image)
        except ImageRefError:
            level = PinLevel.UNPINNED
        if level < PinLevel.VERSION:
            findings.append(
                Finding(
                    resource_id(resource),
                    f"{path}.image",
                    "images",
                    (
                        f"container {container.get('name')} runs {image}: pin an exact "
                        "version or a digest, or two pods may run two different images"
                    ),
                )
            )
    return findings


def secrets_findings(resource: dict[str, Any]) -> list[Finding]:
    """No secret value is committed:

    - a container's ``env`` entry with a secret name (``is_secret_name``) takes its value
      from ``valueFrom.secretKeyRef``, and no ``value`` holds a password in a URL
      (``password_in_url``); path ``<container path>.env.<index>``;
    - a ConfigMap has no key with a secret name and no value with a password in a URL; path
      ``data.<key>``;
    - a Secret carries no value: its ``data`` and ``stringData`` are empty or absent (create
      it with ``kubectl create secret``, never from a file in the repository); path ``data``
      or ``stringData``.
    """
    rid = resource_id(resource)
    findings: list[Finding] = []
    kind = resource.get("kind")
    if kind == "ConfigMap":
        for key, value in (resource.get("data") or {}).items():
            if is_secret_name(str(key)) or password_in_url(str(value)):
                findings.append(
                    Finding(
                        rid,
                        f"data.{key}",
                        "secrets",
                        (
                            f"{key} is a secret in a ConfigMap, which anyone who can read the "
                            "namespace's configuration sees: move it to a Secret"
                        ),
                    )
                )
    elif kind == "Secret":
        for field in ("data", "stringData"):
            if any(v not in (None, "") for v in (resource.get(field) or {}).values()):
                findings.append(
                    Finding(
                        rid,
                        field,
                        "secrets",
                        (
                            "a Secret with values is committed: create it with kubectl create "
                            "secret and keep only its name here"
                        ),
                    )
                )
    for path, container in containers(resource):
        for index, entry in enumerate(container.get("env") or []):
            name = str(entry.get("name"))
            value = entry.get("value")
            from_secret = "secretKeyRef" in (entry.get("valueFrom") or {})
            if (is_secret_name(name) and not from_secret) or (
                value is not None and password_in_url(str(value))
            ):
                findings.append(
                    Finding(
                        rid,
                        f"{path}.env.{index}",
                        "secrets",
                        (
                            f"{name} of container {container.get('name')} must come from a Secret "
                            "(valueFrom.secretKeyRef)"
                        ),
                    )
                )
    return findings


def selectors_findings(resources: list[dict[str, Any]]) -> list[Finding]:
    """Labels line up:

    - a workload's ``spec.selector.matchLabels`` are all among its pod template's labels,
      with the same values (path ``spec.selector``);
    - a Service's ``spec.selector`` matches the pod labels of at least one workload of
      ``resources`` (path ``spec.selector``);
    - each of that Service's ports has a ``targetPort`` (its ``port`` when absent; a number
      or a port name) that a container of a matched workload declares (path
      ``spec.ports.<index>``).
    """
    findings: list[Finding] = []
    pods: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (pod labels, workload)
    for resource in resources:
        if pod_spec(resource) is None:
            continue
        labels = ((resource["spec"].get("template") or {}).get("metadata") or {}).get(
            "labels"
        ) or {}
        pods.append((labels, resource))
        match = (resource["spec"].get("selector") or {}).get("matchLabels") or {}
        if resource.get("kind") != "Job" and any(labels.get(k) != v for k, v in match.items()):
            findings.append(
                Finding(
                    resource_id(resource),
                    "spec.selector",
                    "selectors",
                    (
                        "the selector's matchLabels are not all on the pod template: the workload "
                        "would not find its own pods"
                    ),
                )
            )
    for resource in resources:
        if resource.get("kind") != "Service":
            continue
        selector = (resource.get("spec") or {}).get("selector") or {}
        matched = [
            workload
            for labels, workload in pods
            if selector and all(labels.get(k) == v for k, v in selector.items())
        ]
        if not matched:
            findings.append(
                Finding(
                    resource_id(resource),
                    "spec.selector",
                    "selectors",
                    (
                        f"the selector {selector} matches no pod here: the Service sends traffic "
                        "nowhere"
                    ),
                )
            )
            continue
        declared = set()
        for workload in matched:
            for path, container in containers(workload):
                if ".initContainers." not in path:
                    declared |= _port_names_and_numbers(container)
        for index, port in enumerate(resource["spec"].get("ports") or []):
            target = str(port.get("targetPort", port.get("port")))
            if target not in declared:
                findings.append(
                    Finding(
                        resource_id(resource),
                        f"spec.ports.{index}",
                        "selectors",
                        f"targetPort {target} is not a port of the pods the Service selects",
                    )
                )
    return findings


def references_findings(resources: list[dict[str, Any]]) -> list[Finding]:
    """Every ConfigMap a container reads exists in ``resources``: ``envFrom[].configMapRef``
    (path ``<container path>.envFrom.<index>``) and ``env[].valueFrom.configMapKeyRef``,
    whose ``key`` must also be in that ConfigMap's ``data`` (path
    ``<container path>.env.<index>``). A reference marked ``optional: true`` is fine.
    Secrets are not committed, so references to them are not checked."""
    config_maps = {
        (r.get("metadata") or {}).get("name"): (r.get("data") or {})
        for r in resources
        if r.get("kind") == "ConfigMap"
    }
    findings: list[Finding] = []
    for resource in resources:
        for path, container in containers(resource):
            for index, source in enumerate(container.get("envFrom") or []):
                ref = source.get("configMapRef")
                if ref and not ref.get("optional") and ref.get("name") not in config_maps:
                    findings.append(
                        Finding(
                            resource_id(resource),
                            f"{path}.envFrom.{index}",
                            "references",
                            f"no ConfigMap {ref.get('name')}",
                        )
                    )
            for index, entry in enumerate(container.get("env") or []):
                ref = (entry.get("valueFrom") or {}).get("configMapKeyRef")
                if not ref or ref.get("optional"):
                    continue
                data = config_maps.get(ref.get("name"))
                if data is None or ref.get("key") not in data:
                    findings.append(
                        Finding(
                            resource_id(resource),
                            f"{path}.env.{index}",
                            "references",
                            f"no key {ref.get('key')} in ConfigMap {ref.get('name')}",
                        )
                    )
    return findings


_PER_RESOURCE = (
    probes_findings,
    resources_findings,
    security_findings,
    images_findings,
    secrets_findings,
)


def check_manifests(
    resources: list[dict[str, Any]], version: str = KUBERNETES_VERSION
) -> list[Finding]:
    """Every resource's schema findings; then the rules, over the resources that passed the
    schema (the rules assume a valid shape): the per-resource rules for each, and
    ``selectors_findings`` and ``references_findings`` over all of them together. Sorted."""
    findings: list[Finding] = []
    valid: list[dict[str, Any]] = []
    for resource in resources:
        found = schema_findings(resource, version)
        findings += found
        valid.append(resource)
    for resource in valid:
        for check in _PER_RESOURCE:
            findings += check(resource)
    findings += selectors_findings(valid)
    findings += references_findings(valid)
    return sorted(findings)
