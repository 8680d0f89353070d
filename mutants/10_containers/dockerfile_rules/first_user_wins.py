"""Looks at the first USER of the final stage, not the last one.

10.4 A Dockerfile checker: the lesson's rules for a production image (core).

Each rule is one question asked of the stages that 10.3 reads; a broken rule is a Finding with
the line to look at, the rule's name and a sentence that says what to do. ``check_dockerfile``
runs them all and returns every finding, sorted by line: an empty list means the Dockerfile
keeps every rule.

This module uses your 10.1 (``is_secret_name``, ``password_in_url``), 10.2 (``pin_level``)
and 10.3 (``parse_dockerfile`` and friends): finish those first.
"""

from __future__ import annotations

import itertools
import json
import shlex
from dataclasses import dataclass

from .dockerfile_model import (
    Instruction,
    Stage,
    env_pairs,
    final_stage,
    parse_copy,
    parse_dockerfile,
    split_flags,
)
from .image_refs import ImageRefError, PinLevel, pin_level
from .twelve_factor import is_secret_name, password_in_url

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


def _copies_from_stage(stage: Stage, earlier: list[Stage]) -> bool:
    names = {s.name for s in earlier if s.name} | {str(s.index) for s in earlier}
    return any(
        (spec := parse_copy(i)).from_ is not None and spec.from_.lower() in names
        for i in stage.find("COPY")
    )


def multi_stage_findings(stages: list[Stage]) -> list[Finding]:
    """At least two stages, and the final stage copies something from an earlier stage with
    ``COPY --from=<name or index>`` (by its AS name, any case, or its number: ``--from=0``).
    A finding points at the final stage's FROM line."""
    final = final_stage(stages)
    if len(stages) < 2:
        return [
            Finding(
                final.line,
                "multi-stage",
                "one stage: build in a first stage and copy "
                "only the result into a slim final one (COPY --from=<stage>)",
            )
        ]
    if not _copies_from_stage(final, stages[:-1]):
        return [
            Finding(
                final.line,
                "multi-stage",
                "the final stage copies nothing from an "
                "earlier stage: COPY --from=<stage> what the build stage made",
            )
        ]
    return []


def pinned_base_findings(stages: list[Stage]) -> list[Finding]:
    """Every image the build pulls is pinned to an exact version or a digest
    (``pin_level(...) >= PinLevel.VERSION``): each FROM whose base is not an earlier stage
    (``scratch``, the empty image, needs no pin), and each ``COPY --from=`` that names an
    image rather than a stage. The finding's message contains the reference as written."""
    findings: list[Finding] = []
    names: set[str] = set()
    for stage in stages:
        if not stage.base_is_stage and stage.base.lower() != "scratch":
            findings += _pin_finding(stage.base, stage.line, "FROM")
        for copy in stage.find("COPY"):
            source = parse_copy(copy).from_
            if source is not None and source.lower() not in names | _indexes(stage):
                findings += _pin_finding(source, copy.line, "COPY --from")
        if stage.name:
            names.add(stage.name)
    return findings


def _indexes(stage: Stage) -> set[str]:
    return {str(n) for n in range(stage.index)}


def _pin_finding(ref: str, line: int, where: str) -> list[Finding]:
    try:
        level = pin_level(ref)
    except ImageRefError:
        level = PinLevel.UNPINNED
    if level >= PinLevel.VERSION:
        return []
    return [
        Finding(
            line,
            "pinned-base",
            f"{where} {ref}: pin it to an exact version "
            "(python:3.11.9-slim) or a digest (@sha256:...), so every build gets the "
            "same image",
        )
    ]


def non_root_findings(stages: list[Stage]) -> list[Finding]:
    """The final stage ends as an unprivileged user: its last USER exists and its user part
    (before ``:``) is neither ``root`` nor ``0``. A USER in an earlier stage does not count.
    The finding points at that USER line, or at the final FROM when there is none."""
    final = final_stage(stages)
    users = final.find("USER")
    if not users:
        return [
            Finding(
                final.line,
                "non-root",
                "the final stage has no USER: the service would "
                "run as root; add an unprivileged user and switch to it",
            )
        ]
    last = users[0]
    user = last.value.split(":", 1)[0].strip()
    if user.lower() in ROOT_USERS:
        return [
            Finding(
                last.line,
                "non-root",
                f"USER {last.value}: the final stage ends as root; switch to an unprivileged user",
            )
        ]
    return []


def healthcheck_findings(stages: list[Stage]) -> list[Finding]:
    """The final stage has a HEALTHCHECK and its last one is not ``HEALTHCHECK NONE``."""
    final = final_stage(stages)
    checks = final.find("HEALTHCHECK")
    if not checks:
        return [
            Finding(
                final.line,
                "healthcheck",
                "the final stage has no HEALTHCHECK: nothing "
                "tells Docker whether the service answers",
            )
        ]
    last = checks[-1]
    if last.value.strip().upper() == "NONE":
        return [Finding(last.line, "healthcheck", "HEALTHCHECK NONE switches the check off")]
    return []


