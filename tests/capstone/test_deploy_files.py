"""The capstone's deployment files, checked by lesson 10's checkers.

capstone/Dockerfile (with the build context that /.dockerignore leaves), capstone/compose.yaml
and the Kubernetes manifests in capstone/k8s/ must keep every rule of lesson 10: the capstone
piece of that lesson (exercise 10.8, ``deploy_check``) runs the Dockerfile, build-context,
compose and Kubernetes checkers over them, and the lab's own CI workflow
(.github/workflows/ci.yml) goes through the workflow validator of exercise 10.6. The checkers
come through capstone/pieces.py, as every capstone piece does: the reference solutions, or the
learner's own with ``CAPSTONE_MINE=10.8`` (``journey capstone up --mine``); the
parsing is done by dockerfile-parse, jsonschema with the Compose Specification's schema, and
kubernetes-validate.

Then what only the capstone knows: which services there are, that each migrates before it
serves, that compose and Kubernetes set only variables a service reads, that the pods run as
the image's user, and that Prometheus scrapes every service. None of it needs Docker or a
cluster; where a Docker engine answers, one more test asks ``docker compose config``.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from capstone import pieces
from journey.catalog import ROOT
from journey.targets import lesson_package

CAPSTONE = ROOT / "capstone"
DOCKERFILE = CAPSTONE / "Dockerfile"
COMPOSE = CAPSTONE / "compose.yaml"
K8S = CAPSTONE / "k8s"
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
PROMETHEUS = CAPSTONE / "prometheus.yml"
POSTGRES_INIT = CAPSTONE / "postgres-init.sql"

APP_SERVICES = ("gateway", "catalog", "orders", "inventory", "notifier")
BACKING_SERVICES = ("postgres", "redis", "prometheus", "jaeger")
DATABASES = {f"shop_{name}" for name in APP_SERVICES}
# read by something other than the service's settings: the image's healthcheck, the OTel SDK
NOT_SETTINGS = {"HEALTH_PORT", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME"}


def lesson_10(module: str) -> ModuleType:
    """A checker of lesson 10 as the capstone piece 10.8 sees it: the reference solution, or
    the learner's own with ``CAPSTONE_MINE=10.8`` (``journey capstone up --mine``)."""
    return pieces.lesson_module("deploy_check", module)


def ci_checker() -> ModuleType:
    """Exercise 10.6's workflow validator: not part of the piece, always the reference."""
    return importlib.import_module(f"{lesson_package('10_containers', 'solutions')}.ci_workflow")


@functools.cache
def _report() -> dict[str, list[str]]:
    report: dict[str, list[str]] = pieces.piece("deploy_check").check_deployment(ROOT)
    return report


def _deploy_files() -> list[str]:
    """The files check_deployment reports on, known without running it (for the test ids)."""
    manifests = sorted(p.relative_to(ROOT).as_posix() for p in K8S.glob("*.yaml"))
    return ["capstone/Dockerfile", "capstone/compose.yaml", *manifests]


def _listed(problems: list[str]) -> str:
    return "\n  - " + "\n  - ".join(problems)


# -- lesson 10's rules ------------------------------------------------------------------------


@pytest.mark.parametrize("file", _deploy_files())
def test_the_file_keeps_every_rule_of_lesson_10(file: str) -> None:
    report = _report()
    assert file in report, f"check_deployment did not look at {file}"
    assert not report[file], f"{file} breaks lesson 10's rules:{_listed(report[file])}"


def test_nothing_else_is_reported() -> None:
    extra = {file: found for file, found in _report().items() if file not in _deploy_files()}
    assert not extra, f"problems outside the deployment files: {extra}"


def test_the_ci_workflow_keeps_every_rule_of_lesson_10() -> None:
    ci = ci_checker()
    found = ci.check_workflow(ci.load_workflow(WORKFLOW.read_text()))
    assert not found, "the CI workflow:" + _listed(
        [f"{f.path}: [{f.rule}] {f.message}" for f in found]
    )


