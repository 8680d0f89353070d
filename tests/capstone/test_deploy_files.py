"""Static checks of the capstone's deployment files: capstone/Dockerfile, /.dockerignore,
capstone/compose.yaml, capstone/prometheus.yml and capstone/postgres-init.sql.

They need no Docker engine and no running service: each rule is a small function that returns the
problems it finds (an empty list means the file keeps the rule). The first tests run the rules on
the real files; the last ones break a copy of each file on purpose and prove that every rule
notices. Lesson 10 (containers) teaches the rules; its checker exercises apply the same ideas.

When a Docker engine answers, one more test asks ``docker compose config`` for its own opinion.
"""

from __future__ import annotations

import copy
import functools
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CAPSTONE = ROOT / "capstone"
DOCKERFILE = CAPSTONE / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = CAPSTONE / "compose.yaml"
PROMETHEUS = CAPSTONE / "prometheus.yml"
POSTGRES_INIT = CAPSTONE / "postgres-init.sql"

APP_SERVICES = ("gateway", "catalog", "orders", "inventory", "notifier")
BACKING_SERVICES = ("postgres", "redis", "prometheus", "jaeger")
DATABASES = {f"shop_{name}" for name in APP_SERVICES}
PUBLISHED = {"gateway", "prometheus", "jaeger"}
ACTIONS = {"migrate", "serve"}

# A name that says "I hold a secret": such a variable must never get its value in an image.
SECRET_NAME = re.compile(r"SECRET|PASSW(OR)?D|TOKEN|CREDENTIAL|KEYS?$", re.IGNORECASE)
# user:password@ inside a URL
URL_PASSWORD = re.compile(r"://[^:/@\s]+:(?P<password>[^@\s]+)@")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}
INTERPOLATION = re.compile(r"^\$\{(?P<var>\w+)(?:(?P<op>:?[-?])(?P<rest>[^}]*))?\}$")


# --------------------------------------------------------------------------- Dockerfile parser


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY...
    args: str  # the rest of the logical line, continuation lines joined
    stage: int  # 0 for the first FROM's stage, 1 for the next...


