"""Shared set-up for lesson 03's tests.

Starlette 1.x warns, once, when its TestClient is imported on top of ``httpx`` rather than
``httpx2``; that is about the test tooling, not about the learner's code, so the import happens
here, first, with that one warning silenced. Test modules then import TestClient as usual.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    import fastapi.testclient  # noqa: F401
