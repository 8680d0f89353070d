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

import yaml  # noqa: F401 - you will need it

from .image_refs import ImageRefError, PinLevel, parse_image_ref, pin_level  # noqa: F401 - you will need it
from .twelve_factor import is_secret_name  # noqa: F401 - you will need it

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
    raise NotImplementedError("10.6: yaml.safe_load, rename the True key to 'on', check for jobs")


def events(document: dict[str, Any]) -> set[str]:
    """The events that start the workflow, from any of ``on``'s three forms: a string
    (``on: push``), a list (``on: [push, pull_request]``) or a mapping
    (``on: {push: {branches: [main]}, pull_request: null}``)."""
    raise NotImplementedError("10.6: the events of on: in its str, list or dict form")


def ci_jobs(document: dict[str, Any]) -> list[str]:
    """The names of the jobs with a step whose ``run`` calls CI_SCRIPT (``bash .ci/run``,
    ``./.ci/run``), in file order."""
    raise NotImplementedError("10.6: the jobs with a step that runs .ci/run")


def triggers_findings(document: dict[str, Any]) -> list[Finding]:
    """The workflow runs on every event in REQUIRED_EVENTS (``events``). Path ``on``."""
    raise NotImplementedError("10.6: push and pull_request among the events")


def runs_ci_findings(document: dict[str, Any]) -> list[Finding]:
    """Some job runs CI_SCRIPT (``ci_jobs``; path ``jobs``), and in each such job a step
    that uses ``actions/checkout`` comes before that step (path ``jobs.<job>``): without the
    code there is no script to run."""
    raise NotImplementedError("10.6: a job runs .ci/run, after actions/checkout")


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
    raise NotImplementedError("10.6: postgres, redis, rabbitmq: ports, health check, tag")


def require_services_findings(document: dict[str, Any]) -> list[Finding]:
    """``JOURNEY_REQUIRE_SERVICES`` is ``"1"`` (YAML may give the number 1) for the step that
    runs CI_SCRIPT: in that step's ``env``, its job's or the workflow's (the nearest one that
    sets it wins). Otherwise a test whose service is missing is skipped, and CI is green
    without having run it. Path ``jobs.<job>.steps.<index>`` of that step."""
    raise NotImplementedError("10.6: JOURNEY_REQUIRE_SERVICES=1 where .ci/run runs")


def pinned_actions_findings(document: dict[str, Any]) -> list[Finding]:
    """Every step's ``uses`` names an action at a fixed ref: ``owner/repo@<40 hex>`` (a
    commit) or ``owner/repo@v1.2.3`` (an exact release; a major tag such as ``@v4`` and a
    branch move). Local actions (``./...``) and ``docker://`` images are not judged here. Path
    ``jobs.<job>.steps.<index>``."""
    raise NotImplementedError("10.6: uses: at a full SHA or an exact version")


def timeout_findings(document: dict[str, Any]) -> list[Finding]:
    """Every job sets ``timeout-minutes`` to a number from 1 to MAX_TIMEOUT_MINUTES (the
    default, six hours, lets a hung test burn a runner that long). Path
    ``jobs.<job>.timeout-minutes``."""
    raise NotImplementedError("10.6: timeout-minutes from 1 to MAX_TIMEOUT_MINUTES on every job")


def permissions_findings(document: dict[str, Any]) -> list[Finding]:
    """The workflow sets top-level ``permissions`` (without it, the token may get write
    access to the repository), and grants no write: neither ``write-all`` nor any scope set
    to ``write``. Path ``permissions``."""
    raise NotImplementedError("10.6: top-level permissions that grant no write")


def secrets_findings(document: dict[str, Any]) -> list[Finding]:
    """No secret value in the file: every ``env`` (the workflow's, each job's, each step's,
    each service container's) with a secret name (``is_secret_name``) has a value that is
    exactly one ``${{ secrets.NAME }}`` expression. Path ``<where the env is>.env.<NAME>``,
    e.g. ``env.API_TOKEN`` or ``jobs.test.steps.1.env.DB_PASSWORD``."""
    raise NotImplementedError("10.6: secret-named env values are ${{ secrets.NAME }}")


def check_workflow(document: dict[str, Any]) -> list[Finding]:
    """Every rule's findings for a workflow loaded by ``load_workflow``, sorted."""
    raise NotImplementedError("10.6: every rule's findings, sorted")
