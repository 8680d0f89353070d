"""Runs the whole shop as local processes: ``journey capstone up`` and the tests use this.

For each service: create its database if missing, ``python -m capstone.<service> migrate``, then
``python -m capstone.<service> serve`` with its environment (ports, URLs, database). The services
start in parallel; :meth:`Capstone.wait_ready` polls every ``/health/ready`` (and inventory's gRPC
health service) until all answer or a deadline passes. Every child's output is streamed with its
name in front. :meth:`Capstone.stop` sends SIGTERM to every child, then SIGKILL to any still alive
after a deadline, so no process is left behind (lessons 10 and 12).

Replicas: catalog, orders and notifier can run as several instances each (``Config.replicas``,
``journey capstone up --replicas catalog=2,orders=2``), every one on its own port. Each instance
registers itself in lesson 06's registry and the gateway balances over them; the first instance
of a service keeps the service's name (``catalog``), the others are numbered (``catalog-2``).
Every notifier instance reads the stream in the one consumer group under a name of its own.

Secrets: the services refuse to start without a random ``JWT_SECRET`` and ``INTERNAL_TOKEN``. A
:class:`Config` makes fresh ones unless it is given some; ``journey capstone up`` gives it the
ones it keeps in :func:`secrets_file` (made once per installation, outside the repository, mode
0600), so tokens stay valid across restarts. They never appear in the runner's output.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit, urlunsplit

from capstone.pieces import MINE_ENV

if TYPE_CHECKING:
    import psycopg

SERVICES = ("inventory", "catalog", "orders", "notifier", "gateway")
HTTP_SERVICES = ("gateway", "catalog", "orders", "notifier")
# the services the gateway finds through the registry: they may run as several instances
SCALABLE = ("catalog", "orders", "notifier")
MAX_REPLICAS = 8
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
SECRET_NAMES = ("JWT_SECRET", "INTERNAL_TOKEN")


class StartupError(RuntimeError):
    """A service did not migrate, start or become ready in time."""


def parse_replicas(text: str) -> dict[str, int]:
    """``"catalog=2,orders=3"`` as ``{"catalog": 2, "orders": 3}``; a ValueError that says what
    is wrong with anything else (a service that cannot scale, a count that is no whole number
    from 1 to MAX_REPLICAS, a service named twice)."""
    counts: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        service, sep, count = (x.strip() for x in part.partition("="))
        if not sep:
            raise ValueError(f"{part!r}: write SERVICE=COUNT, e.g. catalog=2")
        if service not in SCALABLE:
            scalable = ", ".join(SCALABLE)
            raise ValueError(f"{service!r} cannot run as several instances; these can: {scalable}")
        if service in counts:
            raise ValueError(f"{service} is given twice")
        if not count.isdigit() or not 1 <= int(count) <= MAX_REPLICAS:
            raise ValueError(
                f"{service}={count}: the count is a whole number from 1 to {MAX_REPLICAS}"
            )
        counts[service] = int(count)
    return counts


@dataclass(frozen=True)
class Instance:
    """One process of a service: the ``index``-th (from 1) instance, listening on ``port``."""

    service: str
    index: int
    port: int

    @property
    def name(self) -> str:
        """``catalog`` for the first instance, ``catalog-2`` for the second."""
        return self.service if self.index == 1 else f"{self.service}-{self.index}"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` different free ports. Each socket stays bound until all are chosen: one bound
    and closed at a time, the system may hand out the same port twice (two services on one
    port, and the runner taking one for the other when it checks readiness)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((host, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


@dataclass
class Ports:
    gateway: int = 8000
    catalog: int = 8001
    orders: int = 8002
    notifier: int = 8003
    inventory: int = 50051
    inventory_metrics: int = 9101

    @classmethod
    def free(cls, host: str = "127.0.0.1") -> Ports:
        return cls(*free_ports(6, host))


@dataclass
class Config:
    """Where everything listens and which databases, keys and stream it uses."""

    host: str = "127.0.0.1"
    ports: Ports = field(default_factory=Ports)
    db_prefix: str = "shop"
    key_prefix: str = "shop"
    events_stream: str = "orders.events"
    postgres_url: str = field(
        default_factory=lambda: os.environ.get("JOURNEY_POSTGRES_URL") or DEFAULT_POSTGRES
    )
    redis_url: str = field(
        default_factory=lambda: os.environ.get("JOURNEY_REDIS_URL") or DEFAULT_REDIS
    )
    log_level: str = "INFO"
    env: dict[str, str] = field(default_factory=dict)  # extra settings for every service
    # the exercise ids of the pieces that run as the learner's (capstone.pieces); the rest are
    # the reference solutions
    mine: tuple[str, ...] = ()
    # fresh random secrets unless given (``journey capstone up`` gives the kept ones)
    jwt_secret: str = field(default_factory=lambda: new_secret(), repr=False)
    internal_token: str = field(default_factory=lambda: new_secret(), repr=False)
    # instances per service (SCALABLE only); one of each unless given
    replicas: dict[str, int] = field(default_factory=dict)
    # the ports of the second and later instances: free ones, chosen when the config is made
    extra_ports: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if unknown := set(self.replicas) - set(SCALABLE):
            raise ValueError(f"{sorted(unknown)} cannot run as several instances ({SCALABLE})")
        extra = {s: n - 1 for s, n in self.replicas.items() if n > 1}
        missing = {s: n for s, n in extra.items() if len(self.extra_ports.get(s, [])) < n}
        if missing:
            ports = iter(free_ports(sum(missing.values()), self.host))
            for service, count in missing.items():
                self.extra_ports[service] = [next(ports) for _ in range(count)]

    def instances(self, service: str) -> list[Instance]:
        """Every instance of ``service``: the first on its port in ``ports``, then the others."""
        first = getattr(self.ports, service)
        count = self.replicas.get(service, 1)
        extra = self.extra_ports.get(service, [])[: count - 1]
        return [Instance(service, i, port) for i, port in enumerate([first, *extra], start=1)]

    def all_instances(self, services: Iterable[str] = SERVICES) -> list[Instance]:
        return [instance for service in services for instance in self.instances(service)]

    def instance(self, name: str) -> Instance:
        """The instance called ``name`` (``orders``, ``orders-2``)."""
        for instance in self.all_instances():
            if instance.name == name:
                return instance
        raise KeyError(f"no instance {name!r}")

    def database_name(self, service: str) -> str:
        return f"{self.db_prefix}_{service}"

    def database_url(self, service: str) -> str:
        parts = urlsplit(self.postgres_url)
        url = urlunsplit(parts._replace(path=f"/{self.database_name(service)}"))
        return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url)

    def url(self, name: str) -> str:
        """The HTTP address of a service's first instance, or of the instance ``name``."""
        port = self.ports.inventory_metrics if name == "inventory" else self.instance(name).port
        return f"http://{self.host}:{port}"

    @property
    def inventory_target(self) -> str:
        return f"{self.host}:{self.ports.inventory}"

    def env_for(self, service: str, index: int = 1) -> dict[str, str]:
        """The environment of the ``index``-th instance of ``service``."""
        # Bytecode caches are written even where PYTHONDONTWRITEBYTECODE is set: a service imports
        # FastAPI, SQLAlchemy, redis and more, and compiling them from source again on every start
        # cost ~3.5 s of CPU per service (a shop ready in ~20 s instead of ~7 s).
        inherited = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env = {
            **inherited,
            "PYTHONUNBUFFERED": "1",
            "SERVICE_HOST": self.host,
            "SERVICE_PORT": str(self.instances(service)[index - 1].port),
            "LOG_LEVEL": self.log_level,
            "DATABASE_URL": self.database_url(service),
            "REDIS_URL": self.redis_url,
            "KEY_PREFIX": self.key_prefix,
            "EVENTS_STREAM": self.events_stream,
            # no CATALOG_URL, ORDERS_URL, NOTIFIER_URL: the gateway finds them in the registry
            "INVENTORY_TARGET": self.inventory_target,
            "METRICS_PORT": str(self.ports.inventory_metrics),
            "JWT_SECRET": self.jwt_secret,
            "INTERNAL_TOKEN": self.internal_token,
            # always set, so a CAPSTONE_MINE left in the caller's shell changes nothing
            MINE_ENV: ",".join(self.mine),
        }
        if service == "notifier":  # one consumer group, a consumer name per instance
            env["CONSUMER_NAME"] = f"notifier-{index}"
        env.update(self.env)
        if env.get("TRACE_FILE"):  # the services run in the repository root, not where we are
            env["TRACE_FILE"] = str(Path(env["TRACE_FILE"]).resolve())
        return env


