"""`journey doctor` tells which services answer, and how to start the ones that do not."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from journey.cli import EXIT_NOT_DONE, app

runner = CliRunner()


def _closed_port() -> int:
    """A loopback port nobody listens on: bind one, then let it go."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.rabbitmq
def test_doctor_reports_reachable_services(lab_state: Path) -> None:
    result = runner.invoke(app, ["doctor"], env={"COLUMNS": "300"})
    for name in ("postgres", "redis", "rabbitmq"):
        line = next(line for line in result.output.splitlines() if f"{name}:" in line)
        assert "ok" in line, f"{name} is up, but doctor said: {line}"
        assert "reachable at" in line


@pytest.mark.parametrize(
    ("name", "variable", "scheme"),
    [
        ("postgres", "JOURNEY_POSTGRES_URL", "postgresql://postgres:secret@127.0.0.1:{port}/x"),
        ("redis", "JOURNEY_REDIS_URL", "redis://127.0.0.1:{port}/0"),
        ("rabbitmq", "JOURNEY_RABBITMQ_URL", "amqp://guest:secret@127.0.0.1:{port}/"),
    ],
)
def test_doctor_reports_a_service_that_is_down(
    lab_state: Path, name: str, variable: str, scheme: str
) -> None:
    url = scheme.format(port=_closed_port())
    result = runner.invoke(app, ["doctor"], env={"COLUMNS": "300", variable: url})
    assert result.exit_code == EXIT_NOT_DONE
    line = next(line for line in result.output.splitlines() if f"{name}:" in line)
    assert "problem" in line
    assert f"docker compose up -d {name}" in line, "the message says how to start it"
    assert "secret" not in result.output, "a password in a URL is never printed"
