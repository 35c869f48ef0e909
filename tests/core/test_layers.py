"""The house has no back-arrows: no module cycle, nothing below the command line imports it,
and the domain imports no framework (SPEC 13)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "incident_tui"


def _imports(path: Path) -> set[str]:
    """The incident_tui modules `path` imports (relative imports resolved), at any depth."""
    tree = ast.parse(path.read_text())
    mod = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    pkg = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    if path.name == "__init__.py":
        mod = pkg.removesuffix(".__init__")
        pkg = mod
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if node.module:  # `from . import clock` names the module, not the package
                found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {f for f in found if f.startswith("incident_tui")}


def _module_files() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        mod = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        out[mod] = path
    return out


def test_no_layer_imports_the_command_line():
    """ui/, store/, domain/, docs/ and server/ never reach up to cli.py (arrows point down)."""
    offenders = []
    for mod, path in _module_files().items():
        if mod.split(".")[1:2] and mod.split(".")[1] in ("ui", "store", "domain", "docs", "server"):
            if any(i == "incident_tui.cli" or i.startswith("incident_tui.cli.") for i in _imports(path)):
                offenders.append(mod)
    assert offenders == []


def test_the_domain_imports_no_framework():
    for mod, path in _module_files().items():
        if mod.startswith("incident_tui.domain"):
            text = path.read_text()
            for lib in ("textual", "tinydb", "httpx", "starlette", "rich"):
                assert not re.search(rf"^\s*(from|import) {lib}\b", text, re.M), (mod, lib)


def test_the_module_import_graph_has_no_cycle():
    modules = _module_files()
    graph = {m: {i for i in _imports(p) if i in modules and i != m} for m, p in modules.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return [*stack[stack.index(n) :], n]
            if n not in state and (cycle := visit(n)):
                return cycle
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (cycle := visit(m)):
            pytest.fail(" -> ".join(cycle))


def test_only_the_entry_points_set_the_collector_policy():
    """gc is touched in gcpolicy.py alone, and only the entry points call it (run_app, serve, the CLI,
    and the child process the server renders a big document in: server/documents.py)."""
    uses_gc = sorted(m for m, p in _module_files().items() if re.search(r"^\s*import gc\b", p.read_text(), re.M))
    assert uses_gc == ["incident_tui.gcpolicy"]
    callers = sorted(m for m, p in _module_files().items() if re.search(r"\bgcpolicy\.\w+\(", p.read_text()))
    assert callers == [
        "incident_tui.cli",
        "incident_tui.server.documents",
        "incident_tui.server.run",
        "incident_tui.ui.app",
    ]
