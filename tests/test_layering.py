"""The direction of dependencies (ARCHITECTURE.md): the kernel never imports a domain app or
``processes``; domain apps never import ``processes``; between domains, repair reads objections
and commitments call repair, never the reverse."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imports(package: str) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in (ROOT / package.replace(".", "/")).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.add((str(path.relative_to(ROOT)), name.split(".")[0]))
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        (
            "workflow_app",
            {"processes", "objections", "repair", "commitments", "sync", "notifications"},
        ),
        ("objections", {"processes", "repair", "commitments"}),
        ("repair", {"processes", "commitments"}),
        ("commitments", {"processes"}),
        ("notifications", {"processes", "objections", "repair", "commitments"}),
    ],
)
def test_dependencies_point_one_way(package: str, forbidden: set[str]) -> None:
    bad = sorted((f, m) for f, m in _imports(package) if m in forbidden)
    assert not bad, f"{package} must not import {forbidden}: {bad}"


def test_processes_has_no_per_kind_branches() -> None:
    """Adding a workflow is a domain app plus one registration: no ``if kind == …`` in the
    generic parts of processes."""
    for name in ("services.py", "views.py", "api.py", "selectors.py", "sweeps.py", "flows.py"):
        text = (ROOT / "processes" / name).read_text(encoding="utf-8")
        for needle in ('kind == "', "case_kind == '", 'case_kind == "', "kind == '"):
            assert needle not in text, f"processes/{name} branches on a case kind ({needle})"
