"""10.4 A Dockerfile checker: each rule keeps a good Dockerfile clean and catches its breaks."""

from __future__ import annotations

import pytest

from journey.targets import load

rules = load(__file__, "dockerfile_rules")

SHA = "sha256:" + "ab" * 32

# A Dockerfile that keeps every rule; each test breaks one thing in it. Line numbers matter.
GOOD = """\
FROM python:3.11.9-slim-bookworm AS builder
COPY --from=ghcr.io/astral-sh/uv:0.5.1 /uv /bin/uv
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \\
    uv sync --locked --no-install-project --no-dev
COPY src/ ./src/
RUN uv sync --locked --no-dev

FROM python:3.11.9-slim-bookworm
RUN useradd --system --uid 10001 app
ENV PYTHONUNBUFFERED=1 PATH=/app/.venv/bin:$PATH
COPY --from=builder /app /app
USER app
HEALTHCHECK --interval=10s CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/health/ready')"]
CMD ["python", "-m", "app"]
"""


def _edit(old: str, new: str, text: str = GOOD) -> str:
    assert old in text, f"the test's own Dockerfile lost {old!r}"
    return text.replace(old, new, 1)


def _found(text: str, rule: str) -> list[tuple[int, str]]:
    return [(f.line, f.message) for f in rules.check_dockerfile(text) if f.rule == rule]


def _lines(text: str, rule: str) -> list[int]:
    return [line for line, _ in _found(text, rule)]


def test_a_good_dockerfile_keeps_every_rule() -> None:
    found = rules.check_dockerfile(GOOD)
    assert found == [], f"the good Dockerfile keeps every rule, but got: {found}"
    assert rules.RULES == (
        "multi-stage",
        "pinned-base",
        "non-root",
        "healthcheck",
        "no-secrets",
        "uv-cache",
        "exec-form",
    )


def test_findings_are_sorted_by_line() -> None:
    text = _edit("USER app\n", "").replace('CMD ["python", "-m", "app"]', "CMD python app")
    text = _edit("FROM python:3.11.9-slim-bookworm AS builder", "FROM python AS builder", text)
    found = rules.check_dockerfile(text)
    assert found == sorted(found), "findings are sorted by line"
    assert len(found) >= 3, "every finding of every rule"
    assert all(f.rule in rules.RULES for f in found)


# -- multi-stage ------------------------------------------------------------------------------


def test_one_stage_breaks_multi_stage() -> None:
    one = 'FROM python:3.11.9-slim\nUSER app\nHEALTHCHECK CMD ["true"]\nCMD ["app"]\n'
    assert _lines(one, "multi-stage") == [1], "one stage: a finding at its FROM line"


def test_final_stage_must_copy_from_an_earlier_stage() -> None:
    text = _edit("COPY --from=builder /app /app", "COPY --from=python:3.11.9 /x /x")
    assert _lines(text, "multi-stage") == [10], (
        "copying from an image is not copying from the build stage: finding at the final FROM"
    )
    for source in ("BUILDER", "0"):
        text = _edit("COPY --from=builder", f"COPY --from={source}")
        assert _lines(text, "multi-stage") == [], f"--from={source} names the builder stage"


# -- pinned-base ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "base",
    ["python", "python:latest", "python:3.11-slim-bookworm", "python:${VERSION}-slim"],
)
def test_an_unpinned_base_is_found(base: str) -> None:
    text = _edit("FROM python:3.11.9-slim-bookworm\n", f"FROM {base}\n")
    found = _found(text, "pinned-base")
    assert [line for line, _ in found] == [10], f"FROM {base} is not an exact version"
    assert base.split("$")[0] in found[0][1], "the message names the reference"


def test_pinned_bases_pass() -> None:
    for base in (f"python:3.11-slim@{SHA}", "python:3.11.9", "scratch"):
        text = _edit("FROM python:3.11.9-slim-bookworm\n", f"FROM {base}\n")
        assert _lines(text, "pinned-base") == [], f"FROM {base} is pinned enough"
    text = "ARG V=3.11.9\n" + _edit("FROM python:3.11.9-slim-bookworm\n", "FROM python:${V}\n")
    assert _lines(text, "pinned-base") == [], "an ARG with an exact default pins the base"


def test_copy_from_an_image_must_be_pinned_too() -> None:
    text = _edit("ghcr.io/astral-sh/uv:0.5.1", "ghcr.io/astral-sh/uv:latest")
    assert _lines(text, "pinned-base") == [2], "COPY --from=<image> pulls that image"
    text = _edit("FROM python:3.11.9-slim-bookworm\n", "FROM builder\n")
    assert _lines(text, "pinned-base") == [], "a stage needs no pin: it is built here"


# -- non-root ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "line"), [(None, 10), ("root", 14), ("0:0", 14), ("root:app", 14)]
)
def test_the_final_stage_must_not_run_as_root(user: str | None, line: int) -> None:
    text = _edit("USER app\n", "" if user is None else f"USER {user}\n")
    assert _lines(text, "non-root") == [line], (
        f"USER {user}: the service would run as root (finding at the USER line, or the "
        "final FROM when there is none)"
    )


def test_only_the_final_stages_last_user_counts() -> None:
    text = _edit("USER app\n", "USER app\nUSER root\n")
    assert _lines(text, "non-root") == [15], "the last USER wins"
    text = _edit("USER app\n", "USER root\nUSER 10001:10001\n")
    assert _lines(text, "non-root") == [], "ending as uid 10001 is fine"
    text = _edit("USER app\n", "").replace("WORKDIR /app\n", "WORKDIR /app\nUSER app\n", 1)
    assert _lines(text, "non-root") == [11], "a USER in the build stage does not count"


