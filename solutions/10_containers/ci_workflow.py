"""10.6 A CI workflow validator for the lab's own CI (core).

The lab's CI is one script, ``.ci/run``: it syncs the locked environment, lints, type-checks and
runs the three test modes against PostgreSQL, Redis and RabbitMQ. A hosted CI (GitHub Actions
here) only has to check the code out, give the script its services and run it. This validator
reads a workflow file and says whether it does that safely: on every push and pull request,
with the services healthy before the first test, with ``JOURNEY_REQUIRE_SERVICES=1`` so a
missing service fails instead of skipping, with actions pinned, a time limit, read-only
permissions, and no secret written in the file.

This module uses your 10.1 (``is_secret_name``) and 10.2 (``parse_image_ref``,
``pin_level``): finish those first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from .image_refs import ImageRefError, PinLevel, parse_image_ref, pin_level
from .twelve_factor import is_secret_name

RULES = (
    "triggers",
    "runs-ci",
    "services",
    "require-services",
    "pinned-actions",
    "timeout",
    "permissions",
    "secrets",
)
CI_SCRIPT = ".ci/run"
REQUIRED_EVENTS = ("push", "pull_request")
# service container image name -> the port the lab's tests expect on 127.0.0.1
SERVICE_PORTS = {"postgres": 5432, "redis": 6379, "rabbitmq": 5672}
MAX_TIMEOUT_MINUTES = 60
FULL_SHA = re.compile(r"[0-9a-f]{40}")
EXACT_TAG = re.compile(r"v?\d+\.\d+\.\d+")
SECRET_EXPRESSION = re.compile(r"\$\{\{\s*secrets\.\w+\s*\}\}")


class WorkflowError(ValueError):
    """The text is not a workflow: not YAML, or not a mapping with ``jobs``."""


@dataclass(frozen=True, order=True)
class Finding:
    """A problem: where (a dotted path such as ``jobs.test.steps.2``; empty for the whole
    file), which rule (one of RULES), and what to do."""

    path: str
    rule: str
    message: str


def load_workflow(text: str) -> dict[str, Any]:
    """The workflow as a dict, with its ``on:`` key under the name ``"on"``.

    YAML 1.1, which PyYAML speaks, reads the bare key ``on`` as the boolean True: a workflow
    loaded with ``yaml.safe_load`` has ``True`` where you expect ``"on"``. Rename it. Raises
    WorkflowError for text that is not YAML or not a mapping with a ``jobs`` mapping ("jobs").
    """
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise WorkflowError(f"not valid YAML: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("jobs"), dict):
        raise WorkflowError("a workflow is a mapping with a jobs: mapping")
    if True in document:
        document["on"] = document.pop(True)
    return document


def events(document: dict[str, Any]) -> set[str]:
    """The events that start the workflow, from any of ``on``'s three forms: a string
    (``on: push``), a list (``on: [push, pull_request]``) or a mapping
    (``on: {push: {branches: [main]}, pull_request: null}``)."""
    on = document.get("on")
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return {str(event) for event in on}
    if isinstance(on, dict):
        return {str(event) for event in on}
    return set()


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for step in job.get("steps") or [] if isinstance(step, dict)]


def _runs_ci(step: dict[str, Any]) -> bool:
    return bool(re.search(rf"(^|[\s/]){re.escape(CI_SCRIPT)}(\s|$)", str(step.get("run", ""))))


def ci_jobs(document: dict[str, Any]) -> list[str]:
    """The names of the jobs with a step whose ``run`` calls CI_SCRIPT (``bash .ci/run``,
    ``./.ci/run``), in file order."""
    return [
        name
        for name, job in document["jobs"].items()
        if isinstance(job, dict) and any(_runs_ci(step) for step in _steps(job))
    ]


def triggers_findings(document: dict[str, Any]) -> list[Finding]:
    """The workflow runs on every event in REQUIRED_EVENTS (``events``). Path ``on``."""
    missing = [event for event in REQUIRED_EVENTS if event not in events(document)]
    if missing:
        return [
            Finding(
                "on",
                "triggers",
                f"the workflow does not run on {', '.join(missing)}: "
                "every change must be checked before it lands",
            )
        ]
    return []


def runs_ci_findings(document: dict[str, Any]) -> list[Finding]:
    """Some job runs CI_SCRIPT (``ci_jobs``; path ``jobs``), and in each such job a step
    that uses ``actions/checkout`` comes before that step (path ``jobs.<job>``): without the
    code there is no script to run."""
    names = ci_jobs(document)
    if not names:
        return [
            Finding(
                "jobs",
                "runs-ci",
                f"no job runs {CI_SCRIPT}: the workflow must run "
                "the lab's own CI script, not a copy of its steps",
            )
        ]
    findings = []
    for name in names:
        steps = _steps(document["jobs"][name])
        first_ci = next(n for n, step in enumerate(steps) if _runs_ci(step))
        checked_out = any(
            str(step.get("uses", "")).startswith("actions/checkout@") for step in steps[:first_ci]
        )
        if not checked_out:
            findings.append(
                Finding(
                    f"jobs.{name}",
                    "runs-ci",
                    f"{name} runs {CI_SCRIPT} before actions/checkout: there is no code yet",
                )
            )
    return findings


def services_findings(document: dict[str, Any]) -> list[Finding]:
    """Each job that runs CI_SCRIPT declares a service container for each image name of
    SERVICE_PORTS (``parse_image_ref(image).name``), and each of them:

    - publishes its port on the same port of the runner: ``ports`` holds ``"5432:5432"`` (a
      bare ``5432`` would map it to a random port of the runner);
    - has a Docker health check (``--health-cmd`` in ``options``), so the job's steps start
      only once the service is healthy;
    - has an image with a version tag or a digest (``pin_level >= PinLevel.FLOATING``).

    Path ``jobs.<job>.services`` for a missing service (its message names the image:
    "rabbitmq"), ``jobs.<job>.services.<key>`` otherwise.
    """
    findings: list[Finding] = []
    for job_name in ci_jobs(document):
        services = document["jobs"][job_name].get("services") or {}
        by_image: dict[str, tuple[str, dict[str, Any]]] = {}
        for key, service in services.items():
            image = str((service or {}).get("image", ""))
            try:
                by_image[parse_image_ref(image).name] = (key, service or {})
            except ImageRefError:
                continue
        for image_name, port in SERVICE_PORTS.items():
            if image_name not in by_image:
                findings.append(
                    Finding(
                        f"jobs.{job_name}.services",
                        "services",
                        (
                            f"{job_name} has no {image_name} service container: the tests need it "
                            f"on 127.0.0.1:{port}"
                        ),
                    )
                )
                continue
            key, service = by_image[image_name]
            path = f"jobs.{job_name}.services.{key}"
            ports = {str(p) for p in service.get("ports") or []}
            if f"{port}:{port}" not in ports:
                findings.append(
                    Finding(
                        path,
                        "services",
                        f"{key} must publish {port}:{port}: "
                        f"the tests look for it on 127.0.0.1:{port}",
                    )
                )
            if "--health-cmd" not in str(service.get("options", "")):
                findings.append(
                    Finding(
                        path,
                        "services",
                        f"{key} has no --health-cmd in its "
                        "options: the steps could start before it is ready",
                    )
                )
            try:
                level = pin_level(str(service.get("image")))
            except ImageRefError:
                level = PinLevel.UNPINNED
            if level < PinLevel.FLOATING:
                findings.append(
                    Finding(
                        path,
                        "services",
                        f"{key} runs {service.get('image')}: give it a version tag",
                    )
                )
    return findings


def require_services_findings(document: dict[str, Any]) -> list[Finding]:
    """``JOURNEY_REQUIRE_SERVICES`` is ``"1"`` (YAML may give the number 1) for the step that
    runs CI_SCRIPT: in that step's ``env``, its job's or the workflow's (the nearest one that
    sets it wins). Otherwise a test whose service is missing is skipped, and CI is green
    without having run it. Path ``jobs.<job>.steps.<index>`` of that step."""
    findings: list[Finding] = []
    for job_name in ci_jobs(document):
        job = document["jobs"][job_name]
        for index, step in enumerate(_steps(job)):
            if not _runs_ci(step):
                continue
            value = None
            for scope in (document, job, step):
                env = scope.get("env") or {}
                if "JOURNEY_REQUIRE_SERVICES" in env:
                    value = env["JOURNEY_REQUIRE_SERVICES"]
            if str(value) != "1":
                findings.append(
                    Finding(
                        f"jobs.{job_name}.steps.{index}",
                        "require-services",
                        (
                            f"{CI_SCRIPT} runs without JOURNEY_REQUIRE_SERVICES=1: a test whose "
                            "service is down would be skipped, and CI green without it"
                        ),
                    )
                )
    return findings


def pinned_actions_findings(document: dict[str, Any]) -> list[Finding]:
    """Every step's ``uses`` names an action at a fixed ref: ``owner/repo@<40 hex>`` (a
    commit) or ``owner/repo@v1.2.3`` (an exact release; a major tag such as ``@v4`` and a
    branch move). Local actions (``./...``) and ``docker://`` images are not judged here. Path
    ``jobs.<job>.steps.<index>``."""
    findings: list[Finding] = []
    for job_name, job in document["jobs"].items():
        if not isinstance(job, dict):
            continue
        for index, step in enumerate(_steps(job)):
            uses = step.get("uses")
            if not uses or str(uses).startswith(("./", "docker://")):
                continue
            _, at, ref = str(uses).partition("@")
            if not at or not (FULL_SHA.fullmatch(ref) or EXACT_TAG.fullmatch(ref)):
                findings.append(
                    Finding(
                        f"jobs.{job_name}.steps.{index}",
                        "pinned-actions",
                        (
                            f"{uses}: pin the action to a commit SHA or an exact version (v4.2.2); "
                            "a moving ref runs whatever its owner pushes next"
                        ),
                    )
                )
    return findings


def timeout_findings(document: dict[str, Any]) -> list[Finding]:
    """Every job sets ``timeout-minutes`` to a number from 1 to MAX_TIMEOUT_MINUTES (the
    default, six hours, lets a hung test burn a runner that long). Path
    ``jobs.<job>.timeout-minutes``."""
    findings: list[Finding] = []
    for job_name, job in document["jobs"].items():
        minutes = (job or {}).get("timeout-minutes")
        in_range = (
            isinstance(minutes, int | float)
            and not isinstance(minutes, bool)  # YAML's true is an int to Python
            and 1 <= minutes <= MAX_TIMEOUT_MINUTES
        )
        if not in_range:
            findings.append(
                Finding(
                    f"jobs.{job_name}.timeout-minutes",
                    "timeout",
                    (f"{job_name} needs timeout-minutes from 1 to {MAX_TIMEOUT_MINUTES}"),
                )
            )
    return findings


def permissions_findings(document: dict[str, Any]) -> list[Finding]:
    """The workflow sets top-level ``permissions`` (without it, the token may get write
    access to the repository), and grants no write: neither ``write-all`` nor any scope set
    to ``write``. Path ``permissions``."""
    permissions = document.get("permissions")
    if permissions is None:
        return [
            Finding(
                "permissions",
                "permissions",
                "no top-level permissions: set permissions: {contents: read}, all a test run needs",
            )
        ]
    if permissions == "write-all" or (
        isinstance(permissions, dict) and "write" in {str(v) for v in permissions.values()}
    ):
        return [
            Finding(
                "permissions",
                "permissions",
                "the workflow grants write access: a test run only reads (contents: read)",
            )
        ]
    return []


def secrets_findings(document: dict[str, Any]) -> list[Finding]:
    """No secret value in the file: every ``env`` (the workflow's, each job's, each step's,
    each service container's) with a secret name (``is_secret_name``) has a value that is
    exactly one ``${{ secrets.NAME }}`` expression. Path ``<where the env is>.env.<NAME>``,
    e.g. ``env.API_TOKEN`` or ``jobs.test.steps.1.env.DB_PASSWORD``."""
    scopes: list[tuple[str, dict[str, Any]]] = [("", document)]
    for job_name, job in document["jobs"].items():
        if not isinstance(job, dict):
            continue
        scopes.append((f"jobs.{job_name}.", job))
        for index, step in enumerate(_steps(job)):
            scopes.append((f"jobs.{job_name}.steps.{index}.", step))
        for key, service in (job.get("services") or {}).items():
            scopes.append((f"jobs.{job_name}.services.{key}.", service or {}))
    findings: list[Finding] = []
    for prefix, scope in scopes:
        for name, value in (scope.get("env") or {}).items():
            if is_secret_name(str(name)) and not SECRET_EXPRESSION.fullmatch(str(value).strip()):
                findings.append(
                    Finding(
                        f"{prefix}env.{name}",
                        "secrets",
                        (
                            f"{name} is written in the workflow: store it as a repository "
                            "secret and use ${{ secrets." + str(name) + " }}"
                        ),
                    )
                )
    return findings


_CHECKS = (
    triggers_findings,
    runs_ci_findings,
    services_findings,
    require_services_findings,
    pinned_actions_findings,
    timeout_findings,
    permissions_findings,
    secrets_findings,
)


def check_workflow(document: dict[str, Any]) -> list[Finding]:
    """Every rule's findings for a workflow loaded by ``load_workflow``, sorted."""
    return sorted(finding for check in _CHECKS for finding in check(document))
