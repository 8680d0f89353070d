"""10.6 A CI workflow validator for the lab's own CI."""

from __future__ import annotations

from typing import Any

import pytest

from journey.targets import load

ci = load(__file__, "ci_workflow")

SHA = "0123456789abcdef0123456789abcdef01234567"

# A workflow that keeps every rule; each test breaks one thing in a copy of it.
GOOD = f"""\
name: CI
on:
  push:
    branches: [main]
  pull_request:
permissions:
  contents: read
env:
  FORCE_COLOR: "1"
jobs:
  lint:
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    steps:
      - uses: actions/checkout@{SHA}
      - run: echo lint
  lab:
    runs-on: ubuntu-24.04
    timeout-minutes: 30
    env:
      JOURNEY_REQUIRE_SERVICES: 1
    services:
      db:
        image: postgres:16.6
        env: {{POSTGRES_HOST_AUTH_METHOD: trust}}
        ports: ["5432:5432"]
        options: --health-cmd "pg_isready -U postgres" --health-interval 2s
      cache:
        image: redis:7.4
        ports: ["6379:6379"]
        options: --health-cmd "redis-cli ping"
      broker:
        image: rabbitmq:3.13-management
        ports: ["5672:5672"]
        options: --health-cmd "rabbitmq-diagnostics -q ping"
    steps:
      - uses: actions/checkout@v4.2.2
      - uses: ./.github/actions/local-thing
      - name: the lab's CI
        run: bash .ci/run
        env:
          CODECOV_TOKEN: ${{{{ secrets.CODECOV_TOKEN }}}}
"""


@pytest.fixture
def good() -> dict[str, Any]:
    import yaml

    document = yaml.safe_load(GOOD)  # parsed here, not by the exercise
    document["on"] = document.pop(True)
    return document


def _rules(document: dict[str, Any], rule: str) -> list[str]:
    return [f.path for f in ci.check_workflow(document) if f.rule == rule]


def test_load_workflow_keeps_on_as_a_string_key() -> None:
    document = ci.load_workflow(GOOD)
    assert True not in document, "YAML 1.1 reads the key `on` as True: rename it to 'on'"
    assert "on" in document
    assert set(document["on"]) == {"push", "pull_request"}


def test_load_workflow_refuses_what_is_not_a_workflow() -> None:
    for text in ("- a\n- list\n", "name: no jobs\n", "jobs: [a, b]\n", "jobs: {a: [\n"):
        with pytest.raises(ci.WorkflowError) as caught:
            ci.load_workflow(text)
        assert isinstance(caught.value, ValueError)
    with pytest.raises(ci.WorkflowError, match="jobs"):
        ci.load_workflow("name: no jobs\n")


def test_a_good_workflow_has_no_findings(good: dict[str, Any]) -> None:
    found = ci.check_workflow(good)
    assert found == [], f"the good workflow keeps every rule, but got: {found}"
    assert ci.ci_jobs(good) == ["lab"], "only the job that runs .ci/run"


@pytest.mark.parametrize(
    ("on", "found"),
    [
        ("push", True),
        (["push"], True),
        (["push", "pull_request"], False),
        ({"pull_request": None, "push": {"branches": ["main"]}}, False),
        ({"workflow_dispatch": None}, True),
        (None, True),
    ],
)
def test_triggers(good: dict[str, Any], on: Any, found: bool) -> None:
    good["on"] = on
    assert _rules(good, "triggers") == (["on"] if found else []), f"on: {on}"


def test_events_in_every_form() -> None:
    assert ci.events({"on": "push"}) == {"push"}
    assert ci.events({"on": ["push", "pull_request"]}) == {"push", "pull_request"}
    assert ci.events({"on": {"schedule": [{"cron": "0 3 * * *"}]}}) == {"schedule"}


def test_a_workflow_that_never_runs_the_ci_script(good: dict[str, Any]) -> None:
    good["jobs"]["lab"]["steps"][2]["run"] = "uv run pytest"
    assert _rules(good, "runs-ci") == ["jobs"]
    good["jobs"]["lab"]["steps"][2]["run"] = "cd sub && ./.ci/run --fast"
    assert _rules(good, "runs-ci") == [], "./.ci/run is the same script"
    good["jobs"]["lab"]["steps"][2]["run"] = "bash .ci/runner"
    assert _rules(good, "runs-ci") == ["jobs"], ".ci/runner is another file"


def test_the_script_runs_after_checkout(good: dict[str, Any]) -> None:
    steps = good["jobs"]["lab"]["steps"]
    steps.append(steps.pop(0))  # checkout last
    assert _rules(good, "runs-ci") == ["jobs.lab"]


def test_each_backing_service_is_declared(good: dict[str, Any]) -> None:
    del good["jobs"]["lab"]["services"]["broker"]
    found = [f for f in ci.check_workflow(good) if f.rule == "services"]
    assert [f.path for f in found] == ["jobs.lab.services"]
    assert "rabbitmq" in found[0].message