# (rule, text replaced, replacement): each makes the real Dockerfile break that rule
DOCKERFILE_BREAKS = [
    ("multi-stage", r"COPY --from=builder", "COPY --from=python:3.11.13-slim-bookworm"),
    ("pinned-base", r"FROM python:[^ \n]+ AS runtime", "FROM python:3.11-slim AS runtime"),
    ("non-root", r"(?m)^USER .*$", "USER root"),
    ("healthcheck", r"(?m)^HEALTHCHECK", "# HEALTHCHECK"),
    ("no-secrets", r"(?m)^USER", "ENV JWT_SECRET=hunter2\nUSER"),
    ("uv-cache", r"COPY pyproject.toml uv.lock ./", "COPY . ./"),
    ("exec-form", r'CMD \["python", "-m", "capstone.gateway", "serve"\]', "CMD python -m x"),
]


@pytest.mark.parametrize(("rule", "pattern", "replacement"), DOCKERFILE_BREAKS)
def test_a_broken_copy_of_the_dockerfile_is_caught(
    rule: str, pattern: str, replacement: str
) -> None:
    broken, count = re.subn(pattern, lambda _: replacement, DOCKERFILE.read_text(), count=1)
    assert count == 1, f"the Dockerfile changed: {pattern!r} no longer matches; update the break"
    rules = {f.rule for f in lesson_10("dockerfile_rules").check_dockerfile(broken)}
    assert rule in rules, f"{rule} missed: {replacement!r}"


# -- what only the capstone knows: compose ----------------------------------------------------


@functools.cache
def _compose_text() -> str:
    return COMPOSE.read_text()


def _services() -> dict[str, Any]:
    """A fresh copy each time (some tests change theirs)."""
    document: dict[str, Any] = lesson_10("compose_check").load_compose(_compose_text())
    return document["services"]


def _invocations(service: dict[str, Any]) -> list[tuple[str, str]]:
    """Every ``python -m capstone.X action`` of a service's command, as (X, action)."""
    words = [str(w) for w in service.get("command") or []]
    found = []
    for n, word in enumerate(words[:-1]):
        if word == "-m" and words[n + 1].startswith("capstone."):
            action = words[n + 2] if n + 2 < len(words) else "serve"
            found.append((words[n + 1].removeprefix("capstone."), action))
    return found


def test_compose_has_every_service() -> None:
    missing = set(APP_SERVICES + BACKING_SERVICES) - set(_services())
    assert not missing, f"compose.yaml lacks {sorted(missing)}"


@pytest.mark.parametrize("app", APP_SERVICES)
def test_compose_migrates_before_serving(app: str) -> None:
    services = _services()
    servers = [n for n, s in services.items() if (app, "serve") in _invocations(s)]
    assert servers, f"no service runs `python -m capstone.{app} serve`"
    compose = lesson_10("compose_check")
    for name in servers:
        jobs = [
            target
            for target, condition in compose.dependencies(services[name]).items()
            if condition == "service_completed_successfully"
            and (app, "migrate") in _invocations(services.get(target, {}))
        ]
        assert jobs, f"{name} serves before `python -m capstone.{app} migrate` has completed"
    main = CAPSTONE / app / "__main__.py"
    assert "migrate" in main.read_text(), f"capstone/{app}/__main__.py has no `migrate` command"


def _settings_fields(app: str) -> set[str]:
    from pydantic_settings import BaseSettings

    module = importlib.import_module(f"capstone.{app}.settings")
    classes = [
        c for c in vars(module).values() if isinstance(c, type) and issubclass(c, BaseSettings)
    ]
    assert classes, f"capstone/{app}/settings.py defines no settings class"
    return {name.upper() for c in classes for name in c.model_fields}


