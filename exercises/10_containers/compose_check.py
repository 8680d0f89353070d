"""10.5 A compose validator: the Compose Specification's schema, then the lesson's rules (core).

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
from collections.abc import Iterator  # noqa: F401 - you will need it
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml  # noqa: F401 - you will need it

from .image_refs import ImageRefError, PinLevel, parse_image_ref, pin_level  # noqa: F401 - you will need it
from .twelve_factor import is_secret_name, password_in_url  # noqa: F401 - you will need it

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
    raise NotImplementedError("10.5: yaml.safe_load, and refuse what is not a mapping")


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
    raise NotImplementedError(
        "10.5: Draft7Validator(load_schema()).iter_errors, deepest error of each"
    )


# -- helpers the rules share ----------------------------------------------------------------


def dependencies(service: dict[str, Any]) -> dict[str, str | None]:
    """``{target: condition}`` for a service's ``depends_on``, in either form: the short list
    form (``[db, cache]``) has no condition (None); the long form's entry without
    ``condition`` means ``service_started``, as compose reads it."""
    raise NotImplementedError("10.5: {target: condition} from the list or the mapping form")


def one_shot_jobs(document: dict[str, Any]) -> set[str]:
    """The services that another service waits on with ``service_completed_successfully``:
    jobs that run once and exit (a migration), not servers."""
    raise NotImplementedError("10.5: the targets waited on with service_completed_successfully")


def has_healthcheck(service: dict[str, Any]) -> bool:
    """A healthcheck with a ``test`` that is neither disabled (``disable: true``) nor
    ``["NONE"]``."""
    raise NotImplementedError("10.5: a test that is not disabled and not NONE")


def profiles(service: dict[str, Any]) -> frozenset[str]:
    """The service's profiles; empty means "always started"."""
    raise NotImplementedError("10.5: the service's profiles as a frozenset")


def is_production(service: dict[str, Any]) -> bool:
    """Started in production: no profiles, or one profile that is not in DEV_PROFILES."""
    raise NotImplementedError("10.5: no profiles, or one outside DEV_PROFILES")


def environment(service: dict[str, Any]) -> dict[str, str | None]:
    """The service's ``environment`` as a dict, from either form: a mapping (values as
    strings, null -> None) or a list of ``KEY=value`` / ``KEY`` (None: taken from the host)."""
    raise NotImplementedError("10.5: a dict from the mapping or the KEY=value list form")


def is_safe_secret_value(value: str) -> bool:
    """True when a secret's value is read from the runner's environment and not written in the
    file: the whole value is one interpolation (``${JWT_SECRET}``, ``${JWT_SECRET:?set it}``,
    ``$JWT_SECRET``); a default (``${X:-...}``, ``${X-...}``) is allowed only when it starts
    with DEV_ONLY_PREFIX, so it says it is not for production."""
    raise NotImplementedError("10.5: one interpolation; a default only if dev-only")


# -- the rules ------------------------------------------------------------------------------


def healthcheck_findings(document: dict[str, Any]) -> list[Finding]:
    """Every service that is not a one-shot job has a healthcheck (``has_healthcheck``):
    without one, nothing can wait for it to be ready. Path ``services.<name>``."""
    raise NotImplementedError("10.5: every service but one-shot jobs has a healthcheck")


def depends_on_findings(document: dict[str, Any]) -> list[Finding]:
    """Every dependency waits for something that means "ready":

    - the target is a service of the file ("no such service" otherwise);
    - the condition is ``service_healthy`` or ``service_completed_successfully``: the short
      list form and ``service_started`` only wait until the container has started;
    - a ``service_healthy`` target has a healthcheck (``has_healthcheck``), or compose would
      wait for ever.

    Path ``services.<name>.depends_on.<target>``.
    """
    raise NotImplementedError("10.5: every dependency waits for healthy or completed")


def one_shot_findings(document: dict[str, Any]) -> list[Finding]:
    """A one-shot job (``one_shot_jobs``) is not restarted when it exits: its ``restart`` is
    not ``always`` or ``unless-stopped``. Path ``services.<name>.restart``."""
    raise NotImplementedError("10.5: one-shot jobs do not restart")


def profiles_findings(document: dict[str, Any]) -> list[Finding]:
    """A dependency is started whenever its dependant is: a target with profiles must have
    every profile of its dependant (and the dependant must have at least one). A target with
    no profiles is always started. Path ``services.<name>.depends_on.<target>``."""
    raise NotImplementedError("10.5: a dependency has every profile of its dependant")


def ports_findings(document: dict[str, Any]) -> list[Finding]:
    """A database service (its image's ``name`` is in DATABASE_IMAGES) that runs in
    production (``is_production``) publishes no port: only other services on the compose
    network reach it. Path ``services.<name>.ports``."""
    raise NotImplementedError("10.5: no published database port in production")


def secrets_findings(document: dict[str, Any]) -> list[Finding]:
    """No secret value is written in the file. For each service's environment
    (``environment``): a variable with a secret name (``is_secret_name``) and a value, and
    any value with a password in a URL (``password_in_url``: the password is the value to
    judge), must pass ``is_safe_secret_value``. A variable without a value (taken from the
    host) is fine. Path ``services.<name>.environment.<VAR>``."""
    raise NotImplementedError("10.5: no secret value written in the file")


def images_findings(document: dict[str, Any]) -> list[Finding]:
    """A service that is not built here (no ``build``) names an image with a version tag or a
    digest (``pin_level(...) >= PinLevel.FLOATING``); a service with neither image nor build
    cannot start. Path ``services.<name>.image``."""
    raise NotImplementedError("10.5: images not built here have a version tag or a digest")


def volumes_findings(document: dict[str, Any]) -> list[Finding]:
    """A named volume a service mounts (``name:/path`` in the short form, ``type: volume``
    with ``source`` in the long form; a source that starts with ``.``, ``/``, ``~`` or ``$``
    is a bind mount) is declared under the top-level ``volumes``. Path
    ``services.<name>.volumes.<index>``."""
    raise NotImplementedError("10.5: named volumes are declared at the top level")


def check_compose(document: dict[str, Any]) -> list[Finding]:
    """The schema's findings when there are any (the rules assume a valid file); otherwise
    every rule's findings. Sorted."""
    raise NotImplementedError("10.5: the schema first; if it passes, every rule")
