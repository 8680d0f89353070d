"""Accepts a digest written in upper-case hex.

10.2 Image references and how firmly they are pinned (warm-up).

``ghcr.io/astral-sh/uv:0.5.1@sha256:...`` names an image: an optional registry, a repository
path, an optional tag and an optional digest. A tag is a label that its owner can move to
another image at any time (``latest`` moves with every release, ``3.11-slim`` with every patch
release); a digest is the hash of the image's content and can never mean another image. The
Dockerfile, compose and Kubernetes checkers of this lesson all ask one question of an image
reference: how firmly is it pinned?
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

DIGEST = re.compile(r"sha256:[0-9a-fA-F]{64}")
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
# A tag that names one release: three numbers, an optional leading v, anything after
# (3.11.9-slim-bookworm, v2.55.1, 1.62.0).
EXACT_VERSION = re.compile(r"v?\d+\.\d+\.\d+(?!\d)")


class PinLevel(IntEnum):
    """How firmly a reference names one image, weakest first (so levels compare with <)."""

    UNPINNED = 0  # no tag, ``latest``, or decided at build time (``${VERSION}``)
    FLOATING = 1  # a tag that names a line of releases: ``3.11-slim``, ``16``, ``alpine``
    VERSION = 2  # a tag that names one release: ``3.11.9-slim``, ``v2.55.1``
    DIGEST = 3  # a content digest: ``@sha256:<64 hex>``, with or without a tag


class ImageRefError(ValueError):
    """A string that is not a valid image reference; the message says what is wrong."""


@dataclass(frozen=True)
class ImageRef:
    """The parts of an image reference, as written (Docker Hub's ``library/`` is not added)."""

    registry: str | None  # "ghcr.io", "localhost:5000"; None means Docker Hub
    repository: str  # "python", "astral-sh/uv"
    tag: str | None  # "3.11.9-slim"; None when there is no tag
    digest: str | None  # "sha256:..."; None when there is no digest

    @property
    def name(self) -> str:
        """The last component of the repository: ``uv`` for ``ghcr.io/astral-sh/uv:0.5``."""
        return self.repository.rsplit("/", 1)[-1]


def parse_image_ref(ref: str) -> ImageRef:
    """Splits ``[registry/]repository[:tag][@digest]``.

    - The first ``/``-separated component is a registry only when there is a ``/`` after it
      and it contains a ``.`` or a ``:`` or is ``localhost`` (``localhost:5000/app``,
      ``ghcr.io/org/app``); otherwise it is part of the repository (``astral-sh/uv``).
    - The tag follows the last ``:`` after the last ``/`` (a registry's port is not a tag);
      the digest follows ``@``.
    - Raises ImageRefError (a ValueError), whose message says what is wrong, for: an empty
      or blank reference ("empty"), or one with whitespace ("whitespace"); a repository
      component that is not lower-case letters and digits joined by ``.``, ``_``, ``__`` or
      dashes ("repository"); a tag that does not match TAG ("tag"); a digest that does not
      match DIGEST ("digest").
    """
    if not ref or not ref.strip():
        raise ImageRefError("an image reference cannot be empty")
    if any(ch.isspace() for ch in ref):
        raise ImageRefError(f"an image reference has no whitespace: {ref!r}")

    rest, at, digest = ref.partition("@")
    if at and not DIGEST.fullmatch(digest):
        raise ImageRefError(f"the digest of {ref!r} must be sha256: and 64 lower-case hex")

    registry: str | None = None
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, rest = first, remainder

    tag: str | None = None
    head, _, last = rest.rpartition("/")
    if ":" in last:
        last, tag = last.split(":", 1)
        if not TAG.fullmatch(tag):
            raise ImageRefError(f"{tag!r} is not a valid tag in {ref!r}")
    repository = f"{head}/{last}" if head else last

    for component in repository.split("/"):
        if not PATH_COMPONENT.fullmatch(component):
            raise ImageRefError(
                f"the repository {repository!r} must be lower-case letters and digits, "
                "joined by '.', '_' or '-'"
            )
    return ImageRef(registry, repository, tag, digest or None)


def pin_level(ref: str) -> PinLevel:
    """How firmly ``ref`` is pinned (see PinLevel).

    A reference that still holds a variable (``$``) is UNPINNED: nothing in the file decides
    which image it is. A digest is DIGEST whatever the tag says; no tag or the tag ``latest``
    (in any case) is UNPINNED; a tag that matches EXACT_VERSION from its start is VERSION;
    any other tag is FLOATING. An invalid reference raises ImageRefError.
    """
    if "$" in ref:
        return PinLevel.UNPINNED
    image = parse_image_ref(ref)
    if image.digest:
        return PinLevel.DIGEST
    if image.tag is None or image.tag.lower() == "latest":
        return PinLevel.UNPINNED
    if EXACT_VERSION.match(image.tag):
        return PinLevel.VERSION
    return PinLevel.FLOATING
