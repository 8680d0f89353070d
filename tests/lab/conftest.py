from __future__ import annotations

from pathlib import Path

import pytest

from journey import journal, state

LOG_TEMPLATE = """# My learning log

My own words, which journey must never change.

<!-- journey:progress:start -->
<!-- journey:progress:end -->

## Journal
"""


@pytest.fixture
def lab_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Points the CLI's journal and state at a temporary folder; returns the journal's path."""
    log = tmp_path / "LEARNING_LOG.md"
    log.write_text(LOG_TEMPLATE, encoding="utf-8")
    monkeypatch.setattr(journal, "LOG_PATH", log)
    monkeypatch.setattr(state, "STATE_DIR", tmp_path / ".journey")
    return log