@pytest.mark.parametrize("app", APP_SERVICES)
def test_compose_sets_only_variables_the_service_reads(app: str) -> None:
    compose = lesson_10("compose_check")
    fields = _settings_fields(app)
    for name, service in _services().items():
        if any(module == app for module, _ in _invocations(service)):
            unknown = set(compose.environment(service)) - fields - NOT_SETTINGS
            assert not unknown, f"{name} sets {sorted(unknown)}, which capstone.{app} never reads"


def test_only_the_public_services_publish_ports() -> None:
    published = {name for name, service in _services().items() if service.get("ports")}
    assert published == {"gateway", "prometheus", "jaeger"}, f"published: {sorted(published)}"


def test_postgres_init_creates_every_database_a_service_uses() -> None:
    sql = POSTGRES_INIT.read_text()
    created = {m.lower() for m in re.findall(r"CREATE\s+DATABASE\s+\"?(\w+)", sql, re.I)}
    assert created >= DATABASES, f"the init script does not create {sorted(DATABASES - created)}"
    compose = lesson_10("compose_check")
    for name, service in _services().items():
        url = compose.environment(service).get("DATABASE_URL")
        if url:
            database = url.rsplit("/", 1)[-1].split("?", 1)[0]
            assert database in created, f"{name} uses database {database!r}, which nothing creates"
    mounts = [str(v) for v in _services()["postgres"].get("volumes", [])]
    assert any(POSTGRES_INIT.name in m and "/docker-entrypoint-initdb.d" in m for m in mounts)


def test_prometheus_scrapes_every_service() -> None:
    config = yaml.safe_load(PROMETHEUS.read_text())
    targets = {
        target
        for job in config.get("scrape_configs") or []
        if job.get("metrics_path", "/metrics") == "/metrics"
        for static in job.get("static_configs") or []
        for target in static.get("targets") or []
    }
    compose = lesson_10("compose_check")
    for name, service in _services().items():
        if any(action == "serve" for _, action in _invocations(service)):
            env = compose.environment(service)
            port = env.get("METRICS_PORT") or env.get("SERVICE_PORT")
            assert f"{name}:{port}" in targets, f"prometheus does not scrape {name}:{port}"


def test_jaeger_accepts_otlp_from_every_service() -> None:
    compose = lesson_10("compose_check")
    services = _services()
    assert compose.environment(services["jaeger"]).get("COLLECTOR_OTLP_ENABLED") == "true"
    endpoints = {
        compose.environment(services[app]).get("OTEL_EXPORTER_OTLP_ENDPOINT")
        for app in APP_SERVICES
    }
    assert endpoints == {"http://jaeger:4318"}, f"services export traces to {endpoints}"


# -- what only the capstone knows: Kubernetes -------------------------------------------------


@functools.cache
def _manifests() -> tuple[dict[str, Any], ...]:
    k8s = lesson_10("k8s_manifests")
    found: list[dict[str, Any]] = []
    for path in sorted(K8S.glob("*.yaml")):
        found += k8s.load_manifests(path.read_text())
    return tuple(found)


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {r["metadata"]["name"]: r for r in _manifests() if r["kind"] == kind}


def test_every_service_has_a_deployment_a_service_and_a_migration_job() -> None:
    deployments, services, jobs = _of_kind("Deployment"), _of_kind("Service"), _of_kind("Job")
    for app in APP_SERVICES:
        assert app in deployments, f"capstone/k8s has no Deployment {app}"
        assert app in services, f"capstone/k8s has no Service {app}"
        assert f"{app}-migrate" in jobs, f"capstone/k8s has no Job {app}-migrate"
        command = deployments[app]["spec"]["template"]["spec"]["containers"][0]["command"]
        assert command == ["python", "-m", f"capstone.{app}", "serve"]
        job = jobs[f"{app}-migrate"]["spec"]["template"]["spec"]["containers"][0]["command"]
        assert job == ["python", "-m", f"capstone.{app}", "migrate"]


