"""Which PostgreSQL and Redis the lab uses, and starting its embedded ones when it must.

``JOURNEY_SERVICES`` decides:

``auto`` (the default)
    a URL from the environment (``JOURNEY_POSTGRES_URL``, ``JOURNEY_REDIS_URL``) wins; else the
    lab's embedded server when it is already running; else the default address (compose's ports)
    when something answers there; else the lab starts its embedded server for the command or test
    session that needs it, and stops it when that ends.
``embedded``
    always the embedded servers, on their own ports, even when other servers answer (CI proves
    them this way).
``external``
    never the embedded servers: a service that does not answer is skipped, with how to start it.

RabbitMQ has no embedded form: it always comes from its URL.

Who calls :func:`provide`: ``journey check`` and ``journey capstone up`` (through
:func:`provide_for_command`), and a pytest session after collection, for the services its selected
tests need (:class:`PytestHooks`). It exports the embedded servers' URLs and the services folder
to the process's environment, so the fixtures, the capstone's services and every child process
use the same servers, and restores the environment when it lets them go. :func:`describe` tells
``journey services status`` and ``journey doctor`` where each service comes from, starting nothing.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from journey.embedded import (
    DIR_ENV,
    EMBEDDABLE,
    HOST,
    TITLES,
    Acquired,
    EmbeddedError,
    acquire,
    release,
    server,
    services_dir,
    target_unavailable,
    usage,
)

if TYPE_CHECKING:
    import pytest

MODE_ENV = "JOURNEY_SERVICES"
MODES = ("auto", "embedded", "external")
_lock = threading.RLock()  # this process's bookkeeping below

# The fixtures that reach a service, for tests that use one without its marker.
FIXTURE_SERVICES = {
    "postgres_url": "postgres",
    "postgres_database": "postgres",
    "redis_space": "redis",
}

Say = Callable[[str], None]


class ModeError(ValueError):
    """JOURNEY_SERVICES has a value the lab does not know."""


def mode() -> str:
    """The value of JOURNEY_SERVICES: auto (the default), embedded or external."""
    value = os.environ.get(MODE_ENV, "").strip().lower() or "auto"
    if value not in MODES:
        raise ModeError(
            f"{MODE_ENV}={os.environ[MODE_ENV]!r} is not a mode the lab knows: use auto "
            "(the default), embedded (always the lab's own servers) or external (never them)."
        )
    return value


def mode_or_error() -> str:
    """The mode, or what is wrong with JOURNEY_SERVICES (for status lines that must not fail)."""
    try:
        return mode()
    except ModeError:
        return f"{os.environ.get(MODE_ENV)!r} (not a mode: use auto, embedded or external)"


# -- provide: what commands and test sessions call -------------------------------------------------

_held: dict[str, set[str]] = {}  # service -> owners in this process ("cli", "pytest-<id>")
_saved_env: dict[str, str | None] = {}
_failures: dict[str, str] = {}
_owners: list[str] = []  # pytest sessions in this process, innermost last
_sayers: list[Say] = []
_atexit_registered = False


def _default_say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _reason_to_embed(name: str, current: str) -> str | None:
    """Why this service should come from the embedded server now (None: leave it be):
    "forced", "running", or the default address at which nothing answers."""
    from journey import services

    if current == "external":
        return None
    if current == "embedded":
        return "forced"
    service = services.SERVICES[name]
    if os.environ.get(service.env_var):
        return None
    if server(name).running() is not None:
        return "running"
    if services.probe(name) is None:
        return None
    return _address(service.default_url)


def _address(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


def provide(
    names: Iterable[str], *, owner: str | None = None, say: Say | None = None
) -> dict[str, str]:
    """Starts (or joins) the embedded servers that these services need, as JOURNEY_SERVICES says.

    Exports each one's URL (and the services folder) to this process's environment, so the
    fixtures, the capstone and any child process use it; one line says so. They stay until
    :func:`release_owner` for ``owner`` (at the latest when the process exits). Returns the URLs
    of the embedded servers now in use. A server that does not start is reported in one line;
    its tests then skip (or fail under JOURNEY_REQUIRE_SERVICES=1) with the reason.
    """
    say = say or (_sayers[-1] if _sayers else _default_say)
    owner = owner or (_owners[-1] if _owners else "process")
    current = mode()
    wanted: list[tuple[str, str]] = []
    with _lock:
        for name in dict.fromkeys(names):
            if name not in EMBEDDABLE:
                continue
            if name in _held:
                _held[name].add(owner)
                continue
            if name in _failures:
                continue  # said once already; its tests skip with the reason
            reason = _reason_to_embed(name, current)
            if reason is not None:
                wanted.append((name, reason))
        got: list[tuple[Acquired, str]] = []
        for name, reason in wanted:
            try:
                acquired = acquire(name)
            except (EmbeddedError, OSError, subprocess.SubprocessError) as error:
                _failures[name] = str(error)
                say(f"The lab's embedded {TITLES[name]} did not start: {error}")
                continue
            _failures.pop(name, None)
            _export(name, acquired.url)
            _held[name] = {owner}
            for note in acquired.notes:
                say(f"{TITLES[name]}: {note}")
            got.append((acquired, reason))
        _register_atexit()
    if got:
        say(_summary(got, current))
    return {acquired.name: acquired.url for acquired, _ in got}


def _summary(got: list[tuple[Acquired, str]], current: str) -> str:
    def servers(items: list[Acquired]) -> str:
        return " and ".join(f"{TITLES[a.name]} ({HOST}:{a.port})" for a in items)

    started = [a for a, _ in got if a.started]
    joined = [a for a, _ in got if not a.started]
    parts = []
    if started:
        seconds = max(a.seconds for a in started)
        parts.append(f"started the lab's embedded {servers(started)} in {seconds:.1f}s")
    if joined:
        parts.append(f"using the lab's embedded {servers(joined)}, already running")
    text = "; ".join(parts)
    if current == "embedded":
        return f"{MODE_ENV}=embedded: {text}."
    silent = [reason for _, reason in got if reason not in ("forced", "running")]
    if silent:
        text = f"nothing answers at {', '.join(silent)}: {text}"
    return f"{text[0].upper()}{text[1:]} ({MODE_ENV}=external turns this off)."


def _export(name: str, url: str) -> None:
    from journey import services

    variable = services.SERVICES[name].env_var
    _saved_env.setdefault(variable, os.environ.get(variable))
    os.environ[variable] = url
    _saved_env.setdefault(DIR_ENV, os.environ.get(DIR_ENV))
    os.environ[DIR_ENV] = str(services_dir())


def _restore(variable: str) -> None:
    if variable not in _saved_env:
        return
    previous = _saved_env.pop(variable)
    if previous is None:
        os.environ.pop(variable, None)
    else:
        os.environ[variable] = previous


def release_owner(owner: str, say: Say | None = None) -> None:
    """``owner`` is done: each server nobody else in this process holds is released."""
    from journey import services

    say = say or _default_say
    with _lock:
        for name in list(_held):
            owners = _held[name]
            owners.discard(owner)
            if owners:
                continue
            del _held[name]
            try:
                release(name)
            except EmbeddedError as error:
                say(f"The lab's embedded {TITLES[name]} did not stop cleanly: {error}")
            _restore(services.SERVICES[name].env_var)
        if not _held:
            _restore(DIR_ENV)


def holding() -> bool:
    """Whether this process holds an embedded server that it must release before it ends."""
    with _lock:
        return bool(_held)


def release_all() -> None:
    with _lock:
        for owner in {owner for owners in _held.values() for owner in owners}:
            release_owner(owner)


def _register_atexit() -> None:
    global _atexit_registered
    if not _atexit_registered:
        atexit.register(_release_at_exit, os.getpid())
        _atexit_registered = True


def _release_at_exit(pid: int) -> None:
    if os.getpid() == pid:  # not in a forked child, which never started anything
        release_all()


def held() -> dict[str, set[str]]:
    """The services this process holds, and for whom (for tests and status)."""
    with _lock:
        return {name: set(owners) for name, owners in _held.items()}


def provide_for_command(names: Iterable[str], say: Say) -> None:
    """For a CLI command (`journey check`, `journey capstone up`): the embedded servers it needs,
    released when the command ends (its click context closes, or at the latest at exit)."""
    try:
        provide(names, owner="cli", say=say)
    except ModeError as error:
        say(str(error))
        raise SystemExit(2) from None
    with contextlib.suppress(ImportError, RuntimeError):
        import click

        context = click.get_current_context(silent=True)
        if context is not None:
            context.call_on_close(lambda: release_owner("cli", say))
    _stop_on_sigterm()


def _stop_on_sigterm() -> None:
    """SIGTERM ends the command the way Ctrl-C does, so its servers are stopped on the way out."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:

        def on_sigterm(signum: int, _frame: object) -> None:
            raise SystemExit(128 + signum)

        signal.signal(signal.SIGTERM, on_sigterm)


