"""10.7 Kubernetes manifests, validated without a cluster (core).

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

import yaml  # noqa: F401 - you will need it

from .image_refs import ImageRefError, PinLevel, pin_level  # noqa: F401 - you will need it
from .twelve_factor import is_secret_name, password_in_url  # noqa: F401 - you will need it

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
    raise NotImplementedError("10.7: yaml.safe_load_all, skip empty documents, check each")


def schema_findings(resource: dict[str, Any], version: str = KUBERNETES_VERSION) -> list[Finding]:
    """Validates one resource with ``kubernetes_validate.validate(resource, version,
    strict=True)``. Its ValidationError becomes Finding(id, path, "schema", message) with the
    error's ``path`` joined with dots and its ``message``; its SchemaNotFoundError (an unknown
    kind or apiVersion) becomes a finding with an empty path whose message contains the
    kind and the apiVersion. A valid resource has no findings."""
    raise NotImplementedError(
        "10.7: kubernetes_validate.validate(..., strict=True), errors to findings"
    )


# -- walking the pods ------------------------------------------------------------------------


def pod_spec(resource: dict[str, Any]) -> dict[str, Any] | None:
    """The pod template's spec of a workload (WORKLOAD_KINDS), None for other kinds."""
    raise NotImplementedError("10.7: spec.template.spec of a workload kind")


def containers(resource: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, container) for each container and init container of a workload's pod:
    ``spec.template.spec.containers.0``, ``spec.template.spec.initContainers.0``..."""
    raise NotImplementedError("10.7: yield (path, container) for containers and initContainers")


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
    raise NotImplementedError("10.7: liveness on /health/live, readiness on /health/ready, or grpc")


def resources_findings(resource: dict[str, Any]) -> list[Finding]:
    """Each container and init container of a workload sets ``resources.requests`` and
    ``resources.limits``, each with every name of RESOURCE_NAMES. One finding per container
    that misses any, path ``<container path>.resources``, naming each missing one as
    ``requests.cpu``, ``limits.memory``... (and only those)."""
    raise NotImplementedError("10.7: requests and limits for cpu and memory")


def security_findings(resource: dict[str, Any]) -> list[Finding]:
    """Each container and init container of a workload runs as non-root and cannot gain
    privileges:

    - ``runAsNonRoot`` is true for it: its own ``securityContext`` decides when it sets the
      field, else the pod's ``securityContext``;
    - its own ``securityContext.allowPrivilegeEscalation`` is false (only containers have it).

    Path ``<container path>.securityContext``, one finding per broken point.
    """
    raise NotImplementedError("10.7: runAsNonRoot true and allowPrivilegeEscalation false")


def images_findings(resource: dict[str, Any]) -> list[Finding]:
    """Each container's image is pinned to an exact version or a digest
    (``pin_level >= PinLevel.VERSION``): a node pulls it again whenever a pod lands there.
    Path ``<container path>.image``."""
    raise NotImplementedError("10.7: pin_level >= VERSION for each container image")


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
    raise NotImplementedError(
        "10.7: secrets from Secrets only; none in ConfigMaps; no committed values"
    )


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
    raise NotImplementedError("10.7: selectors match pods, Service targetPorts exist")


def references_findings(resources: list[dict[str, Any]]) -> list[Finding]:
    """Every ConfigMap a container reads exists in ``resources``: ``envFrom[].configMapRef``
    (path ``<container path>.envFrom.<index>``) and ``env[].valueFrom.configMapKeyRef``,
    whose ``key`` must also be in that ConfigMap's ``data`` (path
    ``<container path>.env.<index>``). A reference marked ``optional: true`` is fine.
    Secrets are not committed, so references to them are not checked."""
    raise NotImplementedError("10.7: every ConfigMap (and key) a container reads exists")


def check_manifests(
    resources: list[dict[str, Any]], version: str = KUBERNETES_VERSION
) -> list[Finding]:
    """Every resource's schema findings; then the rules, over the resources that passed the
    schema (the rules assume a valid shape): the per-resource rules for each, and
    ``selectors_findings`` and ``references_findings`` over all of them together. Sorted."""
    raise NotImplementedError("10.7: schema for each, then the rules on the valid ones")
