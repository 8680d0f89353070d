"""`journey capstone demo` against the running shop, `journey capstone up` end to end, and a
clean stop: no capstone process outlives the runner. Every test that stops a shop starts its own,
so these tests can run in any order, before or after the others."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from journey.pytest_plugin import require_service

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
ROOT = Path(__file__).resolve().parents[2]


def test_demo_passes_against_the_running_shop(shop):
    done = subprocess.run(
        [
            *(sys.executable, "-m", "journey.capstone_cli", "demo", "--gateway", shop.gateway),
            *("--db-prefix", shop.prefix),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"the demo should pass:\n{done.stdout}\n{done.stderr}"
    assert "PASS" in done.stdout
    flows = [int(n) for n in re.findall(r"^\[\d+\] flow (\d):", done.stdout, re.MULTILINE)]
    assert flows == [1, 2, 3, 4, 5, 6], f"the six flows, in the order CAPSTONE.md gives: {flows}"


def test_up_command_starts_and_stops_cleanly_on_sigterm(shop, find_capstone_pids, tmp_path):
    from capstone.runner import Capstone, Config

    prefix = f"shoptest_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    command = [
        sys.executable, "-m", "journey.capstone_cli", "up", "--free-ports",
        "--db-prefix", prefix, "--key-prefix", prefix, "--stream", f"{prefix}:orders.events",
        "--timeout", "45",  # the runner gives up by itself: reading its output cannot hang
        "--secrets-file", str(tmp_path / "capstone.env"),  # not the user's own
    ]  # fmt: skip
    runner = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    try:
        assert runner.stdout is not None
        started = time.monotonic()
        for line in runner.stdout:
            lines.append(line)
            if "ready in" in line or "did not start" in line:
                break
        took = time.monotonic() - started
        assert any("ready in" in line for line in lines), "".join(lines[-30:])
        assert took < 50
        said = [line.strip() for line in lines if "|" not in line]  # not a service's log line
        steps = ["creating the databases", "migrating inventory", "migrating gateway"]
        steps += ["starting inventory", "waiting until every service answers ready"]
        at = [next(i for i, line in enumerate(said) if line.startswith(s)) for s in steps]
        assert at == sorted(at), f"it says what it does, in order: {said}"
        assert sum(line.endswith(" is ready") for line in said) == 5, said
        assert any("pieces run as the reference solutions" in line for line in said), said
        runner.send_signal(signal.SIGTERM)
        rest, _ = runner.communicate(timeout=30)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
        leftover = Capstone(
            Config(db_prefix=prefix, key_prefix=prefix, events_stream=f"{prefix}:orders.events")
        )
        leftover.drop_databases()
        leftover.clear_redis()
    assert runner.returncode == 0, rest[-2000:]
    codes = rest.split("stopped: ")[-1].strip()
    assert codes.count(" 0") == 5, f"every service exits cleanly on SIGTERM: {codes}"
    assert find_capstone_pids(prefix) == [], "no capstone process outlives `journey capstone up`"


def test_stopping_the_runner_leaves_no_process(find_capstone_pids, tmp_path):
    """A shop of its own (the session's keeps running for the tests after this one)."""
    from capstone.runner import Capstone, Config, Ports

    postgres_url = require_service("postgres")
    redis_url = require_service("redis")
    prefix = f"shoptest_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    config = Config(
        ports=Ports.free(),
        db_prefix=prefix,
        key_prefix=prefix,
        events_stream=f"{prefix}:orders.events",
        postgres_url=postgres_url,
        redis_url=redis_url,
    )
    with (tmp_path / "services.log").open("w") as log:
        system = Capstone(config, output=log)
        try:
            system.up(timeout=60.0)
            assert len(find_capstone_pids(prefix)) == 5, "five services run"
            codes = system.stop(timeout=15)
            assert codes == dict.fromkeys(codes, 0), f"each service shuts down cleanly: {codes}"
            assert find_capstone_pids(prefix) == [], "no capstone process is left"
        finally:
            system.stop()
            system.drop_databases()
            system.clear_redis()


def _databases_named(prefix: str) -> set[str]:
    import psycopg

    with psycopg.connect(require_service("postgres"), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix + "%",)
        )
        return {row[0] for row in rows}


def test_reset_asks_then_drops_the_databases_keys_and_stream():
    import redis

    from capstone.runner import Capstone, Config

    prefix = f"shoptest_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    stream = f"{prefix}:orders.events"
    config = Config(db_prefix=prefix, key_prefix=prefix, events_stream=stream)
    system = Capstone(config)
    system.create_databases()
    client = redis.Redis.from_url(require_service("redis"))
    try:
        client.set(f"{prefix}:product:1", "cached")
        client.xadd(stream, {"event": "order.placed"})
        options = ["--db-prefix", prefix, "--key-prefix", prefix, "--stream", stream]

        def reset(*extra: str, answer: str = "") -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "journey.capstone_cli", "reset", *options, *extra],
                cwd=ROOT, input=answer, capture_output=True, text=True, timeout=60,
            )  # fmt: skip

        declined = reset(answer="n\n")
        assert declined.returncode == 1, declined.stdout + declined.stderr
        assert "nothing deleted" in declined.stdout
        assert len(_databases_named(prefix)) == 5, "a 'no' keeps every database"
        assert client.exists(f"{prefix}:product:1", stream) == 2, "and every key"

        done = reset("--yes")
        assert done.returncode == 0, done.stdout + done.stderr
        assert _databases_named(prefix) == set()
        assert client.exists(f"{prefix}:product:1", stream) == 0
    finally:
        system.drop_databases()
        system.clear_redis()
        client.close()


def test_services_keep_their_bytecode_even_where_the_shell_says_not_to(monkeypatch):
    """Recompiling FastAPI, SQLAlchemy and redis from source on every start cost seconds per
    service: the services may write their bytecode caches whatever the shell asks."""
    from capstone.runner import Config

    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = Config().env_for("catalog")
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert env["SERVICE_PORT"]


def test_free_ports_are_all_different():
    """Six ports bound and released one at a time came back with a repeat about once in 400
    tries: two services on one port, and the gateway taken for ready when orders answered."""
    from dataclasses import astuple

    from capstone.runner import Ports, free_ports

    for _ in range(3000):
        ports = astuple(Ports.free())
        assert len(set(ports)) == len(ports), f"a port given twice: {ports}"
    many = free_ports(50)
    assert len(set(many)) == 50
