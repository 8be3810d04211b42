"""tests/tools.py: a missing tool skips locally and fails under CI=true."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.tools import require_tool

MISSING = "no-such-tool-7f3a"
TESTS = Path(__file__).resolve().parent


def _outcome(**kwargs) -> tuple[str, str]:
    """("skip" | "fail" | "pass", message) of one require_tool call. Caught here, not by
    pytest.raises: a skip escaping this test would report it as skipped, not as failed."""
    name = kwargs.pop("name", MISSING)
    try:
        require_tool(name, **kwargs)
    except pytest.skip.Exception as err:
        return "skip", str(err)
    except pytest.fail.Exception as err:
        return "fail", str(err)
    return "pass", ""


def test_a_missing_tool_skips_locally(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    kind, message = _outcome(install="pkg")
    assert kind == "skip" and f"{MISSING} is not available" in message and "install pkg" in message
    monkeypatch.setenv("CI", "false")
    assert _outcome(name="a-library", present=False)[0] == "skip"


@pytest.mark.parametrize("value", ["true", "1", "TRUE", "yes"])
def test_a_missing_tool_fails_in_ci(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    kind, message = _outcome()
    assert kind == "fail" and f"CI=true: a test needs {MISSING} is not available" in message
    kind, message = _outcome(name="mount", present=False, why="needs root")
    assert kind == "fail" and "needs root" in message


def test_a_present_tool_passes_everywhere(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert require_tool("sh").endswith("/sh")
    assert require_tool("SoftHSM2", present=True) is None


def test_tool_lookups_go_through_require_tool():
    """A test that looks a tool up itself would skip in CI too: only tests/tools.py may."""
    offenders = [f"{p.relative_to(TESTS)}:{n}" for p in sorted(TESTS.rglob("*.py")) if p.name != "tools.py"
                 and p != Path(__file__).resolve()
                 for n, line in enumerate(p.read_text("utf-8").splitlines(), 1)
                 if re.search(r"shutil\.which\(|skipif\(.*(which|exists)", line)]
    assert not offenders, f"use tests.tools.require_tool instead: {offenders}"
