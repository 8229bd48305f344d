"""`lossdb --help` starts fast because no command imports the engine, the store or pandas up front."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("numpy", "pandas", "sqlalchemy", "alembic", "scipy", "altair", "lossdb.core.store", "lossdb.core.judging.claims")


def test_the_help_of_lossdb_imports_none_of_the_heavy_libraries() -> None:
    probe = (
        "import sys\n"
        "from lossdb.cli.main import app\n"
        "from typer.testing import CliRunner\n"
        "result = CliRunner().invoke(app, ['--help'])\n"
        "assert result.exit_code == 0 and 'compare' in result.output, result.output\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_the_export_formats_named_for_help_are_the_stores() -> None:
    from lossdb.cli.commands_store import EXPORT_FORMATS
    from lossdb.core.store import EXPORT_FORMATS as STORED

    assert EXPORT_FORMATS == STORED
