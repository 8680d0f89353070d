"""10.8 The capstone's deployment files pass your checkers (capstone piece).

The capstone ships one image (``capstone/Dockerfile``, built from the repository root, so
``.dockerignore`` decides what the build can see), a compose file that runs the whole shop
(``capstone/compose.yaml``) and Kubernetes manifests (``capstone/k8s/*.yaml``). This module
adds the last check - the build context: does the image find what it copies, and does the
daemon never receive a ``.venv``, ``.git`` or ``.env`` - and runs every checker of the lesson
over those files, file by file. The capstone's tests (``tests/capstone/test_deploy_files.py``)
call :func:`check_deployment` on the repository: its files must keep every rule.

This module uses 10.3, 10.4, 10.5 and 10.7: finish those first.
"""

from __future__ import annotations

import re
from pathlib import Path

from .compose_check import check_compose, load_compose
from .dockerfile_model import parse_copy, parse_dockerfile
from .dockerfile_rules import Finding, check_dockerfile
from .k8s_manifests import check_manifests, load_manifests, resource_id

DOCKERFILE = "capstone/Dockerfile"
DOCKERIGNORE = ".dockerignore"
COMPOSE = "capstone/compose.yaml"
K8S_DIR = "capstone/k8s"
# What a build context must never hold: big, private or both.
MUST_STAY_OUT = (".git", ".venv", ".env", ".journey", "LEARNING_LOG.md", "notebooks")
_WILDCARDS = re.compile(r"[*?\[]")


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex over a whole slash-separated path."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append(f"[{body}]")
            i = end + 1
        elif pattern[i] == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def _clean(path: str) -> str:
    """A path as Docker compares it: no leading ``/`` or ``./``, no trailing ``/``, no ``//``."""
    parts = [p for p in path.strip().split("/") if p not in ("", ".")]
    return "/".join(parts)


def is_ignored(path: str, dockerignore: str) -> bool:
    """Whether ``.dockerignore`` (its text) leaves ``path`` (relative to the context root,
    with ``/``) out of the build context, the way Docker decides:

    - one pattern a line; blank lines and lines starting with ``#`` are skipped; spaces
      around a pattern are dropped; a leading ``/`` or ``./`` and a trailing ``/`` mean
      nothing (patterns are always relative to the context root);
    - ``*`` matches any run of characters except ``/``, ``?`` one character except ``/``,
      ``[abc]`` one of those, ``**`` any number of folders (``**/__pycache__`` matches
      ``__pycache__`` and ``a/b/__pycache__``);
    - a pattern that matches a folder leaves out everything in it: a path is matched when the
      pattern matches the path itself or any of its parent folders;
    - ``!pattern`` brings back what it matches; when several lines match, the last one wins.
    """
    target = _clean(path)
    parts = target.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for raw in dockerignore.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = _clean(line[1:] if negate else line)
        if not pattern:
            continue
        regex = _pattern_regex(pattern)
        if any(regex.fullmatch(candidate) for candidate in candidates):
            ignored = not negate
    return ignored