def test_services_publish_their_port_to_the_same_port(good: dict[str, Any]) -> None:
    good["jobs"]["lab"]["services"]["db"]["ports"] = [5432]  # a random port of the runner
    good["jobs"]["lab"]["services"]["cache"]["ports"] = ["16379:6379"]
    assert _rules(good, "services") == ["jobs.lab.services.cache", "jobs.lab.services.db"]


def test_services_need_a_health_check(good: dict[str, Any]) -> None:
    del good["jobs"]["lab"]["services"]["cache"]["options"]
    good["jobs"]["lab"]["services"]["db"]["options"] = "--health-interval 2s"
    assert _rules(good, "services") == ["jobs.lab.services.cache", "jobs.lab.services.db"]


def test_service_images_are_tagged(good: dict[str, Any]) -> None:
    good["jobs"]["lab"]["services"]["broker"]["image"] = "rabbitmq"
    assert _rules(good, "services") == ["jobs.lab.services.broker"]


@pytest.mark.parametrize(
    ("where", "value", "found"),
    [
        ("job", 0, True),
        ("job", "true", True),
        ("workflow", "1", False),  # the job's 1 and the workflow's agree
        ("step", "0", True),  # the step's own value wins
        ("none", None, True),
    ],
)
def test_require_services(good: dict[str, Any], where: str, value: Any, found: bool) -> None:
    job = good["jobs"]["lab"]
    step = job["steps"][2]
    if where == "job":
        job["env"]["JOURNEY_REQUIRE_SERVICES"] = value
    elif where == "workflow":
        good["env"]["JOURNEY_REQUIRE_SERVICES"] = value
    elif where == "step":
        step["env"]["JOURNEY_REQUIRE_SERVICES"] = value
    else:
        del job["env"]
    assert _rules(good, "require-services") == (["jobs.lab.steps.2"] if found else [])


def test_require_services_may_come_from_the_workflow() -> None:
    import yaml

    document = yaml.safe_load(GOOD)
    document["on"] = document.pop(True)
    del document["jobs"]["lab"]["env"]
    document["env"]["JOURNEY_REQUIRE_SERVICES"] = "1"
    assert _rules(document, "require-services") == []


@pytest.mark.parametrize(
    ("uses", "found"),
    [
        ("actions/checkout@v4", True),
        ("actions/checkout@main", True),
        ("actions/checkout", True),
        (f"actions/checkout@{SHA[:7]}", True),
        ("actions/checkout@v4.2.2", False),
        (f"actions/checkout@{SHA}", False),
        ("docker://alpine:3.20", False),
    ],
)
def test_pinned_actions(good: dict[str, Any], uses: str, found: bool) -> None:
    good["jobs"]["lint"]["steps"][0]["uses"] = uses
    assert _rules(good, "pinned-actions") == (["jobs.lint.steps.0"] if found else [])


@pytest.mark.parametrize(
    ("minutes", "found"),
    [
        (None, True),
        (0, True),
        (61, True),
        (True, True),
        ("30", True),
        (1, False),
        (60, False),
        (12.5, False),
    ],
)
def test_timeout(good: dict[str, Any], minutes: Any, found: bool) -> None:
    if minutes is None:
        del good["jobs"]["lint"]["timeout-minutes"]
    else:
        good["jobs"]["lint"]["timeout-minutes"] = minutes
    assert _rules(good, "timeout") == (["jobs.lint.timeout-minutes"] if found else [])


@pytest.mark.parametrize(
    ("permissions", "found"),
    [
        (None, True),
        ("write-all", True),
        ({"contents": "read", "packages": "write"}, True),
        ("read-all", False),
        ({}, False),
    ],
)
def test_permissions(good: dict[str, Any], permissions: Any, found: bool) -> None:
    if permissions is None:
        del good["permissions"]
    else:
        good["permissions"] = permissions
    assert _rules(good, "permissions") == (["permissions"] if found else [])


def test_secrets_written_in_the_file(good: dict[str, Any]) -> None:
    good["env"]["API_TOKEN"] = "abc123"
    good["jobs"]["lab"]["steps"][2]["env"]["CODECOV_TOKEN"] = "${{ secrets.X }} extra"
    good["jobs"]["lab"]["services"]["db"]["env"]["POSTGRES_PASSWORD"] = "postgres"
    good["jobs"]["lint"]["env"] = {"DB_PASSWORD": "pw"}
    assert _rules(good, "secrets") == [
        "env.API_TOKEN",
        "jobs.lab.services.db.env.POSTGRES_PASSWORD",
        "jobs.lab.steps.2.env.CODECOV_TOKEN",
        "jobs.lint.env.DB_PASSWORD",
    ]
