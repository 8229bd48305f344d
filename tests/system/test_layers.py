"""The architecture as tests: a layer table that every import of core/ obeys, no cycle, and cli/ and
dashboard/ import the wings' faces only."""

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core"

# The layer table, lowest first: a module imports only its own unit and the units of lower rank.
# A unit is a wing (core/<wing>/), the kernel (the modules at the top of core/), or the present
# primitives (how a number or a name is shown), which sit low so that every wing may show things.
LAYERS: dict[str, int] = {
    "kernel": 0,
    "data": 1, "store": 1, "present-primitives": 1,
    "engine": 2,
    "experiments": 3,
    "analysis": 4,
    "judging": 5,
    "present": 6,
    "runner": 7, "report": 7,
}
PRESENT_PRIMITIVES = {"lossdb.core.present.numbers", "lossdb.core.present.display"}
# Known upward arrows, each to be removed by the work named beside it (none now: issue 20 item 4
# removed judging.verdicts -> present.findings, so judging returns numbers and present/ writes).
ALLOWED_UPWARD: set[tuple[str, str]] = set()


def _module(path: Path, root: Path = ROOT) -> str:
    parts = ("lossdb", *path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str, root: Path = ROOT) -> bool:
    path = root.joinpath(*name.split(".")[1:])
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _type_checking_only(tree: ast.AST) -> set[int]:
    """The ids of the nodes inside `if TYPE_CHECKING:` blocks (imports there are for annotations only)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ((isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING") or
                                         (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")):
            out |= {id(n) for child in node.body for n in ast.walk(child)}
    return out


def _import_statements(path: Path, root: Path = ROOT) -> list[tuple[str, tuple[str, ...]]]:
    """(module, names) of every lossdb import of a file outside TYPE_CHECKING blocks; `import x` gives ()."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_only(tree)
    out = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lossdb."):
            out.append((node.module, tuple(a.name for a in node.names)))
        elif isinstance(node, ast.Import):
            out += [(a.name, ()) for a in node.names if a.name.startswith("lossdb.")]
    return out


def _imports(path: Path, root: Path = ROOT) -> set[str]:
    """Every core module a file imports, at the top or inside a function (not for TYPE_CHECKING only)."""
    out = set()
    for module, names in _import_statements(path, root):
        if module.startswith("lossdb.core"):
            out.add(module)
            out |= {f"{module}.{n}" for n in names if _is_module(f"{module}.{n}", root)}
    return out


def _graph(root: Path = ROOT) -> dict[str, set[str]]:
    files = {_module(p, root): p for p in (root / "core").rglob("*.py")}
    graph = {}
    for name, path in files.items():
        graph[name] = {m for m in _imports(path, root) if m in files and m != name and not name.startswith(m + ".")
                       and m != "lossdb.core"}
    return graph


def unit(module: str, root: Path = ROOT) -> str:
    """The layer-table unit of a core module: its wing, "present-primitives" or "kernel"."""
    if module in PRESENT_PRIMITIVES:
        return "present-primitives"
    parts = module.split(".")
    if len(parts) > 2 and (root / "core" / parts[2] / "__init__.py").is_file():
        return parts[2]
    return "kernel"


def upward_imports(root: Path = ROOT) -> list[str]:
    """Every import in core/ of a unit that is not the importer's own and not of lower rank."""
    bad = []
    for importer, targets in sorted(_graph(root).items()):
        mine = unit(importer, root)
        for target in sorted(targets):
            theirs = unit(target, root)
            if theirs != mine and LAYERS[theirs] >= LAYERS[mine] and (importer, target) not in ALLOWED_UPWARD:
                bad.append(f"{importer} ({mine}) imports {target} ({theirs})")
    return bad


