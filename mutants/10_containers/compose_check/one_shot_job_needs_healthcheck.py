"""Asks a one-shot job for a healthcheck.

10.5 A compose validator: the Compose Specification's schema, then the lesson's rules (core).

Two stages. First the file must be a Compose file at all: the Compose Specification publishes
a JSON schema (vendored in ``lessons/10_containers/compose-spec/``), and ``jsonschema``
validates the loaded YAML against it - a misspelt key, a port as a list of lists, an unknown
``condition`` are caught here. Then the lesson's rules, which a valid file can still break:
a dependency that does not wait for its target to be healthy, a database published to the
world, a password written in the file.

This module uses your 10.1 (``is_secret_name``, ``password_in_url``) and 10.2
(``pin_level``): finish those first.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .image_refs import ImageRefError, PinLevel, parse_image_ref, pin_level
from .twelve_factor import is_secret_name, password_in_url

# The vendored schema, found from this file up to the lab's root (given).
SCHEMA_PATH = (
    next(p for p in Path(__file__).resolve().parents if (p / "lessons").is_dir())
    / "lessons"
    / "10_containers"
    / "compose-spec"
    / "compose-spec.json"
)
RULES = (
    "schema",
    "healthcheck",
    "depends-on",
    "one-shot",
    "profiles",
    "ports",
    "secrets",
    "images",
    "volumes",
)
# Images whose service holds data: never published to the host in production.
DATABASE_IMAGES = frozenset(
    {"postgres", "mysql", "mariadb", "mongo", "redis", "valkey", "rabbitmq", "memcached"}
)
# Profiles for a developer's machine; any other profile (and no profile at all) is production.
DEV_PROFILES = frozenset({"dev", "debug", "test", "tools"})
WAITING_CONDITIONS = frozenset({"service_healthy", "service_completed_successfully"})
RESTARTING_POLICIES = frozenset({"always", "unless-stopped"})
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}, $VAR
INTERPOLATION = re.compile(r"\$\{(?P<var>\w+)(?:(?P<op>:?[-?])(?P<rest>[^}]*))?\}|\$(?P<bare>\w+)")
DEV_ONLY_PREFIX = "dev-only"


class ComposeError(ValueError):
    """The text is not YAML holding a mapping; the message says where."""


@dataclass(frozen=True, order=True)
class Finding:
    """A problem: where (a dotted path such as ``services.orders.depends_on.redis``; empty
    for the whole file), which rule (one of RULES), and what to do."""

    path: str
    rule: str
    message: str


def load_compose(text: str) -> dict[str, Any]:
    """The compose file as a dict: ``yaml.safe_load`` (which resolves anchors and ``<<``
    merge keys). Raises ComposeError when the YAML does not parse (the message contains the
    YAML error, which has the line) or does not hold a mapping ("mapping")."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ComposeError(f"not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise ComposeError("a compose file is a mapping (services:, volumes:, ...)")
    return document


@functools.cache
def load_schema() -> dict[str, Any]:
    """The Compose Specification's JSON schema from SCHEMA_PATH (given)."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def schema_findings(document: dict[str, Any]) -> list[Finding]:
    """Every error ``jsonschema.Draft7Validator(load_schema())`` finds (``iter_errors``), as
    Finding(path, "schema", message), sorted.

    An error of a ``oneOf``/``anyOf`` ("is not valid under any of the given schemas") hides
    the useful one in its ``context``: report the deepest error of that tree instead (the one
    with the longest ``absolute_path``; the first of those in order of ``context`` when several
    are as deep). path is that error's ``absolute_path`` joined with dots
    (``services.web.depends_on.db.condition``; empty at the top), message its ``message``.
    """
    import jsonschema  # imported here: it takes a while, and only this function needs it

    validator = jsonschema.Draft7Validator(load_schema())
    findings = []
    for error in validator.iter_errors(document):
        deepest = _deepest(error)
        path = ".".join(str(part) for part in deepest.absolute_path)
        findings.append(Finding(path, "schema", deepest.message))
    return sorted(findings)


def _deepest(error: Any) -> Any:
    """The error with the longest path in the tree under ``error`` (``error`` included)."""
    best = error
    for child in error.context or ():
        candidate = _deepest(child)
        if len(candidate.absolute_path) > len(best.absolute_path):
            best = candidate
    return best


# -- helpers the rules share ----------------------------------------------------------------


def _services(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = document.get("services") or {}
    return {name: svc or {} for name, svc in services.items()}


def dependencies(service: dict[str, Any]) -> dict[str, str | None]:
    """``{target: condition}`` for a service's ``depends_on``, in either form: the short list
    form (``[db, cache]``) has no condition (None); the long form's entry without
    ``condition`` means ``service_started``, as compose reads it."""
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        return dict.fromkeys(depends)
    return {
        target: (spec or {}).get("condition", "service_started") for target, spec in depends.items()
    }


def one_shot_jobs(document: dict[str, Any]) -> set[str]:
    """The services that another service waits on with ``service_completed_successfully``:
    jobs that run once and exit (a migration), not servers."""
    return {
        target
        for service in _services(document).values()
        for target, condition in dependencies(service).items()
        if condition == "service_completed_successfully"
    }


def has_healthcheck(service: dict[str, Any]) -> bool:
    """A healthcheck with a ``test`` that is neither disabled (``disable: true``) nor
    ``["NONE"]``."""
    check = service.get("healthcheck") or {}
    test = check.get("test")
    if check.get("disable") or not test:
        return False
    return not (isinstance(test, list) and test and str(test[0]).upper() == "NONE")


def profiles(service: dict[str, Any]) -> frozenset[str]:
    """The service's profiles; empty means "always started"."""
    return frozenset(service.get("profiles") or ())