def new_secret() -> str:
    """32 random bytes, URL-safe (the same as capstone.common.secrets.new_secret, without
    importing pydantic into the runner)."""
    return secrets.token_urlsafe(32)


def secrets_file() -> Path:
    """Where ``journey capstone up`` keeps this installation's secrets: the user's data
    directory, never the repository."""
    try:
        from platformdirs import user_data_dir
    except ImportError:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
        return base / "python-learning-journey" / "capstone.env"
    return Path(user_data_dir("python-learning-journey")) / "capstone.env"


def load_or_create_secrets(path: Path) -> dict[str, str]:
    """The secrets kept in ``path`` (``NAME=value`` lines); the missing ones are generated and
    written once, readable by the user only (0600, set before anything is written)."""
    kept: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and name.strip() in SECRET_NAMES and value.strip():
                kept[name.strip()] = value.strip()
    if all(name in kept for name in SECRET_NAMES):
        return kept
    for name in SECRET_NAMES:
        kept.setdefault(name, new_secret())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # also when the file existed with wider permissions
    with os.fdopen(descriptor, "w") as out:
        out.write("# secrets of the local capstone shop: made by `journey capstone up`\n")
        out.writelines(f"{name}={kept[name]}\n" for name in SECRET_NAMES)
    return kept


def _pg_admin(url: str) -> psycopg.Connection[tuple[Any, ...]]:
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=5)


