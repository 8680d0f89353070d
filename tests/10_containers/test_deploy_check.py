"""10.8 The capstone's deployment files pass your checkers (capstone piece).

Stage 1: .dockerignore, as Docker reads it. Stage 2: the build context. Stage 3: the whole
check on a small lab made in a temporary folder, then on this repository's own capstone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from journey.catalog import ROOT
from journey.targets import load

deploy = load(__file__, "deploy_check")

# -- stage 1: .dockerignore ---------------------------------------------------------------------

ALLOW_LIST = """\
# send only what the image needs
*
!pyproject.toml
!uv.lock
!capstone/
**/__pycache__
capstone/compose.yaml
"""


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        ("pyproject.toml", False),
        ("capstone/orders/app.py", False),
        ("capstone", False),
        ("README.md", True),
        (".venv/bin/python", True),
        ("capstone/__pycache__/x.pyc", True),
        ("capstone/orders/__pycache__/x.pyc", True),
        ("capstone/compose.yaml", True),
        ("./uv.lock", False),
    ],
)
def test_an_allow_list(path: str, ignored: bool) -> None:
    assert deploy.is_ignored(path, ALLOW_LIST) is ignored, (
        f"{path}: {'left out' if ignored else 'sent'} (the last matching line wins; a line "
        "that matches a parent folder matches what is inside it)"
    )


@pytest.mark.parametrize(
    ("patterns", "path", "ignored"),
    [
        ("*.md", "README.md", True),
        ("*.md", "docs/intro.md", False),  # * never crosses a /; patterns start at the root
        ("**/*.md", "docs/deep/intro.md", True),
        ("**/*.md", "README.md", True),  # **/ also matches no folder at all
        ("docs/**", "docs/a/b.txt", True),
        ("/build/", "build/out.o", True),  # leading and trailing / mean nothing
        ("./build", "build", True),
        ("file?.txt", "file1.txt", True),
        ("file?.txt", "file10.txt", False),
        ("file?.txt", "file/.txt", False),
        ("[ab].txt", "b.txt", True),
        ("[ab].txt", "c.txt", False),
        ("  .env  ", ".env", True),
        ("# .env", ".env", False),
        ("\n\n.git\n", ".git/HEAD", True),
        ("logs\n!logs/keep.log", "logs/keep.log", False),
        ("logs\n!logs/keep.log", "logs/other.log", True),
        ("!logs/keep.log\nlogs", "logs/keep.log", True),  # the last match wins
        ("notes.txt", "notes.txt.bak", False),  # a pattern matches whole names
        ("a.b", "axb", False),  # a dot is a dot
        ("", "anything", False),
    ],
)
def test_dockerignore_patterns(patterns: str, path: str, ignored: bool) -> None:
    assert deploy.is_ignored(path, patterns) is ignored, f"{patterns!r} and {path!r}"


# -- stage 2: the build context ------------------------------------------------------------------

DOCKERFILE = """\
FROM python:3.11.9-slim AS builder
COPY --from=ghcr.io/astral-sh/uv:0.5.1 /uv /bin/uv
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-install-project
COPY capstone/ ./capstone/

FROM python:3.11.9-slim
RUN useradd --uid 10001 shop
ENV PYTHONUNBUFFERED=1
COPY --from=builder /app /app
USER shop
HEALTHCHECK CMD ["python", "-c", "print('ok')"]
CMD ["python", "-m", "capstone.gateway"]
"""
IGNORE = ALLOW_LIST + ".env\n"

COMPOSE = """\
name: shop
services:
  gateway:
    build: {context: .., dockerfile: capstone/Dockerfile}
    command: ["python", "-m", "capstone.gateway"]
    ports: ["8000:8000"]
    environment:
      JWT_SECRET: ${JWT_SECRET:?set it}
    healthcheck: {test: ["CMD", "python", "-c", "print('ok')"]}
    depends_on:
      redis: {condition: service_healthy}
  redis:
    image: redis:7.4-alpine
    healthcheck: {test: ["CMD", "redis-cli", "ping"]}
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: gateway}
spec:
  selector: {matchLabels: {app: gateway}}
  template:
    metadata: {labels: {app: gateway}}
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
        - name: gateway
          image: shop:0.1.0
          ports: [{name: http, containerPort: 8000}]
          readinessProbe: {httpGet: {path: /health/ready, port: http}}
          livenessProbe: {httpGet: {path: /health/live, port: http}}
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 500m, memory: 256Mi}
          securityContext: {allowPrivilegeEscalation: false}
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: gateway}
spec:
  selector: {app: gateway}
  ports: [{port: 80, targetPort: http}]
