"""One rule for tests that need a tool of the machine (a binary, a library, a capability).

    require_tool("certutil", install="libnss3-tools")
    require_tool("SoftHSM2", present=os.path.exists(MODULE), install="softhsm2")

Locally a missing tool skips the test, saying what to install. In CI
(``CI=true``, as every CI service sets it) it fails the test instead: a
pipeline that silently skips the PDF, browser or HSM tests would report
green for code nobody checked. ``make system-packages`` installs the
Debian packages (SYSTEM_BINARIES in the Makefile).

Not for tests that do not apply to a backend (e.g. PostgreSQL-only drills on
SQLite): those skip everywhere.
"""
from __future__ import annotations

import os
import shutil

import pytest


def in_ci() -> bool:
    """Whether the suite runs in CI (``CI`` set to true/1/yes)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require_tool(name: str, *, present: bool | None = None, why: str = "", install: str = "") -> str | None:
    """Go on only if ``name`` is available: skip locally, fail under CI=true.

    ``present`` overrides the check (a library file, a mount that worked); by default
    ``name`` is looked up on PATH. Returns the binary's path when looked up there.
    """
    path = shutil.which(name) if present is None else None
    if present if present is not None else path is not None:
        return path
    reason = f"{name} is not available" + (f": {why}" if why else "") + (f" (install {install})" if install else "")
    if in_ci():
        pytest.fail(f"CI=true: a test needs {reason}; CI must provide it (make system-packages)", pytrace=False)
    pytest.skip(reason)
    return None  # not reached: pytest.skip raises
