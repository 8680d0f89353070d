"""10.4 A Dockerfile checker: the lesson's rules for a production image (core).

Each rule is one question asked of the stages that 10.3 reads; a broken rule is a Finding with
the line to look at, the rule's name and a sentence that says what to do. ``check_dockerfile``
runs them all and returns every finding, sorted by line: an empty list means the Dockerfile
keeps every rule.

This module uses your 10.1 (``is_secret_name``, ``password_in_url``), 10.2 (``pin_level``)
and 10.3 (``parse_dockerfile`` and friends): finish those first.
"""

from __future__ import annotations

import json  # noqa: F401 - you will need it
import shlex  # noqa: F401 - you will need it
from dataclasses import dataclass

from .dockerfile_model import (
    Instruction,  # noqa: F401 - you will need it
    Stage,
    env_pairs,  # noqa: F401 - you will need it
    final_stage,  # noqa: F401 - you will need it
    parse_copy,  # noqa: F401 - you will need it
    parse_dockerfile,  # noqa: F401 - you will need it
    split_flags,  # noqa: F401 - you will need it
)
from .image_refs import ImageRefError, PinLevel, pin_level  # noqa: F401 - you will need it
from .twelve_factor import is_secret_name, password_in_url  # noqa: F401 - you will need it

RULES = (
    "multi-stage",
    "pinned-base",
    "non-root",
    "healthcheck",
    "no-secrets",
    "uv-cache",
    "exec-form",
)
# The files that decide the dependencies; copying anything else before ``uv sync`` means a
# code change invalidates the dependency layer.
DEPENDENCY_FILES = frozenset({"pyproject.toml", "uv.lock"})
ROOT_USERS = frozenset({"root", "0"})


@dataclass(frozen=True, order=True)
class Finding:
    """A broken rule: where (1-based line), which rule (one of RULES), and what to do."""

    line: int
    rule: str
    message: str


def multi_stage_findings(stages: list[Stage]) -> list[Finding]:
    """At least two stages, and the final stage copies something from an earlier stage with
    ``COPY --from=<name or index>`` (by its AS name, any case, or its number: ``--from=0``).
    A finding points at the final stage's FROM line."""
    raise NotImplementedError(
        "10.4: two stages or more, and COPY --from=<earlier stage> in the last"
    )


def pinned_base_findings(stages: list[Stage]) -> list[Finding]:
    """Every image the build pulls is pinned to an exact version or a digest
    (``pin_level(...) >= PinLevel.VERSION``): each FROM whose base is not an earlier stage
    (``scratch``, the empty image, needs no pin), and each ``COPY --from=`` that names an
    image rather than a stage. The finding's message contains the reference as written."""
    raise NotImplementedError("10.4: pin_level >= VERSION for each base and COPY --from image")


def non_root_findings(stages: list[Stage]) -> list[Finding]:
    """The final stage ends as an unprivileged user: its last USER exists and its user part
    (before ``:``) is neither ``root`` nor ``0``. A USER in an earlier stage does not count.
    The finding points at that USER line, or at the final FROM when there is none."""
    raise NotImplementedError("10.4: the final stage's last USER is not root or 0")


def healthcheck_findings(stages: list[Stage]) -> list[Finding]:
    """The final stage has a HEALTHCHECK and its last one is not ``HEALTHCHECK NONE``."""
    raise NotImplementedError("10.4: the final stage has a HEALTHCHECK that is not NONE")


def no_secrets_findings(stages: list[Stage]) -> list[Finding]:
    """No ENV or ARG, in any stage, declares a secret: a name that ``is_secret_name`` calls a
    secret (with or without a value: ARG values are in the image's history too), or any value
    with a password in a URL (``password_in_url``). Build secrets go in
    ``RUN --mount=type=secret``; runtime secrets come from the environment at run time."""
    raise NotImplementedError("10.4: no ENV or ARG with a secret name or a password in a URL")


def uv_cache_findings(stages: list[Stage]) -> list[Finding]:
    """Dependencies are installed in a layer of their own, before the code.

    The first ``RUN ... uv sync`` of the Dockerfile:
    - exists at all ("no uv sync" otherwise, at the first FROM);
    - has ``--locked`` or ``--frozen`` (install exactly uv.lock);
    - sees uv.lock: copied by an earlier COPY of its stage (of uv.lock itself, or of the whole
      context, ``.``) or bind-mounted by the RUN itself
      (``--mount=type=bind,source=uv.lock,...``);
    - is not preceded, in its stage, by a COPY from the build context of anything other than
      pyproject.toml and uv.lock (``COPY . .`` first means every code edit re-installs every
      dependency). COPY --from=... does not count.
    Findings point at the ``uv sync`` line.
    """
    raise NotImplementedError("10.4: uv sync --locked after uv.lock and before the code")


def exec_form_findings(stages: list[Stage]) -> list[Finding]:
    """CMD and ENTRYPOINT of the final stage are in exec (JSON array) form, so the process
    is PID 1 and gets SIGTERM; the shell form wraps it in ``/bin/sh -c``, which does not pass
    the signal on. A value is exec form when it parses as a JSON list of strings."""
    raise NotImplementedError("10.4: CMD and ENTRYPOINT of the final stage are JSON arrays")


def check_dockerfile(text: str) -> list[Finding]:
    """Every finding of every rule in RULES, sorted by (line, rule, message). A Dockerfile
    that cannot be read (10.3's DockerfileError) raises that error."""
    raise NotImplementedError("10.4: parse once, run every rule, sort the findings")
