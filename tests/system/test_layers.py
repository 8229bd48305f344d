"""The architecture as tests: core's import graph has no cycle, and cli/dashboard use core's public faces."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core"


def _module(path: Path) -> str:
    parts = ("lossdb", *path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split(".")[1:])
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imports(path: Path) -> set[str]:
    """Every core module a file imports, at the top or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lossdb.core"):
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names if _is_module(f"{node.module}.{a.name}")}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("lossdb.core")}
    return out


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in CORE.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        graph[name] = {m for m in _imports(path) if m in files and m != name and not name.startswith(m + ".")
                       and m != "lossdb.core"}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_import_graph_of_core_has_no_cycle():
    assert _cycle(_graph()) is None, " → ".join(_cycle(_graph()) or [])


@pytest.mark.parametrize("declaration", ["lossdb.core.judging.claims", "lossdb.core.experiments.arms", "lossdb.core.present.numbers", "lossdb.core.status"])
def test_declaration_modules_import_no_judging_engine_or_store(declaration):
    deps = _graph()[declaration]
    assert not deps & {"lossdb.core.judging.verdicts", "lossdb.core.judging.judge", "lossdb.core.engine.train", "lossdb.core.store", "lossdb.core.analysis.frame"}


def test_core_never_imports_streamlit_or_typer():
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not names & {"streamlit", "typer", "click"}, path


@pytest.mark.parametrize("folder", ["cli", "dashboard"])
def test_cli_and_dashboard_import_the_store_package_never_its_submodules(folder):
    for path in (ROOT / folder).rglob("*.py"):
        bad = {m for m in _imports(path) if m.startswith("lossdb.core.store.")}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_every_core_module_imports_alone_in_a_fresh_interpreter():
    names = sorted(n for n in _graph() if not n.startswith("lossdb.core.report") or n == "lossdb.core.report")
    code = "import importlib, sys\nfor n in sys.argv[1:]: importlib.import_module(n)"
    done = subprocess.run([sys.executable, "-c", code, *names], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