def test_no_secret_manifest_is_committed() -> None:
    assert not _of_kind("Secret"), (
        "the Secret is created with kubectl create secret (capstone/k8s/README.md), never committed"
    )


@pytest.mark.parametrize("app", APP_SERVICES)
def test_kubernetes_sets_only_variables_the_service_reads(app: str) -> None:
    fields = _settings_fields(app) | NOT_SETTINGS
    for resource in (_of_kind("Deployment")[app], _of_kind("Job")[f"{app}-migrate"]):
        for container in resource["spec"]["template"]["spec"]["containers"]:
            unknown = {entry["name"] for entry in container.get("env") or []} - fields
            assert not unknown, f"{resource['metadata']['name']} sets {sorted(unknown)}"


def test_every_config_map_key_is_read_by_a_service_that_loads_it() -> None:
    readers: dict[str, set[str]] = {}
    for app in APP_SERVICES:
        for container in _of_kind("Deployment")[app]["spec"]["template"]["spec"]["containers"]:
            for source in container.get("envFrom") or []:
                name = source["configMapRef"]["name"]
                readers[name] = readers.get(name, set()) | _settings_fields(app) | NOT_SETTINGS
    for name, config_map in _of_kind("ConfigMap").items():
        unread = set(config_map.get("data") or {}) - readers.get(name, set())
        assert not unread, f"ConfigMap {name} sets {sorted(unread)}, which no service reads"


def test_the_pods_run_as_the_images_user_and_the_image_the_compose_builds() -> None:
    uid = re.search(r"useradd [^\n]*--uid (\d+)", DOCKERFILE.read_text())
    assert uid, "the Dockerfile makes its user with useradd --uid"
    images = set()
    for kind in ("Deployment", "Job"):
        for name, resource in _of_kind(kind).items():
            pod = resource["spec"]["template"]["spec"]
            assert pod["securityContext"].get("runAsUser") == int(uid[1]), (
                f"{kind}/{name} must run as the image's user, uid {uid[1]}"
            )
            images |= {c["image"] for c in pod["containers"]}
    assert len(images) == 1, f"one image runs every service, not {sorted(images)}"
    assert next(iter(images)).split(":")[0] == _services()["gateway"]["image"].split(":")[0]


@pytest.mark.parametrize("app", APP_SERVICES)
def test_kubernetes_ports_match_the_compose_file(app: str) -> None:
    compose_port = int(lesson_10("compose_check").environment(_services()[app])["SERVICE_PORT"])
    service_ports = {p["port"] for p in _of_kind("Service")[app]["spec"]["ports"]}
    assert compose_port in service_ports, (
        f"Service {app} does not offer port {compose_port}, where the others call it"
    )


def test_a_broken_manifest_is_caught() -> None:
    k8s = lesson_10("k8s_manifests")
    deployment = yaml.safe_load(yaml.safe_dump(_of_kind("Deployment")["orders"]))
    del deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "journey-shop:latest"
    rules = {f.rule for f in k8s.check_manifests([deployment, _of_kind("Service")["orders"]])}
    assert {"probes", "images"} <= rules, rules


# -- a real engine ----------------------------------------------------------------------------


def _docker_engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        probe = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


if _docker_engine_answers():  # generated only where an engine answers; nowhere else is it a skip

    def test_docker_compose_config_accepts_the_file() -> None:
        # compose refuses to interpolate ${JWT_SECRET:?...} without a value: throwaway ones
        env = {**os.environ, "JWT_SECRET": "x" * 40, "INTERNAL_TOKEN": "y" * 40}
        result = subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE), "config", "-q"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=ROOT,
            env=env,
        )
        assert result.returncode == 0, f"docker compose config rejects the file:\n{result.stderr}"


def test_the_manifests_folder_explains_itself() -> None:
    readme = Path(K8S / "README.md")
    assert readme.is_file(), "capstone/k8s/README.md says how to apply the manifests"
    assert "kubectl create secret" in readme.read_text()