def parse_dockerfile(text: str) -> list[Instruction]:
    """Logical instructions: comments dropped, lines ending in a backslash joined."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # Docker also skips comment lines inside a continuation
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        logical.append(pending + line)
        pending = ""
    if pending.strip():
        logical.append(pending.strip())

    instructions: list[Instruction] = []
    stage = -1
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, args.strip(), max(stage, 0)))
    return instructions


def _from_parts(args: str) -> tuple[str, str | None]:
    """``[--platform=...] image [AS name]`` -> (image, name)."""
    tokens = [t for t in args.split() if not t.startswith("--")]
    name = tokens[2] if len(tokens) >= 3 and tokens[1].upper() == "AS" else None
    return tokens[0], name


def image_is_pinned(ref: str) -> bool:
    """A digest, or an explicit tag that is not ``latest`` (``python`` alone means latest)."""
    if "${" in ref:
        return False  # resolved at build time: nothing in the file pins it
    if "@sha256:" in ref:
        return True
    last = ref.rsplit("/", 1)[-1]
    if ":" not in last:
        return False
    tag = last.rsplit(":", 1)[1]
    return bool(tag) and tag.lower() != "latest"


def _final_stage(instructions: list[Instruction]) -> list[Instruction]:
    last = max((i.stage for i in instructions), default=0)
    return [i for i in instructions if i.stage == last]


def _flag(args: str, name: str) -> str | None:
    for token in args.split():
        if token.startswith(f"--{name}="):
            return token.split("=", 1)[1]
    return None


def _env_pairs(args: str) -> list[tuple[str, str]]:
    """ENV a=1 b="2"  or the legacy  ENV a 1."""
    tokens = shlex.split(args)
    if tokens and "=" not in tokens[0]:
        return [(tokens[0], " ".join(tokens[1:]))]
    return [(name, value) for name, _, value in (t.partition("=") for t in tokens)]


# --------------------------------------------------------------------------- Dockerfile rules


def multi_stage_problems(ins: list[Instruction]) -> list[str]:
    froms = [i for i in ins if i.keyword == "FROM"]
    if len(froms) < 2:
        return [f"{len(froms)} FROM line(s): build in one stage and run from a slim second one"]
    stage_names = {_from_parts(f.args)[1] for f in froms[:-1]} - {None}
    copied_from = {_flag(i.args, "from") for i in _final_stage(ins) if i.keyword == "COPY"}
    if not stage_names & copied_from:
        return ["the final stage copies nothing from the build stage (COPY --from=<stage>)"]
    return []


def non_root_problems(ins: list[Instruction]) -> list[str]:
    users = [i.args for i in _final_stage(ins) if i.keyword == "USER"]
    if not users:
        return ["the final stage has no USER: the services would run as root"]
    user = users[-1].split(":", 1)[0].strip()
    if user in {"root", "0"}:
        return [f"the final stage ends as USER {users[-1]!r}: use an unprivileged user"]
    return []


def healthcheck_problems(ins: list[Instruction]) -> list[str]:
    checks = [i.args for i in _final_stage(ins) if i.keyword == "HEALTHCHECK"]
    if not checks:
        return ["the final stage has no HEALTHCHECK"]
    if checks[-1].strip().upper() == "NONE":
        return ["HEALTHCHECK NONE switches the health check off"]
    if "/health/ready" not in checks[-1]:
        return ["the HEALTHCHECK should ask /health/ready (ready = my dependencies answer)"]
    return []


def pinned_image_problems(ins: list[Instruction]) -> list[str]:
    problems: list[str] = []
    stages: set[str] = set()
    for i in ins:
        if i.keyword == "FROM":
            image, name = _from_parts(i.args)
            if image.lower() not in stages and not image_is_pinned(image):
                problems.append(f"FROM {image}: pin the base image to a tag (not latest)")
            if name:
                stages.add(name.lower())
        source = _flag(i.args, "from") if i.keyword == "COPY" else None
        if source and source.lower() not in stages and not image_is_pinned(source):
            problems.append(f"COPY --from={source}: pin that image to a version")
    return problems


def secret_problems(ins: list[Instruction]) -> list[str]:
    problems: list[str] = []
    for i in ins:
        if i.keyword == "ENV":
            pairs = _env_pairs(i.args)
        elif i.keyword == "ARG":
            name, _, value = i.args.partition("=")
            pairs = [(name.strip(), value.strip())]
        else:
            continue
        for name, value in pairs:
            if SECRET_NAME.search(name) and value:
                problems.append(
                    f"{i.keyword} {name} has a value baked into the image: secrets come from "
                    "the runtime environment, never from a layer anyone can read"
                )
    return problems


def layer_caching_problems(ins: list[Instruction]) -> list[str]:
    sync = next((n for n, i in enumerate(ins) if i.keyword == "RUN" and "uv sync" in i.args), None)
    if sync is None:
        return ["no RUN uv sync: install the locked dependencies with uv"]
    flags = ins[sync].args.split()
    problems = [
        f"uv sync without {flag}"
        for flag in ("--locked", "--no-install-project")
        if flag not in flags
    ]
    lock_copy = [n for n, i in enumerate(ins) if i.keyword == "COPY" and "uv.lock" in i.args]
    if not lock_copy or lock_copy[0] > sync:
        problems.append("copy pyproject.toml and uv.lock before uv sync")
    code_copy = [
        n for n, i in enumerate(ins) if i.keyword == "COPY" and re.search(r"\bcapstone/?\s", i.args)
    ]
    if code_copy and code_copy[0] < sync:
        problems.append("the code is copied before uv sync: every edit reinstalls everything")
    return problems


def runtime_problems(ins: list[Instruction]) -> list[str]:
    final = _final_stage(ins)
    env = dict(pair for i in final if i.keyword == "ENV" for pair in _env_pairs(i.args))
    problems = []
    if not env.get("PYTHONUNBUFFERED"):
        problems.append("PYTHONUNBUFFERED is not set: logs would sit in a buffer")
    if not any(i.keyword == "EXPOSE" for i in final):
        problems.append("no EXPOSE in the final stage")
    cmds = [i.args for i in final if i.keyword in {"CMD", "ENTRYPOINT"}]
    if not cmds or not all(c.startswith("[") for c in cmds):
        problems.append("CMD/ENTRYPOINT must be exec form (JSON) so SIGTERM reaches Python")
    return problems


DOCKERFILE_RULES = {
    "multi-stage": multi_stage_problems,
    "non-root": non_root_problems,
    "healthcheck": healthcheck_problems,
    "pinned": pinned_image_problems,
    "secrets": secret_problems,
    "layer-caching": layer_caching_problems,
    "runtime": runtime_problems,
}


# --------------------------------------------------------------------------- .dockerignore


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i : end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def dockerignored(path: str, ignore_text: str) -> bool:
    """Docker's rule: the last matching line wins; a line also matches a path's parent folders."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for line in ignore_text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        regex = _glob_regex(line.lstrip("!").strip().strip("/"))
        if any(regex.match(c) for c in candidates):
            ignored = not negate
    return ignored