def is_production(service: dict[str, Any]) -> bool:
    """Started in production: no profiles, or one profile that is not in DEV_PROFILES."""
    mine = profiles(service)
    return not mine or bool(mine - DEV_PROFILES)


def environment(service: dict[str, Any]) -> dict[str, str | None]:
    """The service's ``environment`` as a dict, from either form: a mapping (values as
    strings, null -> None) or a list of ``KEY=value`` / ``KEY`` (None: taken from the host)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.partition("=") for item in map(str, env))
        return {key: value if equals else None for key, equals, value in pairs}
    return {str(k): None if v is None else str(v) for k, v in env.items()}


def is_safe_secret_value(value: str) -> bool:
    """True when a secret's value is read from the runner's environment and not written in the
    file: the whole value is one interpolation (``${JWT_SECRET}``, ``${JWT_SECRET:?set it}``,
    ``$JWT_SECRET``); a default (``${X:-...}``, ``${X-...}``) is allowed only when it starts
    with DEV_ONLY_PREFIX, so it says it is not for production."""
    match = INTERPOLATION.fullmatch(value.strip())
    if not match:
        return False
    op = match["op"] or ""
    return not op.endswith("-") or (match["rest"] or "").startswith(DEV_ONLY_PREFIX)


def _volume_sources(service: dict[str, Any]) -> Iterator[tuple[int, str]]:
    for n, volume in enumerate(service.get("volumes") or []):
        if isinstance(volume, str):
            source, colon, _ = volume.partition(":")
            if colon:
                yield n, source
        elif (
            isinstance(volume, dict)
            and volume.get("type", "volume") == "volume"
            and volume.get("source")
        ):
            yield n, str(volume["source"])


def _is_named_volume(source: str) -> bool:
    return not source.startswith((".", "/", "~", "$"))


# -- the rules ------------------------------------------------------------------------------


def healthcheck_findings(document: dict[str, Any]) -> list[Finding]:
    """Every service that is not a one-shot job has a healthcheck (``has_healthcheck``):
    without one, nothing can wait for it to be ready. Path ``services.<name>``."""
    return [
        Finding(
            f"services.{name}",
            "healthcheck",
            f"{name} has no healthcheck: nothing can "
            "wait until it is ready; probe a readiness route or a client command",
        )
        for name, service in _services(document).items()
        if not has_healthcheck(service)
    ]


def depends_on_findings(document: dict[str, Any]) -> list[Finding]:
    """Every dependency waits for something that means "ready":

    - the target is a service of the file ("no such service" otherwise);
    - the condition is ``service_healthy`` or ``service_completed_successfully``: the short
      list form and ``service_started`` only wait until the container has started;
    - a ``service_healthy`` target has a healthcheck (``has_healthcheck``), or compose would
      wait for ever.

    Path ``services.<name>.depends_on.<target>``.
    """
    services = _services(document)
    findings: list[Finding] = []
    for name, service in services.items():
        for target, condition in dependencies(service).items():
            path = f"services.{name}.depends_on.{target}"
            if target not in services:
                findings.append(
                    Finding(path, "depends-on", f"{name} depends on {target}: no such service")
                )
            elif condition not in WAITING_CONDITIONS:
                findings.append(
                    Finding(
                        path,
                        "depends-on",
                        (
                            f"{name} waits only until {target} has started, not until it is ready: "
                            "use condition: service_healthy (or service_completed_successfully "
                            "for a one-shot job)"
                        ),
                    )
                )
            elif condition == "service_healthy" and not has_healthcheck(services[target]):
                findings.append(
                    Finding(
                        path,
                        "depends-on",
                        (
                            f"{name} waits for {target} to be healthy, but {target} has no "
                            "healthcheck: it never will be"
                        ),
                    )
                )
    return findings


def one_shot_findings(document: dict[str, Any]) -> list[Finding]:
    """A one-shot job (``one_shot_jobs``) is not restarted when it exits: its ``restart`` is
    not ``always`` or ``unless-stopped``. Path ``services.<name>.restart``."""
    services = _services(document)
    return [
        Finding(
            f"services.{name}.restart",
            "one-shot",
            f"{name} is a one-shot job but "
            f"restart: {services[name].get('restart')} runs it again and again",
        )
        for name in sorted(one_shot_jobs(document))
        if name in services and services[name].get("restart") in RESTARTING_POLICIES
    ]


def profiles_findings(document: dict[str, Any]) -> list[Finding]:
    """A dependency is started whenever its dependant is: a target with profiles must have
    every profile of its dependant (and the dependant must have at least one). A target with
    no profiles is always started. Path ``services.<name>.depends_on.<target>``."""
    services = _services(document)
    findings: list[Finding] = []
    for name, service in services.items():
        for target in dependencies(service):
            if target not in services:
                continue
            needed, available = profiles(service), profiles(services[target])
            if available and (not needed or not needed <= available):
                findings.append(
                    Finding(
                        f"services.{name}.depends_on.{target}",
                        "profiles",
                        (
                            f"{name} can start without {target}: {target} is only in the profiles "
                            f"{sorted(available)}; give it every profile of {name}"
                        ),
                    )
                )
    return findings


def ports_findings(document: dict[str, Any]) -> list[Finding]:
    """A database service (its image's ``name`` is in DATABASE_IMAGES) that runs in
    production (``is_production``) publishes no port: only other services on the compose
    network reach it. Path ``services.<name>.ports``."""
    findings: list[Finding] = []
    for name, service in _services(document).items():
        image = service.get("image")
        if not image or not service.get("ports") or not is_production(service):
            continue
        try:
            is_database = parse_image_ref(str(image)).name in DATABASE_IMAGES
        except ImageRefError:
            continue
        if is_database:
            findings.append(
                Finding(
                    f"services.{name}.ports",
                    "ports",
                    (
                        f"{name} publishes a database port in production: leave it on the compose "
                        "network, or move the published port to a dev profile"
                    ),
                )
            )
    return findings


def secrets_findings(document: dict[str, Any]) -> list[Finding]:
    """No secret value is written in the file. For each service's environment
    (``environment``): a variable with a secret name (``is_secret_name``) and a value, and
    any value with a password in a URL (``password_in_url``: the password is the value to
    judge), must pass ``is_safe_secret_value``. A variable without a value (taken from the
    host) is fine. Path ``services.<name>.environment.<VAR>``."""
    findings: list[Finding] = []
    for name, service in _services(document).items():
        for key, value in environment(service).items():
            if value is None:
                continue
            judged = [value] if is_secret_name(key) else []
            password = password_in_url(value)
            if password is not None:
                judged.append(password)
            if any(not is_safe_secret_value(v) for v in judged):
                findings.append(
                    Finding(
                        f"services.{name}.environment.{key}",
                        "secrets",
                        (
                            f"{key} of {name} writes a secret in the file: read it from the "
                            "environment (${"
                            + key
                            + ":?set it}) or use compose secrets; a default "
                            f"must start with {DEV_ONLY_PREFIX!r}"
                        ),
                    )
                )
    return findings


def images_findings(document: dict[str, Any]) -> list[Finding]:
    """A service that is not built here (no ``build``) names an image with a version tag or a
    digest (``pin_level(...) >= PinLevel.FLOATING``); a service with neither image nor build
    cannot start. Path ``services.<name>.image``."""
    findings: list[Finding] = []
    for name, service in _services(document).items():
        if "build" in service:
            continue
        image = service.get("image")
        path = f"services.{name}.image"
        if not image:
            findings.append(Finding(path, "images", f"{name} has neither image nor build"))
            continue
        try:
            level = pin_level(str(image))
        except ImageRefError:
            level = PinLevel.UNPINNED
        if level < PinLevel.FLOATING:
            findings.append(
                Finding(
                    path,
                    "images",
                    (f"{name} runs {image}: give it a version tag (postgres:16.6) or a digest"),
                )
            )
    return findings


def volumes_findings(document: dict[str, Any]) -> list[Finding]:
    """A named volume a service mounts (``name:/path`` in the short form, ``type: volume``
    with ``source`` in the long form; a source that starts with ``.``, ``/``, ``~`` or ``$``
    is a bind mount) is declared under the top-level ``volumes``. Path
    ``services.<name>.volumes.<index>``."""
    declared = set((document.get("volumes") or {}).keys())
    return [
        Finding(
            f"services.{name}.volumes.{index}",
            "volumes",
            (f"{name} mounts the volume {source!r}, which the top-level volumes: does not declare"),
        )
        for name, service in _services(document).items()
        for index, source in _volume_sources(service)
        if _is_named_volume(source) and source not in declared
    ]


_CHECKS = (
    healthcheck_findings,
    depends_on_findings,
    one_shot_findings,
    profiles_findings,
    ports_findings,
    secrets_findings,
    images_findings,
    volumes_findings,
)


def check_compose(document: dict[str, Any]) -> list[Finding]:
    """The schema's findings when there are any (the rules assume a valid file); otherwise
    every rule's findings. Sorted."""
    found = schema_findings(document)
    if found:
        return found
    return sorted(finding for check in _CHECKS for finding in check(document))