# -- healthcheck ------------------------------------------------------------------------------


def test_the_final_stage_needs_a_healthcheck() -> None:
    without = "\n".join(line for line in GOOD.splitlines() if "HEALTHCHECK" not in line) + "\n"
    assert _lines(without, "healthcheck") == [10]
    off = _edit("HEALTHCHECK --interval=10s", "HEALTHCHECK NONE\n#")
    assert _lines(off, "healthcheck") == [15], "HEALTHCHECK NONE turns it off"
    in_builder = without.replace("WORKDIR /app\n", 'WORKDIR /app\nHEALTHCHECK CMD ["true"]\n')
    assert _lines(in_builder, "healthcheck") == [11], "a build stage's HEALTHCHECK is not kept"


# -- no-secrets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "ENV JWT_SECRET=hunter2",
        'ENV A=1 DB_PASSWORD="s3 cret" B=2',
        "ENV GITHUB_TOKEN ghp_123",
        "ARG NPM_TOKEN",
        "ARG apiKey=abc",
        "ENV DATABASE_URL=postgresql://shop:pw@db:5432/shop",
    ],
)
def test_secrets_in_env_or_arg_are_found(line: str) -> None:
    text = _edit("USER app\n", f"{line}\nUSER app\n")
    assert _lines(text, "no-secrets") == [14], f"{line}: a secret baked into the image"


def test_a_secret_in_the_build_stage_counts_too() -> None:
    text = _edit("WORKDIR /app\n", "WORKDIR /app\nARG PIP_PASSWORD=x\n")
    assert _lines(text, "no-secrets") == [4], "build stages' layers and history are readable"


def test_harmless_variables_pass() -> None:
    text = _edit(
        "USER app\n", "ENV KEY_ID=4 REDIS_URL=redis://cache:6379/0 TOKENS_PER_SECOND=5\nUSER app\n"
    )
    assert _lines(text, "no-secrets") == []


# -- uv-cache ---------------------------------------------------------------------------------


def test_no_uv_sync_is_found() -> None:
    text = GOOD.replace("uv sync", "pip install")
    assert _lines(text, "uv-cache") == [1], "no uv sync: a finding at the first FROM"


def test_uv_sync_must_be_locked() -> None:
    text = _edit("uv sync --locked --no-install-project", "uv sync --no-install-project")
    assert _lines(text, "uv-cache") == [5]
    text = _edit("uv sync --locked --no-install-project", "uv sync --frozen --no-install-project")
    assert _lines(text, "uv-cache") == [], "--frozen also installs exactly uv.lock"


def test_code_copied_before_the_dependencies_is_found() -> None:
    text = _edit("COPY pyproject.toml uv.lock ./", "COPY . .")
    found = _found(text, "uv-cache")
    assert [line for line, _ in found] == [5], "COPY . . before uv sync: every edit reinstalls"
    text = _edit("COPY pyproject.toml uv.lock ./", "COPY pyproject.toml uv.lock src/ ./")
    assert _lines(text, "uv-cache") == [5], "src/ copied with the lock file is still too early"


def test_uv_sync_needs_the_lock_file() -> None:
    text = _edit("COPY pyproject.toml uv.lock ./", "COPY pyproject.toml ./")
    assert _lines(text, "uv-cache") == [5], "uv.lock is not in the image when uv sync runs"


def test_a_bind_mounted_lock_file_is_fine() -> None:
    text = _edit(
        "COPY pyproject.toml uv.lock ./\nRUN --mount=type=cache,target=/root/.cache/uv \\\n",
        "RUN --mount=type=cache,target=/root/.cache/uv \\\n"
        "    --mount=type=bind,source=uv.lock,target=uv.lock \\\n"
        "    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \\\n",
    )
    assert _lines(text, "uv-cache") == [], "uv's documented bind-mount pattern keeps the rule"


def test_copy_from_another_stage_before_uv_sync_is_not_code() -> None:
    text = _edit(
        "WORKDIR /app\n", "WORKDIR /app\nCOPY --from=ghcr.io/astral-sh/uv:0.5.1 /uvx /b/\n"
    )
    assert _lines(text, "uv-cache") == []


# -- exec-form --------------------------------------------------------------------------------


def test_cmd_and_entrypoint_must_be_exec_form() -> None:
    text = _edit('CMD ["python", "-m", "app"]', "CMD python -m app")
    assert _lines(text, "exec-form") == [16]
    text = _edit('CMD ["python", "-m", "app"]', 'ENTRYPOINT ["tini", "--"]\nCMD uvicorn app:app')
    assert _lines(text, "exec-form") == [17], "only the shell-form one"
    text = _edit('CMD ["python", "-m", "app"]', "ENTRYPOINT exec python -m app")
    assert _lines(text, "exec-form") == [16]
    text = _edit('CMD ["python", "-m", "app"]', "CMD [python, -m, app]")
    assert _lines(text, "exec-form") == [16], (
        "[python, -m, app] is not JSON (no quotes): Docker runs it in a shell"
    )
    text = _edit("WORKDIR /app\n", "WORKDIR /app\nCMD echo builder\n")
    assert _lines(text, "exec-form") == [], "a build stage's CMD never runs"


def test_a_dockerfile_without_from_raises() -> None:
    with pytest.raises(ValueError, match="no FROM"):
        rules.check_dockerfile("RUN echo\n")