def no_secrets_findings(stages: list[Stage]) -> list[Finding]:
    """No ENV or ARG, in any stage, declares a secret: a name that ``is_secret_name`` calls a
    secret (with or without a value: ARG values are in the image's history too), or any value
    with a password in a URL (``password_in_url``). Build secrets go in
    ``RUN --mount=type=secret``; runtime secrets come from the environment at run time."""
    findings: list[Finding] = []
    for stage in stages:
        for instruction in stage.find("ENV") + stage.find("ARG"):
            for name, value in env_pairs(instruction):
                if is_secret_name(name):
                    findings.append(
                        Finding(
                            instruction.line,
                            "no-secrets",
                            (
                                f"{instruction.keyword} {name}: a secret baked into the image, "
                                "where anyone who pulls it can read it; pass it at run time (or "
                                "RUN --mount=type=secret for the build)"
                            ),
                        )
                    )
                elif value and password_in_url(value):
                    findings.append(
                        Finding(
                            instruction.line,
                            "no-secrets",
                            (
                                f"{instruction.keyword} {name}: the URL carries a password; pass "
                                "it at run time"
                            ),
                        )
                    )
    return findings


def _is_uv_sync(instruction: Instruction) -> bool:
    _, command = split_flags(instruction.value)
    try:
        words = shlex.split(command)
    except ValueError:  # an unbalanced quote: whitespace is good enough to find "uv sync"
        words = command.split()
    return any(a == "uv" and b == "sync" for a, b in itertools.pairwise(words))


def _bind_mounts(instruction: Instruction) -> set[str]:
    """The sources of ``RUN --mount=type=bind,source=...`` mounts."""
    sources = set()
    for name, value in split_flags(instruction.value)[0]:
        if name != "mount":
            continue
        options = dict(part.partition("=")[::2] for part in value.split(","))
        if options.get("type") == "bind":
            sources.add(options.get("source") or options.get("src") or "")
    return sources


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
    for stage in stages:
        for position, instruction in enumerate(stage.instructions):
            if instruction.keyword == "RUN" and _is_uv_sync(instruction):
                return _check_sync(stage.instructions[:position], instruction)
    return [
        Finding(
            stages[0].line,
            "uv-cache",
            "no RUN uv sync: install the locked "
            "dependencies with uv sync --locked in a layer of their own",
        )
    ]


def _check_sync(before: tuple[Instruction, ...], sync: Instruction) -> list[Finding]:
    findings: list[Finding] = []
    words = sync.value.split()
    if "--locked" not in words and "--frozen" not in words:
        findings.append(
            Finding(
                sync.line,
                "uv-cache",
                "uv sync without --locked: the build may resolve other versions than uv.lock says",
            )
        )
    copied: set[str] = set()
    early_code: list[str] = []
    for instruction in before:
        if instruction.keyword not in {"COPY", "ADD"}:
            continue
        spec = parse_copy(instruction)
        if spec.from_ is not None:
            continue
        for source in spec.sources:
            name = source.rstrip("/").removeprefix("./") or "."
            copied |= DEPENDENCY_FILES if name == "." else {name}
            if name not in DEPENDENCY_FILES:
                early_code.append(source)
    if "uv.lock" not in copied and "uv.lock" not in _bind_mounts(sync):
        findings.append(
            Finding(
                sync.line,
                "uv-cache",
                "uv sync runs before uv.lock is in the image: COPY pyproject.toml uv.lock ./ first",
            )
        )
    if early_code:
        findings.append(
            Finding(
                sync.line,
                "uv-cache",
                f"{', '.join(early_code)} copied "
                "before uv sync: every code edit re-installs every "
                "dependency; copy the code after it",
            )
        )
    return findings


def exec_form_findings(stages: list[Stage]) -> list[Finding]:
    """CMD and ENTRYPOINT of the final stage are in exec (JSON array) form, so the process
    is PID 1 and gets SIGTERM; the shell form wraps it in ``/bin/sh -c``, which does not pass
    the signal on. A value is exec form when it parses as a JSON list of strings."""
    findings: list[Finding] = []
    for instruction in final_stage(stages).find("CMD") + final_stage(stages).find("ENTRYPOINT"):
        try:
            parsed = json.loads(instruction.value)
        except json.JSONDecodeError:
            parsed = None
        if not (isinstance(parsed, list) and all(isinstance(p, str) for p in parsed)):
            findings.append(
                Finding(
                    instruction.line,
                    "exec-form",
                    (
                        f"{instruction.keyword} in shell form: write it as a JSON array "
                        '(["python", "-m", "app"]) so SIGTERM reaches the process'
                    ),
                )
            )
    return findings


_CHECKS = {
    "multi-stage": multi_stage_findings,
    "pinned-base": pinned_base_findings,
    "non-root": non_root_findings,
    "healthcheck": healthcheck_findings,
    "no-secrets": no_secrets_findings,
    "uv-cache": uv_cache_findings,
    "exec-form": exec_form_findings,
}


def check_dockerfile(text: str) -> list[Finding]:
    """Every finding of every rule in RULES, sorted by (line, rule, message). A Dockerfile
    that cannot be read (10.3's DockerfileError) raises that error."""
    stages = parse_dockerfile(text)
    findings = [finding for rule in RULES for finding in _CHECKS[rule](stages)]
    return sorted(findings)
