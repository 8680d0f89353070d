"""10.2 Image references: registry, repository, tag, digest, and how firmly they pin."""

from __future__ import annotations

import pytest

from journey.targets import load

refs = load(__file__, "image_refs")

SHA = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("ref", "parts"),
    [
        ("python", (None, "python", None, None)),
        ("python:3.11.9-slim", (None, "python", "3.11.9-slim", None)),
        ("astral-sh/uv:0.5.1", (None, "astral-sh/uv", "0.5.1", None)),
        ("ghcr.io/astral-sh/uv:0.5.1", ("ghcr.io", "astral-sh/uv", "0.5.1", None)),
        ("localhost:5000/app", ("localhost:5000", "app", None, None)),
        ("localhost/team/app:1.2.3", ("localhost", "team/app", "1.2.3", None)),
        ("registry.example.com:443/a/b/c:v1", ("registry.example.com:443", "a/b/c", "v1", None)),
        (f"postgres@{SHA}", (None, "postgres", None, SHA)),
        (f"postgres:16.6-alpine@{SHA}", (None, "postgres", "16.6-alpine", SHA)),
        ("my_org/my.app__x:Tag_1", (None, "my_org/my.app__x", "Tag_1", None)),
    ],
)
def test_parse_image_ref(ref: str, parts: tuple[str | None, ...]) -> None:
    image = refs.parse_image_ref(ref)
    assert (image.registry, image.repository, image.tag, image.digest) == parts, (
        f"{ref} splits into (registry, repository, tag, digest) = {parts}"
    )


def test_name_is_the_last_repository_component() -> None:
    assert refs.parse_image_ref("ghcr.io/astral-sh/uv:0.5").name == "uv"
    assert refs.parse_image_ref("postgres:16").name == "postgres"


@pytest.mark.parametrize(
    ("ref", "word"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("python 3.11", "whitespace"),
        ("Python:3.11", "repository"),
        ("my--app-/x", "repository"),
        ("python:", "tag"),
        ("python:-slim", "tag"),
        ("python@sha256:abc", "digest"),
        (f"python@{SHA.upper().replace('SHA256', 'sha256')}", "digest"),
        ("python@md5:0123456789abcdef0123456789abcdef", "digest"),
    ],
)
def test_invalid_references_are_refused(ref: str, word: str) -> None:
    with pytest.raises(refs.ImageRefError) as caught:
        refs.parse_image_ref(ref)
    assert isinstance(caught.value, ValueError), "ImageRefError is a ValueError"
    assert word in str(caught.value).lower(), f"{ref!r}: the message should say {word!r}"


@pytest.mark.parametrize(
    ("ref", "level"),
    [
        ("python", "UNPINNED"),
        ("python:latest", "UNPINNED"),
        ("python:LATEST", "UNPINNED"),
        ("localhost:5000/app", "UNPINNED"),
        ("python:${PYTHON_VERSION}-slim", "UNPINNED"),
        ("$BASE_IMAGE", "UNPINNED"),
        ("python:3.11-slim-bookworm", "FLOATING"),
        ("redis:7", "FLOATING"),
        ("postgres:16.6-alpine", "FLOATING"),
        ("debian:bookworm-slim", "FLOATING"),
        ("python:311", "FLOATING"),
        ("python:3.11.9", "VERSION"),
        ("python:3.11.9-slim-bookworm", "VERSION"),
        ("prom/prometheus:v2.55.1", "VERSION"),
        ("localhost:5000/app:10.20.30", "VERSION"),
        (f"python@{SHA}", "DIGEST"),
        (f"python:3.11-slim@{SHA}", "DIGEST"),
        (f"python:latest@{SHA}", "DIGEST"),
    ],
)
def test_pin_level(ref: str, level: str) -> None:
    assert refs.pin_level(ref) == refs.PinLevel[level], f"{ref} is {level}"


def test_pin_levels_compare_weakest_first() -> None:
    levels = [
        refs.PinLevel.UNPINNED,
        refs.PinLevel.FLOATING,
        refs.PinLevel.VERSION,
        refs.PinLevel.DIGEST,
    ]
    assert sorted(levels) == levels
    assert refs.pin_level("python:3.11.9") >= refs.PinLevel.VERSION


def test_pin_level_refuses_an_invalid_reference() -> None:
    with pytest.raises(refs.ImageRefError):
        refs.pin_level("Python:3.11.9")
