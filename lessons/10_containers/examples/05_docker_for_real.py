"""What runs for real where a Docker engine answers, and what to type.

    uv run python lessons/10_containers/examples/05_docker_for_real.py

Everything else in this lesson reads files; this example asks the ``docker`` client whether an
engine answers. If one does, it runs the two quick checks that need no image: Docker's own
opinion of the compose file (``docker compose config``) and of the Dockerfile (``docker build
--check``, BuildKit's build checks, which lint without building). Either way it prints the
commands that build and run the shop, which take minutes and are for you to run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = "capstone/compose.yaml"
DOCKERFILE = "capstone/Dockerfile"
# compose refuses to interpolate ${JWT_SECRET:?...} without a value: give throwaway ones
CHECK_ENV = {"JWT_SECRET": "x" * 40, "INTERNAL_TOKEN": "y" * 40}


def run(command: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **CHECK_ENV},
    )


def engine_version() -> str | None:
    """The engine's version, or None when no engine answers (the client alone is not enough)."""
    if shutil.which("docker") is None:
        return None
    try:
        probe = run(["docker", "info", "--format", "{{.ServerVersion}}"], timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return probe.stdout.strip() if probe.returncode == 0 else None


def main() -> None:
    client = shutil.which("docker")
    version = engine_version()
    print(f"docker client: {client or 'not installed'}")
    print(f"docker engine: {version or 'none answers (the checks of this lesson need none)'}")

    if version:
        config = run(["docker", "compose", "-f", COMPOSE, "config", "--quiet"])
        print(f"\ndocker compose config: {'accepted' if config.returncode == 0 else 'refused'}")
        print(config.stderr.strip()[-1500:])
        lint = run(["docker", "build", "--check", "-f", DOCKERFILE, "."], timeout=300)
        print(f"docker build --check: exit {lint.returncode}")
        print((lint.stdout + lint.stderr).strip()[-1500:])

    print("""
To run the shop in containers (from the repository root; a few minutes the first time):

  export JWT_SECRET=$(openssl rand -hex 32) INTERNAL_TOKEN=$(openssl rand -hex 32)
  docker compose -f capstone/compose.yaml up --build --wait   # returns once all are healthy
  docker compose -f capstone/compose.yaml ps                  # STATUS shows (healthy)
  curl -s http://127.0.0.1:8000/health/ready
  docker compose -f capstone/compose.yaml down                # add -v to drop the volumes

To look at the image:

  docker build -f capstone/Dockerfile -t journey-shop:0.1.0 .
  docker history journey-shop:0.1.0                           # one line per layer
  docker run --rm journey-shop:0.1.0 id                       # uid=10001(shop), not root""")


if __name__ == "__main__":
    main()
