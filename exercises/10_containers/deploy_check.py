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

from .compose_check import check_compose, load_compose  # noqa: F401 - you will need it
from .dockerfile_model import parse_copy, parse_dockerfile  # noqa: F401 - you will need it
from .dockerfile_rules import Finding, check_dockerfile  # noqa: F401 - you will need it
from .k8s_manifests import check_manifests, load_manifests, resource_id  # noqa: F401 - you will need it

DOCKERFILE = "capstone/Dockerfile"
DOCKERIGNORE = ".dockerignore"
COMPOSE = "capstone/compose.yaml"
K8S_DIR = "capstone/k8s"
# What a build context must never hold: big, private or both.
MUST_STAY_OUT = (".git", ".venv", ".env", ".journey", "LEARNING_LOG.md", "notebooks")
_WILDCARDS = re.compile(r"[*?\[]")


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
    raise NotImplementedError(
        "10.8: match the path and its parents against each pattern; the last wins"
    )


def context_findings(dockerfile: str, dockerignore: str, root: Path) -> list[Finding]:
    """The build context's findings (rule ``"context"``), sorted:

    - each source of a COPY or ADD without ``--from`` (any stage) exists under ``root``
      (a source with ``*``, ``?`` or ``[`` is a glob that must match something) and is not
      left out by ``.dockerignore`` (``is_ignored``); a URL source of ADD
      (``http://``/``https://``) is not a file and is skipped. Line: the instruction's.
      Messages contain the source and say "no such file" or "left out by .dockerignore";
    - each entry of MUST_STAY_OUT is ignored; a finding at line 0 naming it otherwise.
    """
    raise NotImplementedError("10.8: COPY sources exist and are sent; MUST_STAY_OUT is ignored")


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
    raise NotImplementedError("10.8: run every checker on the capstone's files, file by file")
