"""What a lab test run is asked to do, and what it reports: plain data, passed between the
parent (journey.testrun) and the child that runs pytest (journey.testchild), as JSON when the
child is a new interpreter.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

DEFAULT_TEST_TIMEOUT = 10.0  # for a test that has no timeout marker of its own
NOT_RUN = "not run: "  # a test skipped because an earlier one of its file timed out


@dataclass(frozen=True)
class Substitute:
    """Run with ``module`` of ``lesson_folder`` replaced by ``path`` (see journey.targets)."""

    lesson_folder: str
    module: str
    path: str


@dataclass(frozen=True)
class RunSpec:
    """What to run. Plain data, so that a new interpreter can be handed it as JSON."""

    files: tuple[str, ...]
    target: str = "exercises"
    substitutes: tuple[Substitute, ...] = ()
    stop_at_first_failure: bool = False
    verbose: bool = False  # pytest's own output goes to this process's terminal
    env: dict[str, str] = field(default_factory=dict)
    import_timeout: float = 30.0  # importing one test module (and the lesson code it loads)
    keywords: str = ""  # pytest -k
    first: tuple[str, ...] = ()  # node ids to run before the others (a likely catch, say)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> RunSpec:
        data = json.loads(text)
        data["files"] = tuple(data["files"])
        data["substitutes"] = tuple(Substitute(**s) for s in data["substitutes"])
        data["first"] = tuple(data["first"])
        return cls(**data)


@dataclass
class TestResult:
    __test__ = False
    nodeid: str
    outcome: str  # "passed" | "failed" | "skipped"
    phase: str = "call"  # the phase that decided the outcome: "setup", "call" or "teardown"
    message: str = ""
    not_implemented: bool = False
    timed_out: bool = False
    not_run: bool = False  # skipped because an earlier test of its file timed out
    seconds: float = 0.0

    @property
    def name(self) -> str:
        """The test's name inside its file: ``test_x[param]``."""
        return self.nodeid.split("::", 1)[-1]

    @property
    def file(self) -> str:
        return self.nodeid.split("::", 1)[0]


@dataclass(frozen=True)
class CollectionError:
    file: str
    message: str


@dataclass
class RunResult:
    tests: list[TestResult] = field(default_factory=list)
    collection_errors: list[CollectionError] = field(default_factory=list)
    crashed: str = ""  # the child ended without finishing its session, and why
    killed_in: str = ""  # the test (node id) or file the child was killed in, past its limit
    modules: list[str] = field(default_factory=list)  # third-party modules the child imported
    file_seconds: dict[str, float] = field(default_factory=dict)  # test time per file
    seconds: float = 0.0


Listener = Callable[[dict[str, Any]], None]