# -- pytest ---------------------------------------------------------------------------------------


class PytestHooks:
    """Registered by the lab's pytest plugin: after collection, the embedded servers that the
    selected tests need (by marker or fixture); at the end of the session, their release."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.owner = f"pytest-{id(config)}"
        _owners.append(self.owner)
        _sayers.append(self.say)

    def say(self, text: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            _default_say(text)
            return
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        quiet = capture.global_and_fixture_disabled() if capture else contextlib.nullcontext()
        with quiet:
            reporter.ensure_newline()
            reporter.write_line(text)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if session.config.option.collectonly:
            return
        needed: set[str] = set()
        for item in session.items:
            for name in EMBEDDABLE:
                if item.get_closest_marker(name) is not None:
                    needed.add(name)
            for fixture in getattr(item, "fixturenames", ()):
                if fixture in FIXTURE_SERVICES:
                    needed.add(FIXTURE_SERVICES[fixture])
        if needed:
            provide(sorted(needed), owner=self.owner, say=self.say)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.owner in _owners:
            _owners.remove(self.owner)
        if self.say in _sayers:
            _sayers.remove(self.say)
        release_owner(self.owner)


def register_pytest_hooks(config: pytest.Config) -> None:
    """Called from the lab's plugin's pytest_configure."""
    import pytest

    try:
        mode()
    except ModeError as error:
        raise pytest.UsageError(str(error)) from None
    config.pluginmanager.register(PytestHooks(config), f"journey-embedded-{id(config)}")


# -- what the lab uses: status, doctor, hints ------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    """Where a service comes from right now, without starting anything."""

    name: str
    kind: str  # embedded | environment | compose | own | on demand | missing
    url: str | None
    ok: bool
    detail: str


def _compose_runs(name: str) -> bool:
    """Whether compose.yaml's container for this service runs (asked of Docker, briefly)."""
    from journey.catalog import ROOT

    if shutil.which("docker") is None:
        return False
    try:
        found = subprocess.run(
            [
                "docker",
                "ps",
                "-q",
                "--filter",
                f"label=com.docker.compose.service={name}",
                "--filter",
                f"label=com.docker.compose.project.working_dir={ROOT}",
            ],
            capture_output=True,
            text=True,
            timeout=3,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return found.returncode == 0 and bool(found.stdout.strip())


def describe(name: str) -> Provider:
    """Whether the lab uses the learner's own server, compose's, an env URL's, or its own."""
    from journey import services

    service = services.SERVICES[name]
    title = TITLES[name]
    try:
        current = mode()
    except ModeError as error:
        return Provider(name, "missing", None, False, str(error))
    env_url = os.environ.get(service.env_var) or None
    if name in EMBEDDABLE:
        target = server(name)
        running = target.running()
        own_url = target.url(running.port) if running else None
        if running is not None and current != "external" and env_url in (None, own_url):
            return Provider(
                name,
                "embedded",
                own_url,
                True,
                f"reachable at {own_url}: the lab's embedded {title}, {usage(name)}",
            )
        if current == "embedded":
            if target.binary() is None:
                return Provider(name, "missing", None, False, target_unavailable(name))
            return Provider(
                name,
                "on demand",
                None,
                True,
                f"{MODE_ENV}=embedded: the lab's embedded {title} starts when a check or test "
                "needs it (or now: `uv run journey services up`)",
            )
    problem = services.probe(name)
    url = services.redact(service.url)
    if env_url:
        if problem is None:
            return Provider(
                name, "environment", env_url, True, f"reachable at {url}, from {service.env_var}"
            )
        return Provider(name, "missing", env_url, False, f"{service.hint()} ({problem})")
    if problem is None:
        if _compose_runs(name):
            return Provider(
                name, "compose", service.url, True, f"reachable at {url}: compose.yaml's container"
            )
        return Provider(name, "own", service.url, True, f"reachable at {url}: your own server")
    if name in EMBEDDABLE and current == "auto":
        if server(name).binary() is None:
            return Provider(
                name,
                "missing",
                None,
                False,
                f"{service.hint()} ({problem}); {target_unavailable(name)}",
            )
        return Provider(
            name,
            "on demand",
            None,
            True,
            f"nothing answers at {_address(service.default_url)}: the lab starts its embedded "
            f"{title} when a check or test needs it (or now: `uv run journey services up`)",
        )
    return Provider(name, "missing", None, False, f"{service.hint()} ({problem})")


def doctor_verdict(name: str) -> tuple[bool, str]:
    """`journey doctor`'s line for a service: (ok, what it says)."""
    found = describe(name)
    return found.ok, found.detail


def other_ways(name: str) -> str:
    """What a skip message adds to "start it with docker compose": the ways without Docker.
    Short: `journey check` shows a skip's first 300 characters."""
    title = TITLES.get(name, name)
    if name not in EMBEDDABLE:
        return f" No Docker? Your system's {name}-server package ({title} has no embedded form)."
    if name in _failures:
        reason = _failures[name].splitlines()[0]
        return f" The lab's embedded {title} did not start: {reason[:160]}"
    try:
        current = mode()
    except ModeError as error:
        return f" {error}"
    if current == "external":
        return (
            f" Or `uv run journey services up` ({MODE_ENV}=external keeps the lab from starting "
            "it by itself)."
        )
    return ""  # a URL was set on purpose: it is the one to fix