def _quiet(_: str) -> None:
    """The default progress reporter: tests and the bench start the shop without a word."""


class Capstone:
    """The five services as child processes of this one (one process per instance), each known
    by its instance's name: ``catalog``, ``catalog-2``..."""

    def __init__(self, config: Config, output: TextIO | None = None) -> None:
        self.config = config
        self.output = output or sys.stdout
        self.processes: dict[str, subprocess.Popen[str]] = {}
        self.tails: defaultdict[str, deque[str]] = defaultdict(lambda: deque(maxlen=40))
        self._write_lock = threading.Lock()

    # -- databases and Redis ----------------------------------------------------------------

    def create_databases(self) -> None:
        from psycopg import sql

        with _pg_admin(self.config.postgres_url) as conn:
            existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
            for service in SERVICES:
                name = self.config.database_name(service)
                if name not in existing:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop_databases(self) -> None:
        from psycopg import sql

        with _pg_admin(self.config.postgres_url) as conn:
            for service in SERVICES:
                name = self.config.database_name(service)
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )

    def clear_redis(self) -> None:
        """Deletes the stream, its dead letters and every key under the key prefix."""
        import redis

        client = redis.Redis.from_url(self.config.redis_url)
        try:
            stale = [self.config.events_stream, f"{self.config.events_stream}.dead"]
            stale += list(client.scan_iter(match=f"{self.config.key_prefix}:*", count=500))
            client.delete(*stale)
        finally:
            client.close()

    # -- processes --------------------------------------------------------------------------

    def _spawn(self, instance: Instance, command: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", f"capstone.{instance.service}", command],
            cwd=ROOT,
            env=self.config.env_for(instance.service, instance.index),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            start_new_session=True,  # Ctrl-C reaches the runner only; it stops the children
        )
        threading.Thread(
            target=self._pump,
            args=(instance.name, process),
            daemon=True,
            name=f"log-{instance.name}",
        ).start()
        return process

    def _pump(self, name: str, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.tails[name].append(line.rstrip())
            with self._write_lock:
                self.output.write(f"{name:<9} | {line}")
                self.output.flush()

    def migrate(self, services: Iterable[str] = SERVICES) -> None:
        """Each service's ``migrate`` (Alembic ``upgrade head``), run in this process.

        The same function as ``python -m capstone.<service> migrate``, called directly: one
        import of Alembic instead of five interpreters, which keeps start-up short."""
        from capstone.common.db import migrate

        for service in services:
            try:
                migrate(
                    ROOT / "capstone" / service / "migrations", self.config.database_url(service)
                )
            except Exception as error:
                raise StartupError(f"{service}: migrate failed: {error!r}") from error

    def start(self, services: Iterable[str] = SERVICES) -> None:
        """Starts the processes of every instance of the services, all at once."""
        for instance in self.config.all_instances(services):
            self.processes[instance.name] = self._spawn(instance, "serve")

    def names(self, services: Iterable[str] = SERVICES) -> list[str]:
        """The instances' names: ``inventory, catalog, catalog-2, orders...``."""
        return [instance.name for instance in self.config.all_instances(services)]

    def up(self, timeout: float = 30.0, say: Callable[[str], None] = _quiet) -> float:
        """Databases, migrations, processes, readiness, each step told to ``say`` as it begins
        (the first start of a fresh machine takes a while: the learner sees what it waits on).
        Returns the seconds it took."""
        started = time.monotonic()
        say(f"creating the databases that are missing: {self.config.database_name('<service>')}")
        self.create_databases()
        for service in SERVICES:
            say(f"migrating {service} (alembic upgrade head)")
            self.migrate([service])
        try:
            say(f"starting {', '.join(self.names())}")
            self.start()
            say("waiting until every service answers ready")
            self.wait_ready(
                self.names(),
                timeout=max(1.0, timeout - (time.monotonic() - started)),
                on_ready=lambda service: say(f"{service} is ready"),
            )
        except BaseException:
            self.stop()
            raise
        return time.monotonic() - started

    def _is_ready(self, name: str) -> bool:
        import httpx

        try:
            reply = httpx.get(f"{self.config.url(name)}/health/ready", timeout=1.0)
        except httpx.HTTPError:
            return False
        if reply.status_code != 200:
            return False
        return name != "inventory" or self._grpc_serving()

    def _grpc_serving(self) -> bool:
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        with grpc.insecure_channel(self.config.inventory_target) as channel:
            try:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=""), timeout=1.0
                )
            except grpc.RpcError:
                return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    def wait_ready(
        self,
        names: Iterable[str] | None = None,
        timeout: float = 30.0,
        on_ready: Callable[[str], None] = _quiet,
    ) -> None:
        """Waits until each instance named (every instance by default) answers ready."""
        waiting = list(self.names() if names is None else names)
        deadline = time.monotonic() + timeout
        while waiting:
            for service in list(waiting):
                process = self.processes.get(service)
                if process is None or process.poll() is not None:
                    code = None if process is None else process.returncode
                    raise StartupError(self._explain({service: f"exited with {code}"}))
                if self._is_ready(service):
                    waiting.remove(service)
                    on_ready(service)
            if waiting and time.monotonic() > deadline:
                reasons = dict.fromkeys(waiting, f"not ready after {timeout:.0f}s")
                raise StartupError(self._explain(reasons))
            if waiting:
                time.sleep(0.1)

    def _explain(self, reasons: dict[str, str]) -> str:
        parts = []
        for service, reason in reasons.items():
            tail = "\n".join(f"    {line}" for line in list(self.tails[service])[-15:])
            parts.append(f"{service}: {reason}\n{tail}")
        return "\n".join(parts)

    def kill(self, name: str, sig: int = signal.SIGKILL, timeout: float = 10.0) -> int:
        """Sends a signal to one instance (``orders``, ``orders-2``) and waits until it has
        exited."""
        process = self.processes[name]
        process.send_signal(sig)
        return process.wait(timeout=timeout)

    def restart(self, name: str, timeout: float = 30.0) -> None:
        """Starts one instance again (after :meth:`kill`) and waits until it is ready."""
        self.processes[name] = self._spawn(self.config.instance(name), "serve")
        self.wait_ready([name], timeout=timeout)

    def stop(self, timeout: float = 10.0) -> dict[str, int]:
        """SIGTERM to every child, SIGKILL to those still alive at the deadline; exit codes."""
        alive = {name: p for name, p in self.processes.items() if p.poll() is None}
        for process in alive.values():
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in alive.values():
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return {name: p.returncode for name, p in self.processes.items()}

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes.values()]

    def urls(self) -> dict[str, str]:
        urls = {name: self.config.url(name) for name in self.names(HTTP_SERVICES)}
        urls["inventory"] = f"grpc://{self.config.inventory_target}"
        urls["inventory metrics"] = f"{self.config.url('inventory')}/metrics"
        urls["api docs"] = f"{self.config.url('gateway')}/docs"
        return urls


