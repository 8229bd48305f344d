"""`lossdb db upgrade` checks the free space before its backup and never leaves a partial one."""

from __future__ import annotations

import collections
import hashlib
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from lossdb.core.errors import StoreError
from lossdb.core.store import current, upgrade
from lossdb.core.store import migrate as store_migrate

SAVED = Path(__file__).resolve().parents[1] / "data" / "schema_0001.db"
Usage = collections.namedtuple("Usage", "total used free")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_upgrade_whose_backup_does_not_fit_is_refused_before_writing(tmp_path, monkeypatch):
    db = tmp_path / "old.db"
    shutil.copyfile(SAVED, db)
    before = _digest(db)
    free = db.stat().st_size + 1000  # room for the copy, not for the margin the upgrade needs too
    monkeypatch.setattr(store_migrate.shutil, "disk_usage", lambda _: Usage(10**9, 10**9 - free, free))
    with pytest.raises(StoreError, match=r"copies it to a backup of .* MB, but its folder has only .* free"):
        upgrade(str(db))
    assert _digest(db) == before and current(str(db)) == "0001"
    assert not list(tmp_path.glob("*.bak-*"))


def _small_files() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))


def test_a_backup_that_fails_halfway_is_removed_and_said_in_one_sentence(tmp_path):
    db = tmp_path / "old.db"
    shutil.copyfile(SAVED, db)  # 86 kB: its copy cannot be written under a 40 kB file size limit
    before = _digest(db)
    code = "import sys; from lossdb.cli.main import main; sys.argv = ['lossdb', *sys.argv[1:]]; main()"
    result = subprocess.run([sys.executable, "-c", code, "db", "upgrade", "--db", str(db)],
                            capture_output=True, text=True, preexec_fn=_small_files, timeout=60)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("Error: the backup of") and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert not list(tmp_path.glob("*.bak-*"))
    assert _digest(db) == before