def context_problems(ins: list[Instruction], ignore_text: str) -> list[str]:
    problems = []
    for i in ins:
        if i.keyword not in {"COPY", "ADD"} or _flag(i.args, "from"):
            continue
        sources = [t for t in i.args.split() if not t.startswith("--")][:-1]
        for src in sources:
            if not (ROOT / src).exists():
                problems.append(f"{i.keyword} {src}: no such file in the build context")
            elif dockerignored(src, ignore_text):
                problems.append(f"{i.keyword} {src}: .dockerignore leaves it out of the context")
    for heavy in (".venv/bin/python", ".git/HEAD", "notebooks/x.ipynb", "LEARNING_LOG.md", ".env"):
        if not dockerignored(heavy, ignore_text):
            problems.append(f"{heavy} would be sent to the Docker daemon: ignore it")
    return problems


# --------------------------------------------------------------------------- compose helpers


def _tokens(command: Any) -> list[str]:
    """The command as words; a ``sh -c "a && b"`` string is split into its words too."""
    if command is None:
        return []
    words = shlex.split(command) if isinstance(command, str) else [str(c) for c in command]
    out: list[str] = []
    for word in words:
        out.extend(shlex.split(word) if " " in word else [word])
    return out


def invocations(service: dict[str, Any]) -> list[tuple[str, str]]:
    """Every ``python -m capstone.X [action]`` in the command, as (X, action)."""
    words = _tokens(service.get("command"))
    found = []
    for n, word in enumerate(words[:-1]):
        if word == "-m" and words[n + 1].startswith("capstone."):
            module = words[n + 1].removeprefix("capstone.")
            nxt = words[n + 2] if n + 2 < len(words) else "serve"
            found.append((module, nxt if nxt in ACTIONS else "serve"))  # no argument = serve
    return found


def is_one_shot(service: dict[str, Any]) -> bool:
    calls = invocations(service)
    return bool(calls) and all(action == "migrate" for _, action in calls)


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def _depends(service: dict[str, Any]) -> Any:
    return service.get("depends_on") or {}


# --------------------------------------------------------------------------- compose rules


def healthcheck_compose_problems(services: dict[str, Any]) -> list[str]:
    problems = []
    for name, svc in services.items():
        if is_one_shot(svc):
            continue
        check = svc.get("healthcheck") or {}
        test = check.get("test")
        if check.get("disable") or not test or test in (["NONE"], "NONE"):
            problems.append(f"{name} has no healthcheck: nothing could wait for it to be ready")
    return problems


def depends_on_problems(services: dict[str, Any]) -> list[str]:
    problems = []
    for name, svc in services.items():
        deps = _depends(svc)
        if isinstance(deps, list):
            problems.append(f"{name}: depends_on as a list waits only for a container to start")
            continue
        for dep, spec in deps.items():
            condition = (spec or {}).get("condition")
            if dep not in services:
                problems.append(f"{name} depends on {dep}, which is not a service")
                continue
            wanted = (
                "service_completed_successfully"
                if is_one_shot(services[dep])
                else "service_healthy"
            )
            if condition != wanted:
                problems.append(f"{name} -> {dep}: condition {condition!r}, expected {wanted!r}")
    return problems


