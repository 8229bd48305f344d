"""lossdb's own namespace: the wheel installs `lossdb` only, so a user's own `core` package (or
`cli`, `dashboard`, `migrations`) lives beside it untouched, and the console script works."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _run(*args: str | Path, **kwargs) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False, timeout=300, **kwargs)
    assert done.returncode == 0, f"{args}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """lossdb's wheel, built offline from this checkout (the test environment's setuptools)."""
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("source") / "lossdb"  # a copy: the build writes build/ and egg-info beside it
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__", "*.db"))
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", out, source,
         env={"PATH": "/usr/bin:/bin", "HOME": str(out.parent), "TMPDIR": str(out.parent)})
    (found,) = out.glob("lossdb-*.whl")
    return found


def test_the_wheel_holds_the_lossdb_package_only(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        tops = {name.split("/", 1)[0] for name in zf.namelist()}
        names = set(zf.namelist())
    assert {t for t in tops if not t.endswith(".dist-info")} == {"lossdb"}
    assert "lossdb/core/experiments/catalogue/saturation.toml" in names
    assert "lossdb/migrations/script.py.mako" in names


def test_lossdb_runs_and_compares_beside_a_users_own_core_package(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    # lossdb's dependencies come from the test environment (offline); lossdb itself only from the wheel
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # pip too comes through deps.pth; run by the fresh interpreter, it installs into the fresh venv
    _run(python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", wheel)
    user = tmp_path / "project"
    for name in ("core", "cli", "migrations"):
        (user / name).mkdir(parents=True)
        (user / name / "__init__.py").write_text(f'WHOSE = "the user\'s {name}"\n')
    env = {"PATH": f"{env_dir / 'bin'}:/usr/bin:/bin", "PYTHONPATH": str(user), "HOME": str(tmp_path),
           "LOSSDB_CACHE_DIR": ""}
    lossdb = env_dir / "bin" / "lossdb"
    db = tmp_path / "ns.db"
    _run(lossdb, "run", "saturation", "--epochs", "2", "--seeds", "1", "--db", db, cwd=user, env=env)
    compared = _run(lossdb, "compare", "--all-conditions", "--format", "json", "--db", db, cwd=user, env=env)
    assert '"claim"' in compared.stdout
    probe = _run(python, "-c", "import core, cli, migrations, lossdb.core, lossdb.cli.main\n"
                               "print(core.WHOSE, cli.WHOSE, migrations.WHOSE, sep='|')\n"
                               "print(lossdb.core.__file__)", cwd=user, env=env)
    whose, where = probe.stdout.strip().splitlines()
    assert whose == "the user's core|the user's cli|the user's migrations"
    assert Path(where).is_relative_to(env_dir) and not Path(where).is_relative_to(ROOT)
