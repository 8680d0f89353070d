"""`journey doctor` tells which services answer, and how to start the ones that do not."""

from __future__ import annotations

import socket
import sys
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


def test_uv_installed_off_path_is_reported_with_the_fix(tmp_path: Path) -> None:
    from journey.doctor import uv_check

    scripts = tmp_path / ".local" / "bin"
    scripts.mkdir(parents=True)
    (scripts / ("uv.exe" if sys.platform == "win32" else "uv")).write_text("")
    result = uv_check(which=lambda _: None, folders=[scripts], environ={})
    assert not result.ok
    assert "not on your PATH" in result.detail
    assert str(scripts) in result.detail
    if sys.platform != "win32":
        assert 'export PATH="' in result.detail, "the line to add, ready to paste"
    assert "python -m uv" in result.detail, "and the way that needs no PATH at all"


def test_uv_missing_says_how_to_install_it() -> None:
    from journey.doctor import uv_check

    result = uv_check(which=lambda _: None, folders=[], environ={})
    assert not result.ok
    assert "python -m pip install --user uv" in result.detail


def test_uv_on_path_is_fine() -> None:
    from journey.doctor import uv_check

    assert uv_check(which=lambda _: "/usr/bin/uv", folders=[]).ok


def test_jupyterlab_is_installed_to_open_the_notebooks() -> None:
    """`uv run jupyter lab` opens the notebooks with nothing more to install."""
    import subprocess

    scripts = Path(sys.executable).parent
    jupyter = next(p for p in (scripts / "jupyter", scripts / "jupyter.exe") if p.exists())
    result = subprocess.run(
        [str(jupyter), "lab", "--version"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()[0].isdigit(), result.stdout