def one_shot_problems(services: dict[str, Any]) -> list[str]:
    problems = []
    for name, svc in services.items():
        if is_one_shot(svc) and str(svc.get("restart", "no")) != "no":
            problems.append(f"{name} is a one-shot job: restart {svc['restart']!r} re-runs it")
    return problems


def command_problems(services: dict[str, Any]) -> list[str]:
    problems = []
    for name, svc in services.items():
        for module, _ in invocations(svc):
            if module not in APP_SERVICES:
                problems.append(f"{name} runs capstone.{module}, not one of {APP_SERVICES}")
    return problems


def migrate_first_problems(services: dict[str, Any]) -> list[str]:
    """Each app service is served, and its migrate job (or command) runs before it serves."""
    problems = []
    for app in APP_SERVICES:
        servers = [n for n, s in services.items() if (app, "serve") in invocations(s)]
        if not servers:
            problems.append(f"no service runs `python -m capstone.{app} serve`")
        for name in servers:
            svc = services[name]
            inline = (app, "migrate") in invocations(svc)
            deps = _depends(svc) if isinstance(_depends(svc), dict) else {}
            jobs = [
                d
                for d, spec in deps.items()
                if d in services
                and (app, "migrate") in invocations(services[d])
                and (spec or {}).get("condition") == "service_completed_successfully"
            ]
            if not inline and not jobs:
                problems.append(f"{name} serves before `capstone.{app} migrate` has run")
    return problems


def compose_image_problems(services: dict[str, Any]) -> list[str]:
    problems = []
    for name, svc in services.items():
        image = svc.get("image")
        if image is None and "build" in svc:
            continue  # compose names a built image itself
        if image is None or not image_is_pinned(str(image)):
            problems.append(f"{name}: image {image!r} is not pinned to a tag")
    return problems


def ports_problems(services: dict[str, Any]) -> list[str]:
    published = {n for n, s in services.items() if s.get("ports")}
    problems = [f"{n} publishes ports: only {sorted(PUBLISHED)} may" for n in published - PUBLISHED]
    problems += [f"{n} publishes no port" for n in PUBLISHED - published]
    return problems


def compose_secret_problems(services: dict[str, Any]) -> list[str]:
    problems = []
    for name, svc in services.items():
        for key, value in environment(svc).items():
            secrets = [value] if SECRET_NAME.search(key) else []
            secrets += [m["password"] for m in URL_PASSWORD.finditer(value)]
            for secret in secrets:
                match = INTERPOLATION.match(secret)
                if not match:
                    problems.append(f"{name}.{key}: a literal secret; read it from ${{VAR}}")
                elif match["op"] and match["op"].endswith("-") and "dev-only" not in match["rest"]:
                    problems.append(f"{name}.{key}: mark the default of {match['var']} dev-only")
    return problems


def database_problems(services: dict[str, Any], init_sql: str) -> list[str]:
    created = {m.lower() for m in re.findall(r"CREATE\s+DATABASE\s+\"?(\w+)", init_sql, re.I)}
    problems = [f"the init script does not create {db}" for db in sorted(DATABASES - created)]
    for name, svc in services.items():
        url = environment(svc).get("DATABASE_URL")
        if url:
            db = url.rsplit("/", 1)[-1].split("?", 1)[0]
            if db not in created:
                problems.append(f"{name} uses database {db!r}, which nothing creates")
    mounts = [str(v) for v in services.get("postgres", {}).get("volumes", [])]
    if not any(POSTGRES_INIT.name in m and "/docker-entrypoint-initdb.d" in m for m in mounts):
        problems.append("postgres does not mount the init script into /docker-entrypoint-initdb.d")
    return problems


def _http_port(svc: dict[str, Any]) -> str | None:
    env = environment(svc)
    return env.get("HEALTH_PORT") or env.get("METRICS_PORT") or env.get("SERVICE_PORT")


def prometheus_problems(services: dict[str, Any], config: dict[str, Any]) -> list[str]:
    targets = {
        target
        for job in config.get("scrape_configs") or []
        if job.get("metrics_path", "/metrics") == "/metrics"
        for static in job.get("static_configs") or []
        for target in static.get("targets") or []
    }
    problems = []
    for name, svc in services.items():
        if any(action == "serve" for _, action in invocations(svc)):
            wanted = f"{name}:{_http_port(svc)}"
            if wanted not in targets:
                problems.append(f"prometheus does not scrape {wanted}/metrics")
    return problems