"""


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    """A small lab with deployment files that keep every rule."""
    files = {
        "pyproject.toml": "[project]\nname = 'shop'\n",
        "uv.lock": "version = 1\n",
        ".dockerignore": IGNORE,
        "capstone/__init__.py": "",
        "capstone/Dockerfile": DOCKERFILE,
        "capstone/compose.yaml": COMPOSE,
        "capstone/k8s/deployment.yaml": DEPLOYMENT,
        "capstone/k8s/service.yaml": SERVICE,
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def _context(
    lab: Path, dockerfile: str = DOCKERFILE, ignore: str = IGNORE
) -> list[tuple[int, str]]:
    found = deploy.context_findings(dockerfile, ignore, lab)
    assert all(f.rule == "context" for f in found), "context findings have the rule 'context'"
    return [(f.line, f.message) for f in found]


def test_a_good_context_has_no_findings(lab: Path) -> None:
    assert _context(lab) == []


def test_a_copied_file_that_does_not_exist(lab: Path) -> None:
    (lab / "uv.lock").unlink()
    found = _context(lab)
    assert [line for line, _ in found] == [4]
    assert "uv.lock" in found[0][1]
    assert "no such file" in found[0][1]


def test_a_copied_file_that_dockerignore_leaves_out(lab: Path) -> None:
    found = _context(lab, ignore=IGNORE + "capstone\n")
    assert [line for line, _ in found] == [6]
    assert "capstone/" in found[0][1]
    assert "left out by .dockerignore" in found[0][1]


def test_globs_and_urls_in_sources(lab: Path) -> None:
    dockerfile = DOCKERFILE.replace(
        "COPY capstone/ ./capstone/", "COPY capstone/*.py ./\nADD https://example.com/x.tgz /tmp/"
    )
    assert _context(lab, dockerfile) == [], "a glob that matches is fine; a URL is no file"
    dockerfile = dockerfile.replace("capstone/*.py", "capstone/*.txt")
    assert [line for line, _ in _context(lab, dockerfile)] == [6], "a glob that matches nothing"


def test_private_and_heavy_paths_stay_out(lab: Path) -> None:
    found = _context(lab, ignore="**/__pycache__\n")
    stay_out = [message for line, message in found if line == 0]
    for name in deploy.MUST_STAY_OUT:
        assert any(name in message for message in stay_out), (
            f"{name} is not ignored: it would be sent to the daemon"
        )


# -- stage 3: the whole check -------------------------------------------------------------------

KEYS = {
    "capstone/Dockerfile",
    "capstone/compose.yaml",
    "capstone/k8s/deployment.yaml",
    "capstone/k8s/service.yaml",
}


def test_a_good_lab_passes(lab: Path) -> None:
    report = deploy.check_deployment(lab)
    assert set(report) == KEYS, "one key per file, even when it has no problem"
    assert all(problems == [] for problems in report.values()), report


def test_each_problem_is_filed_under_its_file(lab: Path) -> None:
    (lab / "capstone/Dockerfile").write_text(DOCKERFILE.replace("USER shop\n", ""))
    (lab / "capstone/compose.yaml").write_text(COMPOSE.replace("redis:7.4-alpine", "redis"))
    (lab / "capstone/k8s/service.yaml").write_text(SERVICE.replace("app: gateway", "app: gw"))
    report = deploy.check_deployment(lab)
    dockerfile = report["capstone/Dockerfile"]
    assert len(dockerfile) == 1, dockerfile
    assert dockerfile[0].startswith("line 8: [non-root] "), (
        "a Dockerfile finding reads 'line N: [rule] message'"
    )
    assert len(report["capstone/compose.yaml"]) == 1
    assert report["capstone/compose.yaml"][0].startswith("services.redis.image: [images] ")
    assert report["capstone/k8s/deployment.yaml"] == [], (
        "check the manifests together: the Service in one file selects pods in another"
    )
    assert len(report["capstone/k8s/service.yaml"]) == 1
    assert report["capstone/k8s/service.yaml"][0].startswith(
        "Service/gateway spec.selector: [selectors] "
    )


def test_the_build_context_is_part_of_the_dockerfile_check(lab: Path) -> None:
    (lab / ".dockerignore").write_text("**/__pycache__\n")
    problems = deploy.check_deployment(lab)["capstone/Dockerfile"]
    assert any(".venv" in p and "[context]" in p for p in problems), problems


def test_missing_and_unreadable_files(lab: Path) -> None:
    (lab / "capstone/compose.yaml").unlink()
    (lab / "capstone/k8s/service.yaml").write_text("kind: [\n")
    (lab / "capstone/Dockerfile").write_text("RUN echo no base\n")
    report = deploy.check_deployment(lab)
    assert "missing" in report["capstone/compose.yaml"][0]
    assert len(report["capstone/k8s/service.yaml"]) == 1, "an unreadable manifest, said once"
    assert "no FROM" in report["capstone/Dockerfile"][0]


def test_the_capstone_passes_your_checkers() -> None:
    """The capstone's own files: the lab's reference checkers pass them, so must yours."""
    report = deploy.check_deployment(ROOT)
    assert "capstone/Dockerfile" in report
    assert "capstone/compose.yaml" in report
    assert any(key.startswith("capstone/k8s/") for key in report), "the manifests are checked"
    problems = [f"{file}: {p}" for file, found in report.items() for p in found]
    assert not problems, (
        "the capstone's deployment files keep every rule of the reference checkers; yours "
        "found:\n  - " + "\n  - ".join(problems)
    )
