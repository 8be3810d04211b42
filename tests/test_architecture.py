"""The architecture holds (docs/architecture.md): layers, no cycles, one commit point, short modules.

No database here: these read the source. The layer contracts themselves are
import-linter's (pyproject.toml, run by `make lint`); the tests below check
that they cover every module, that they really fail on an upward import, and
what import-linter does not check: cycles between modules, where commits
happen, scaffolding, and file length.
"""
from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "meetings"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# Modules allowed past ~400 lines, each with its reason.
LONG_MODULES: dict[str, str] = {}

# The only places that may call .commit(): the commit points, and units of work
# that are not a request or a socket event.
COMMIT_POINTS = {
    "meetings/platform/http/commit.py": "the one commit point of an HTTP request",
    "meetings/platform/realtime/gateway.py": "the one commit point of a socket event",
    "meetings/platform/jobs/unit.py": "a job's unit of work: its own session, committed when its work is done",
    "meetings/core/db.py": "end_read_only_transaction ends a transaction that wrote nothing (SQLite)",
    "meetings/live/events.py": "the disconnect handler is a socket event outside socket_event()",
    "meetings/cli.py": "each CLI command is its own unit of work",
    "meetings/minutes/cli.py": "each CLI command is its own unit of work",
    "meetings/annotations/receipts.py": "queued read receipts are written by a unit of work of their own",
    "meetings/voting/group_commit.py": ("ballots arriving together are written by a unit of work of their own "
                                        "(one transaction per window); the caller's reads end first"),
    "meetings/voting/expiry.py": ("closing a poll whose time ran out, or resuming a count, is its own unit of work; "
                                  "readers stay read-only"),
    "meetings/archive/service.py": "a bundle download is audited in its own unit of work once the package is built",
    "meetings/accounts/sessions.py": "a credential's last-seen time and a socket's record: units of work of their own",
    "meetings/platform/realtime/relay.py": ("a broadcast of a process without sockets is written after the domain "
                                            "commit in a transaction of its own (engine.begin); the web "
                                            "process's relay deletes what it sent in its own"),
    "meetings/accounts/lockout.py": "a failed login (a 401, rolled back) is counted in a unit of work of its own",
}


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _run_lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(cwd / "pyproject.toml")],
                          cwd=cwd, env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=300)


def test_the_layer_contracts_are_kept():
    result = _run_lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


def test_an_upward_import_breaks_the_contracts(tmp_path):
    """The contracts can fail: a copy of the package with one domain importing a
    higher one (live → voting), and one platform part importing a domain, is refused."""
    copy = tmp_path / "tree"
    shutil.copytree(PACKAGE, copy / "meetings", ignore=shutil.ignore_patterns("__pycache__", "translations"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    assert _run_lint_imports(copy).returncode == 0  # the copy itself is clean

    live_models = copy / "meetings" / "live" / "models.py"
    live_models.write_text(live_models.read_text() + "\nfrom meetings.voting import models as _upward  # noqa\n")
    result = _run_lint_imports(copy)
    assert result.returncode != 0
    assert "meetings.live is not allowed to import meetings.voting" in result.stdout, result.stdout


def test_every_module_is_in_a_layer(tmp_path):
    """`exhaustive = true`: a new top-level package must be placed in a layer, or lint fails."""
    copy = tmp_path / "tree"
    shutil.copytree(PACKAGE, copy / "meetings", ignore=shutil.ignore_patterns("__pycache__", "translations"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    (copy / "meetings" / "stray.py").write_text('"""A module no layer names."""\n')
    result = _run_lint_imports(copy)
    assert result.returncode != 0
    assert "meetings.stray" in result.stdout, result.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in graph.modules:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles_between_modules():
    """Every import counts, lazy ones inside functions included (grimp sees them all)."""
    assert _cycles(grimp.build_graph("meetings", cache_dir=None)) == []


def test_the_cycle_check_can_fail():
    graph = grimp.ImportGraph()
    for name in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(name)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.a")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    assert _cycles(graph) == [["pkg.a", "pkg.b"]]


def _calls(path: Path, attribute: str) -> list[int]:
    tree = ast.parse(path.read_text())
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == attribute]


def test_only_the_commit_points_commit():
    """Services, views and socket handlers never commit (DESIGN.md, "One path for every change")."""
    offenders = {_rel(p): lines for p in _sources() if (lines := _calls(p, "commit")) and _rel(p) not in COMMIT_POINTS}
    assert offenders == {}


def test_no_import_error_fallbacks():
    """Every domain is there: an ``except ImportError`` would hide a broken import."""
    offenders = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ExceptHandler) and isinstance(node.type, ast.Name) \
                    and node.type.id in ("ImportError", "ModuleNotFoundError"):
                offenders.append(f"{_rel(path)}:{node.lineno}")
    assert offenders == []


def test_no_private_names_imported_across_modules():
    offenders = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("meetings"):
                offenders += [f"{_rel(path)}:{node.lineno} {a.name}" for a in node.names
                              if a.name.startswith("_") and a.name != "__version__"]
    assert offenders == []


@pytest.mark.parametrize("path", _sources(), ids=_rel)
def test_modules_are_short(path):
    lines = len(path.read_text().splitlines())
    assert lines <= 400 or _rel(path) in LONG_MODULES, f"{_rel(path)} has {lines} lines"