def run_until_signal(
    config: Config, timeout: float = 30.0, say: Callable[[str], None] = print
) -> int:
    """``journey capstone up``: start, print the URLs, stream logs, stop on Ctrl-C or SIGTERM.

    A signal while the shop is still starting interrupts the start (which stops what it began);
    once it runs, a signal only sets an event and the main loop stops every service."""
    system = Capstone(config)
    running = threading.Event()
    stopping = threading.Event()

    def on_signal(signum: int, _: object) -> None:
        if stopping.is_set():
            return  # the first signal is enough (Ctrl-C may arrive twice, through `uv run`)
        stopping.set()
        if not running.is_set():
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            took = system.up(timeout=timeout, say=say)
        except StartupError as error:
            say(f"the shop did not start:\n{error}")
            return 1
        except KeyboardInterrupt:
            say("interrupted while starting; every service is stopped")
            return 130
        running.set()
        say(f"the shop is ready in {took:.1f}s:")
        for name, url in system.urls().items():
            say(f"  {name:<18} {url}")
        say("press Ctrl-C to stop")
        _watch(system, stopping, say)
        say("stopping...")
        codes = system.stop()
        say("stopped: " + ", ".join(f"{name} {code}" for name, code in codes.items()))
        return 0
    finally:
        system.stop()  # a no-op after a clean stop; after an error, no child outlives us
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _watch(system: Capstone, stopping: threading.Event, say: Callable[[str], None]) -> None:
    """Until a signal: report (once) any service that exits by itself."""
    reported: set[str] = set()
    while not stopping.wait(0.5):
        for name, process in system.processes.items():
            if name not in reported and process.poll() is not None:
                reported.add(name)
                say(f"{name} exited with {process.returncode}")


if __name__ == "__main__":
    sys.exit(run_until_signal(Config()))