def context_findings(dockerfile: str, dockerignore: str, root: Path) -> list[Finding]:
    """The build context's findings (rule ``"context"``), sorted:

    - each source of a COPY or ADD without ``--from`` (any stage) exists under ``root``
      (a source with ``*``, ``?`` or ``[`` is a glob that must match something) and is not
      left out by ``.dockerignore`` (``is_ignored``); a URL source of ADD
      (``http://``/``https://``) is not a file and is skipped. Line: the instruction's.
      Messages contain the source and say "no such file" or "left out by .dockerignore";
    - each entry of MUST_STAY_OUT is ignored; a finding at line 0 naming it otherwise.
    """
    findings: list[Finding] = []
    for stage in parse_dockerfile(dockerfile):
        for instruction in stage.find("COPY") + stage.find("ADD"):
            spec = parse_copy(instruction)
            if spec.from_ is not None:
                continue
            for source in spec.sources:
                if source.startswith(("http://", "https://")):
                    continue
                cleaned = _clean(source)
                exists = (
                    any(root.glob(cleaned))
                    if _WILDCARDS.search(cleaned)
                    else (root / cleaned).exists()
                )
                if not exists:
                    findings.append(
                        Finding(
                            instruction.line,
                            "context",
                            (f"{instruction.keyword} {source}: no such file in the build context"),
                        )
                    )
                elif not _WILDCARDS.search(cleaned) and is_ignored(cleaned, dockerignore):
                    findings.append(
                        Finding(
                            instruction.line,
                            "context",
                            (
                                f"{instruction.keyword} {source}: left out by .dockerignore, so "
                                "the build cannot see it"
                            ),
                        )
                    )
    for name in MUST_STAY_OUT:
        if not is_ignored(name, dockerignore):
            findings.append(
                Finding(
                    0,
                    "context",
                    (
                        f"{name} would be sent to the Docker daemon (and maybe into a "
                        "layer): add it to .dockerignore"
                    ),
                )
            )
    return sorted(findings)


def check_deployment(root: Path) -> dict[str, list[str]]:
    """Every problem of the deployment files under ``root`` (a lab checkout), by file:

    - ``DOCKERFILE``: ``check_dockerfile`` and ``context_findings`` (with ``DOCKERIGNORE``'s
      text, empty when it is missing), each as ``"line 8: [pinned-base] message"``;
    - ``COMPOSE``: ``check_compose(load_compose(...))``, each as
      ``"services.redis.image: [images] message"``;
    - each ``*.yaml`` of ``K8S_DIR`` (as ``"capstone/k8s/orders.yaml"``): ``check_manifests``
      over the resources of all of them together, each finding under the file its resource
      comes from, as ``"Deployment/orders spec.replicas: [schema] message"``.

    Every file gets a key, with an empty list when it keeps every rule. A file that is missing
    or cannot be read gets one problem that says so ("missing", or the error's message).
    """
    report: dict[str, list[str]] = {}

    dockerfile = root / DOCKERFILE
    if not dockerfile.is_file():
        report[DOCKERFILE] = [f"{DOCKERFILE} is missing"]
    else:
        ignore_file = root / DOCKERIGNORE
        ignore = ignore_file.read_text(encoding="utf-8") if ignore_file.is_file() else ""
        text = dockerfile.read_text(encoding="utf-8")
        try:
            found = check_dockerfile(text) + context_findings(text, ignore, root)
        except ValueError as error:
            report[DOCKERFILE] = [str(error)]
        else:
            report[DOCKERFILE] = [f"line {f.line}: [{f.rule}] {f.message}" for f in sorted(found)]

    compose = root / COMPOSE
    if not compose.is_file():
        report[COMPOSE] = [f"{COMPOSE} is missing"]
    else:
        try:
            document = load_compose(compose.read_text(encoding="utf-8"))
        except ValueError as error:
            report[COMPOSE] = [str(error)]
        else:
            report[COMPOSE] = [f"{f.path}: [{f.rule}] {f.message}" for f in check_compose(document)]

    owner: dict[str, str] = {}
    resources = []
    manifests = sorted((root / K8S_DIR).glob("*.yaml"))
    if not manifests:
        report[K8S_DIR] = [f"{K8S_DIR} holds no *.yaml manifests"]
    for path in manifests:
        name = path.relative_to(root).as_posix()
        report[name] = []
        try:
            loaded = load_manifests(path.read_text(encoding="utf-8"))
        except ValueError as error:
            report[name].append(str(error))
            continue
        for resource in loaded:
            owner[resource_id(resource)] = name
            resources.append(resource)
    for finding in check_manifests(resources):
        where = f"{finding.resource} {finding.path}".rstrip()
        report[owner[finding.resource]].append(f"{where}: [{finding.rule}] {finding.message}")
    return report
