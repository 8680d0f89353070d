"""10.3 Read a Dockerfile into build stages with dockerfile-parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from journey.targets import load

model = load(__file__, "dockerfile_model")

TWO_STAGES = """\
# syntax=docker/dockerfile:1
ARG PYTHON_VERSION=3.11.9
FROM --platform=linux/amd64 python:${PYTHON_VERSION}-slim AS Builder
WORKDIR /app
ENV UV_COMPILE_BYTECODE=1 \\
    # a comment inside a continuation is dropped
    UV_LINK_MODE=copy
RUN --mount=type=cache,target=/root/.cache/uv \\
    uv sync --locked

FROM python:${PYTHON_VERSION}-slim AS runtime
COPY --from=builder /app/.venv /app/.venv
USER app
CMD ["python", "-m", "app"]
"""


def test_stages_names_bases_and_lines() -> None:
    stages = model.parse_dockerfile(TWO_STAGES)
    assert len(stages) == 2, "two FROM lines, two stages"
    builder, runtime = stages
    assert (builder.index, builder.name, builder.line) == (0, "builder", 3), (
        "the AS name is lower-cased; lines count from 1, as an editor shows them"
    )
    assert (runtime.index, runtime.name, runtime.line) == (1, "runtime", 11)
    assert builder.base == "python:3.11.9-slim", "ARG values before the first FROM substitute"
    assert builder.base_is_stage is False
    assert runtime.base_is_stage is False


def test_instructions_of_each_stage_without_comments() -> None:
    builder, runtime = model.parse_dockerfile(TWO_STAGES)
    assert [(i.keyword, i.line) for i in builder.instructions] == [
        ("WORKDIR", 4),
        ("ENV", 5),
        ("RUN", 8),
    ], "a stage holds its instructions after FROM, comments dropped, each at its first line"
    env = builder.instructions[1]
    joined = "UV_COMPILE_BYTECODE=1" in env.value, "UV_LINK_MODE=copy" in env.value
    assert joined == (True, True), "continuation lines are joined into one value"
    assert [i.keyword for i in runtime.instructions] == ["COPY", "USER", "CMD"]
    assert runtime.find("user") == [runtime.instructions[1]], "find() takes any case"
    assert model.final_stage([builder, runtime]) is runtime


def test_a_base_that_names_an_earlier_stage() -> None:
    text = "FROM python:3.11.9 AS Base\nRUN true\nFROM BASE\nFROM later\nFROM python AS later\n"
    stages = model.parse_dockerfile(text)
    assert stages[1].base_is_stage is True, "stage names are case-insensitive: BASE is base"
    assert stages[2].base_is_stage is False, "'later' is only defined after it is used: an image"
    assert stages[3].name == "later"


def test_only_arg_may_come_before_the_first_from() -> None:
    with pytest.raises(model.DockerfileError, match="no FROM"):
        model.parse_dockerfile("# just a comment\nRUN echo hi\n")
    with pytest.raises(model.DockerfileError, match="before the first FROM"):
        model.parse_dockerfile("ENV A=1\nFROM python:3.11.9\n")
    assert isinstance(model.DockerfileError("x"), ValueError)
    assert model.parse_dockerfile("ARG V=1\nFROM python:3.11.9\n")[0].instructions == ()


def test_parsing_writes_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    model.parse_dockerfile(TWO_STAGES)
    assert list(tmp_path.iterdir()) == [], (
        "read from memory (fileobj=io.BytesIO(...)): DockerfileParser's content setter writes "
        "a Dockerfile into the current folder"
    )


def _instruction(keyword: str, value: str) -> object:
    return model.Instruction(keyword, value, 7)


@pytest.mark.parametrize(
    ("keyword", "value", "expected"),
    [
        ("COPY", "pyproject.toml uv.lock ./", (("pyproject.toml", "uv.lock"), "./", None)),
        (
            "COPY",
            "--from=builder --chown=app:app /opt/venv /opt/venv",
            (("/opt/venv",), "/opt/venv", "builder"),
        ),
        ("COPY", "--link --chmod=755 run.sh /bin/", (("run.sh",), "/bin/", None)),
        (
            "COPY",
            '["my file.txt", "other", "/dest dir/"]',
            (("my file.txt", "other"), "/dest dir/", None),
        ),
        ("COPY", '--from=0 ["/a b", "/c"]', (("/a b",), "/c", "0")),
        ("ADD", "https://example.com/x.tgz /tmp/", (("https://example.com/x.tgz",), "/tmp/", None)),
    ],
)
def test_parse_copy(keyword: str, value: str, expected: tuple[object, ...]) -> None:
    spec = model.parse_copy(_instruction(keyword, value))
    assert (spec.sources, spec.destination, spec.from_) == expected


def test_parse_copy_refuses_what_is_not_a_copy() -> None:
    with pytest.raises(model.DockerfileError):
        model.parse_copy(_instruction("RUN", "cp a b"))
    with pytest.raises(model.DockerfileError, match="line 7"):
        model.parse_copy(_instruction("COPY", "--from=builder onlyone"))


def test_split_flags_keeps_repeated_flags_in_order() -> None:
    flags, rest = model.split_flags(
        "--mount=type=cache,target=/c  --mount=type=bind,source=uv.lock,target=uv.lock "
        "--network=none uv sync --locked"
    )
    assert flags == [
        ("mount", "type=cache,target=/c"),
        ("mount", "type=bind,source=uv.lock,target=uv.lock"),
        ("network", "none"),
    ]
    assert rest == "uv sync --locked"
    assert model.split_flags("--link a b") == ([("link", "")], "a b")
    assert model.split_flags("echo --not-a-flag") == ([], "echo --not-a-flag")


@pytest.mark.parametrize(
    ("keyword", "value", "pairs"),
    [
        ("ENV", 'A=1 B="two words"', [("A", "1"), ("B", "two words")]),
        ("ENV", "NAME some value", [("NAME", "some value")]),
        ("ENV", "PATH=/opt/venv/bin:$PATH", [("PATH", "/opt/venv/bin:$PATH")]),
        ("ARG", "VERSION", [("VERSION", None)]),
        ("ARG", "A=1 B", [("A", "1"), ("B", None)]),
        ("ARG", "EMPTY=", [("EMPTY", "")]),
    ],
)
def test_env_pairs(keyword: str, value: str, pairs: list[tuple[str, str | None]]) -> None:
    assert model.env_pairs(_instruction(keyword, value)) == pairs


def test_env_pairs_refuses_other_instructions() -> None:
    with pytest.raises(model.DockerfileError):
        model.env_pairs(_instruction("LABEL", "a=b"))