# --------------------------------------------------------------------------- loading


def _dockerfile() -> list[Instruction]:
    assert DOCKERFILE.is_file(), "capstone/Dockerfile is missing"
    return parse_dockerfile(DOCKERFILE.read_text())


@functools.cache
def _compose() -> dict[str, Any]:
    assert COMPOSE.is_file(), "capstone/compose.yaml is missing"
    loaded = yaml.load(COMPOSE.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    assert isinstance(loaded.get("services"), dict), "compose.yaml: services must be a mapping"
    return loaded


def _services() -> dict[str, Any]:
    """A fresh copy each time: the tests below break their copy on purpose."""
    return copy.deepcopy(_compose()["services"])


def _problems(found: list[str]) -> str:
    return "\n  - " + "\n  - ".join(found)


# --------------------------------------------------------------------------- the real files


@pytest.mark.parametrize("rule", list(DOCKERFILE_RULES))
def test_dockerfile_keeps_rule(rule: str) -> None:
    found = DOCKERFILE_RULES[rule](_dockerfile())
    assert not found, f"capstone/Dockerfile breaks the {rule} rule:{_problems(found)}"


def test_build_context_holds_what_the_image_copies_and_nothing_else() -> None:
    assert DOCKERIGNORE.is_file(), "the build context is the repo root: it needs .dockerignore"
    found = context_problems(_dockerfile(), DOCKERIGNORE.read_text())
    assert not found, f"build context:{_problems(found)}"


def test_compose_has_every_service() -> None:
    missing = set(APP_SERVICES + BACKING_SERVICES) - set(_services())
    assert not missing, f"compose.yaml lacks {sorted(missing)}"


def test_compose_healthchecks() -> None:
    found = healthcheck_compose_problems(_services())
    assert not found, f"compose healthchecks:{_problems(found)}"


def test_compose_depends_on_waits_for_health_or_completion() -> None:
    found = depends_on_problems(_services()) + one_shot_problems(_services())
    assert not found, f"compose depends_on:{_problems(found)}"


def test_compose_migrates_before_serving() -> None:
    found = command_problems(_services()) + migrate_first_problems(_services())
    assert not found, f"compose commands:{_problems(found)}"


@pytest.mark.parametrize("app", APP_SERVICES)
def test_compose_command_module_exists(app: str) -> None:
    used = {m for s in _services().values() for m, _ in invocations(s)}
    assert app in used, f"compose.yaml never runs `python -m capstone.{app}`"
    main = CAPSTONE / app / "__main__.py"
    if not main.is_file():
        pytest.skip(f"capstone/{app}/__main__.py does not exist (yet): cannot check the module")
    assert "migrate" in main.read_text(), f"capstone/{app}/__main__.py has no `migrate` command"


# read by something other than the service's settings: the image's healthcheck, the OTel SDK
NOT_SETTINGS = {"HEALTH_PORT", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME"}


@pytest.mark.parametrize("app", APP_SERVICES)
def test_compose_sets_only_variables_the_service_reads(app: str) -> None:
    import importlib

    from pydantic_settings import BaseSettings

    if not (CAPSTONE / app / "settings.py").is_file():
        pytest.skip(f"capstone/{app}/settings.py does not exist (yet): cannot compare")
    module = importlib.import_module(f"capstone.{app}.settings")
    classes = [
        c for c in vars(module).values() if isinstance(c, type) and issubclass(c, BaseSettings)
    ]
    assert classes, f"capstone/{app}/settings.py defines no settings class"
    fields = {name.upper() for c in classes for name in c.model_fields}
    services = _services()
    for name, svc in services.items():
        if any(module_name == app for module_name, _ in invocations(svc)):
            unknown = set(environment(svc)) - fields - NOT_SETTINGS
            assert not unknown, f"{name} sets {sorted(unknown)}, which capstone.{app} never reads"


def test_compose_images_are_pinned() -> None:
    found = compose_image_problems(_services())
    assert not found, f"compose images:{_problems(found)}"


def test_compose_publishes_only_public_ports() -> None:
    found = ports_problems(_services())
    assert not found, f"compose ports:{_problems(found)}"


def test_compose_keeps_secrets_out_of_the_file() -> None:
    found = compose_secret_problems(_services())
    assert not found, f"compose secrets:{_problems(found)}"


def test_postgres_init_creates_every_database() -> None:
    found = database_problems(_services(), POSTGRES_INIT.read_text())
    assert not found, f"databases:{_problems(found)}"


def test_prometheus_scrapes_every_service() -> None:
    found = prometheus_problems(_services(), yaml.safe_load(PROMETHEUS.read_text()))
    assert not found, f"prometheus.yml:{_problems(found)}"


def test_jaeger_accepts_otlp() -> None:
    services = _services()
    jaeger = environment(services["jaeger"])
    assert jaeger.get("COLLECTOR_OTLP_ENABLED") == "true", "jaeger must accept OTLP"
    endpoints = {environment(services[a]).get("OTEL_EXPORTER_OTLP_ENDPOINT") for a in APP_SERVICES}
    assert endpoints == {"http://jaeger:4318"}, f"services export traces to {endpoints}"


# --------------------------------------------------------------------------- the rules bite

# (rule, text replaced, replacement): each makes the real Dockerfile break exactly that rule
DOCKERFILE_BREAKS = [
    ("multi-stage", r"(?s)\A.*(?=FROM python:[^\n]* AS runtime)", ""),
    ("multi-stage", r"COPY --from=builder", "COPY --from=python:3.11-slim-bookworm"),
    ("non-root", r"(?m)^USER .*$", ""),
    ("non-root", r"(?m)^USER .*$", "USER root"),
    ("non-root", r"(?m)^USER .*$", "USER 0:0"),
    ("healthcheck", r"(?m)^HEALTHCHECK", "# HEALTHCHECK"),
    ("healthcheck", r"(?ms)^HEALTHCHECK .*?\]\n", "HEALTHCHECK NONE\n"),
    ("pinned", r"FROM python:[^ \n]+ AS runtime", "FROM python AS runtime"),
    ("pinned", r"FROM python:[^ \n]+ AS builder", "FROM python:latest AS builder"),
    ("pinned", r"ghcr.io/astral-sh/uv:[^ ]+", "ghcr.io/astral-sh/uv"),
    ("secrets", r"(?m)^USER", "ENV JWT_SECRET=hunter2\nUSER"),
    ("secrets", r"(?m)^USER", 'ENV A=1 DB_PASSWORD="s3cret" \\\n    B=2\nUSER'),
    ("secrets", r"(?m)^USER", "ARG API_KEY=abc\nUSER"),
    ("secrets", r"(?m)^USER", "ENV GITHUB_TOKEN ghp_123\nUSER"),
    ("layer-caching", r"uv sync --locked ", "uv sync "),
    ("layer-caching", r"--no-default-groups --no-install-project", ""),
    ("runtime", r"PYTHONUNBUFFERED=1", "PYTHONUNBUFFERED="),
    ("runtime", r'CMD \["python", "-m", "capstone.gateway", "serve"\]', "CMD python -m x"),
]


@pytest.mark.parametrize(("rule", "pattern", "replacement"), DOCKERFILE_BREAKS)
def test_dockerfile_rule_catches_a_break(rule: str, pattern: str, replacement: str) -> None:
    text = DOCKERFILE.read_text()
    broken, count = re.subn(pattern, lambda _: replacement, text, count=1)
    assert count == 1, f"the Dockerfile changed: {pattern!r} no longer matches; update the break"
    assert DOCKERFILE_RULES[rule](parse_dockerfile(broken)), f"{rule} missed: {replacement!r}"


CONTEXT_BREAKS = {
    "code left out": lambda text: text + "capstone/\n",
    "lock left out": lambda text: text + "uv.lock\n",
    "everything sent": lambda text: "**/__pycache__\n",
}


@pytest.mark.parametrize("how", list(CONTEXT_BREAKS))
def test_context_rule_catches_a_break(how: str) -> None:
    ignore = CONTEXT_BREAKS[how](DOCKERIGNORE.read_text())
    assert context_problems(_dockerfile(), ignore), f"the context rule missed: {how}"


def _break_compose(how: str, services: dict[str, Any]) -> None:
    # each branch breaks one rule in the copy
    if how == "no-healthcheck":
        del services["catalog"]["healthcheck"]
    elif how == "healthcheck-disabled":
        services["redis"]["healthcheck"] = {"disable": True}
    elif how == "depends-list":
        services["gateway"]["depends_on"] = list(services["gateway"]["depends_on"])
    elif how == "depends-started":
        services["orders"]["depends_on"]["inventory"] = {"condition": "service_started"}
    elif how == "one-shot-healthy":
        services["catalog"]["depends_on"]["catalog-migrate"] = {"condition": "service_healthy"}
    elif how == "depends-missing":
        services["orders"]["depends_on"]["rabbitmq"] = {"condition": "service_healthy"}
    elif how == "one-shot-restarts":
        services["orders-migrate"]["restart"] = "unless-stopped"
    elif how == "module-typo":
        services["orders"]["command"] = ["python", "-m", "capstone.ordres", "serve"]
    elif how == "no-migrate":
        del services["notifier"]["depends_on"]["notifier-migrate"]
    elif how == "image-unpinned":
        services["redis"]["image"] = "redis"
    elif how == "image-latest":
        services["jaeger"]["image"] = "jaegertracing/all-in-one:latest"
    elif how == "port-leak":
        services["orders"]["ports"] = ["8002:8002"]
    elif how == "literal-secret":
        services["gateway"]["environment"]["JWT_SECRET"] = "hunter2"
    elif how == "unmarked-default":
        services["gateway"]["environment"]["JWT_SECRET"] = "${JWT_SECRET:-changeme}"
    elif how == "literal-db-password":
        env = services["catalog"]["environment"]
        env["DATABASE_URL"] = "postgresql+psycopg://shop:pw@postgres:5432/shop_catalog"
    elif how == "unknown-database":
        env = services["catalog"]["environment"]
        env["DATABASE_URL"] = env["DATABASE_URL"].replace("shop_catalog", "shop_katalog")
    elif how == "not-scraped":
        services["notifier"]["environment"]["SERVICE_PORT"] = "9999"
    else:  # pragma: no cover - a typo in the parametrize list below
        raise AssertionError(how)


COMPOSE_BREAKS = {
    "no-healthcheck": healthcheck_compose_problems,
    "healthcheck-disabled": healthcheck_compose_problems,
    "depends-list": depends_on_problems,
    "depends-started": depends_on_problems,
    "one-shot-healthy": depends_on_problems,
    "depends-missing": depends_on_problems,
    "one-shot-restarts": one_shot_problems,
    "module-typo": command_problems,
    "no-migrate": migrate_first_problems,
    "image-unpinned": compose_image_problems,
    "image-latest": compose_image_problems,
    "port-leak": ports_problems,
    "literal-secret": compose_secret_problems,
    "unmarked-default": compose_secret_problems,
    "literal-db-password": compose_secret_problems,
    "unknown-database": lambda s: database_problems(s, POSTGRES_INIT.read_text()),
    "not-scraped": lambda s: prometheus_problems(s, yaml.safe_load(PROMETHEUS.read_text())),
}


@pytest.mark.parametrize("how", list(COMPOSE_BREAKS))
def test_compose_rule_catches_a_break(how: str) -> None:
    services = _services()
    _break_compose(how, services)
    assert COMPOSE_BREAKS[how](services), f"the compose rule missed the break {how!r}"


def test_database_rule_catches_a_missing_create() -> None:
    sql = POSTGRES_INIT.read_text().replace("CREATE DATABASE shop_orders;", "")
    assert database_problems(_services(), sql), "a database nobody creates went unnoticed"


# --------------------------------------------------------------------------- a real engine


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
        result = subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE), "config", "-q"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=ROOT,
        )
        assert result.returncode == 0, f"docker compose config rejects the file:\n{result.stderr}"