def _face_names(init: Path) -> set[str]:
    """The names a package's face exports: its literal __all__, or the keys given to core.faces.face."""
    for node in ast.walk(ast.parse(init.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Assign):
            continue
        targets = [t for n in node.targets for t in (n.elts if isinstance(n, ast.Tuple) else [n])]
        if not any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            continue
        if isinstance(node.value, (ast.List, ast.Tuple)):
            return {e.value for e in node.value.elts if isinstance(e, ast.Constant)}
        if isinstance(node.value, ast.Call) and len(node.value.args) > 1 and isinstance(node.value.args[1], ast.Dict):
            return {k.value for k in node.value.args[1].keys if isinstance(k, ast.Constant)}
    return set()


def _face_attributes(path: Path, root: Path = ROOT) -> list[str]:
    """Every `wing.name` a file reads after `from lossdb.core import wing` that the wing's face does not export."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    wings = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "lossdb.core":
            for a in node.names:
                init = root / "core" / a.name / "__init__.py"
                if init.is_file():
                    wings[a.asname or a.name] = (a.name, _face_names(init))
    return [f"{path.relative_to(root)} reads lossdb.core.{wings[n.value.id][0]}.{n.attr}, which its face does not export"
            for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
            and n.value.id in wings and n.attr not in wings[n.value.id][1]]


def behind_the_faces(folder: Path, root: Path = ROOT) -> list[str]:
    """Every import in `folder` of a wing's inside: a submodule, or a name its face does not export."""
    bad = []
    for path in sorted(folder.rglob("*.py")):
        bad += _face_attributes(path, root)
        for module, names in _import_statements(path, root):
            parts = module.split(".")
            if parts[:2] != ["lossdb", "core"] or len(parts) == 2:
                continue  # lossdb.cli/dashboard themselves, or `from lossdb.core import wing_or_kernel_module`
            init = root / "core" / parts[2] / "__init__.py"
            if not init.is_file():
                if len(parts) > 3:
                    bad.append(f"{path.relative_to(root)} imports {module}")
                continue  # a kernel module is its own face
            if len(parts) > 3:
                bad.append(f"{path.relative_to(root)} imports {module}")
                continue
            face = _face_names(init)  # `import lossdb.core.wing` names nothing: the face itself
            bad += [f"{path.relative_to(root)} imports {module}.{n}, which its face does not export"
                    for n in names if n not in face]
    return bad


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
def test_cli_and_dashboard_import_the_wings_faces_only(folder):
    assert behind_the_faces(ROOT / folder) == []


def test_every_import_in_core_goes_to_its_own_unit_or_a_lower_one():
    assert upward_imports() == []


def test_the_allowed_upward_imports_still_exist():
    """An allowance whose edge is gone must go too, so it cannot hide a new arrow later."""
    graph = _graph()
    assert all(target in graph.get(importer, ()) for importer, target in ALLOWED_UPWARD)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


FAKE = {
    "core/__init__.py": "",
    "core/errors.py": "",
    "core/engine/__init__.py": 'from lossdb.core.faces import face\n__all__, __getattr__, __dir__ = face(__name__, {"train": "train"})\n',
    "core/engine/train.py": "from lossdb.core.errors import X\n",
    "core/judging/__init__.py": "__all__ = ['judge_store']\n",
    "core/judging/verdicts.py": "from lossdb.core.engine.train import train\n",
    "cli/__init__.py": "",
    "cli/ok.py": "from lossdb.core.judging import judge_store\nfrom lossdb.core.errors import X\nfrom lossdb.core import engine\n"
                 "from lossdb.core import judging as j\nj.judge_store(None)\n",
}


def test_the_checker_passes_a_tree_that_obeys_the_table(tmp_path):
    root = _tree(tmp_path, FAKE)
    assert upward_imports(root) == [] and behind_the_faces(root / "cli", root) == []


def test_the_checker_catches_an_upward_import_but_not_one_for_type_checking(tmp_path):
    root = _tree(tmp_path, {**FAKE, "core/engine/metrics.py": "def f():\n    from lossdb.core.judging.verdicts import v\n"})
    assert upward_imports(root) == ["lossdb.core.engine.metrics (engine) imports lossdb.core.judging.verdicts (judging)"]
    root = _tree(tmp_path, {"core/engine/metrics.py": """
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from lossdb.core.judging.verdicts import v
        """})
    assert upward_imports(root) == []


def test_the_checker_catches_a_sideways_import_between_wings_of_one_rank(tmp_path):
    root = _tree(tmp_path, {**FAKE, "core/data/__init__.py": "", "core/store/__init__.py": "",
                            "core/data/load.py": "from lossdb.core.store import Store\n"})
    assert upward_imports(root) == ["lossdb.core.data.load (data) imports lossdb.core.store (store)"]


def test_the_checker_catches_cli_reaching_behind_a_face(tmp_path):
    root = _tree(tmp_path, {**FAKE, "cli/bad.py": "from lossdb.core.judging.verdicts import evaluate\n"
                                                  "from lossdb.core.judging import evaluate\n"
                                                  "import lossdb.core.engine.train\n"
                                                  "from lossdb.core import judging\njudging.evaluate(None)\n"})
    assert behind_the_faces(root / "cli", root) == [
        "cli/bad.py reads lossdb.core.judging.evaluate, which its face does not export",
        "cli/bad.py imports lossdb.core.judging.verdicts",
        "cli/bad.py imports lossdb.core.judging.evaluate, which its face does not export",
        "cli/bad.py imports lossdb.core.engine.train",
    ]


def test_every_name_a_face_exports_resolves():
    import importlib

    for init in sorted(CORE.glob("*/__init__.py")):
        face = importlib.import_module(f"lossdb.core.{init.parent.name}")
        missing = [n for n in _face_names(init) if not hasattr(face, n)]
        assert not missing, f"{init.parent.name}: {missing}"


def test_every_core_module_imports_alone_in_a_fresh_interpreter():
    names = sorted(n for n in _graph() if not n.startswith("lossdb.core.report") or n == "lossdb.core.report")
    code = "import importlib, sys\nfor n in sys.argv[1:]: importlib.import_module(n)"
    done = subprocess.run([sys.executable, "-c", code, *names], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_importing_a_lazy_face_imports_nothing_heavy():
    lazy = sorted(p.parent.name for p in CORE.glob("*/__init__.py") if "core.faces" in p.read_text(encoding="utf-8"))
    code = ("import sys\n"
            f"for w in {lazy!r}: __import__('lossdb.core.' + w)\n"
            "print(','.join(m for m in ('numpy', 'pandas', 'scipy', 'sqlalchemy', 'altair') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "", (lazy, done.stdout, done.stderr[-2000:])
    assert {"judging", "present", "analysis", "runner"} <= set(lazy)
