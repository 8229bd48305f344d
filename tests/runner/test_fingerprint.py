"""Data fingerprints: every run stores a digest of its data, and a changed CSV is never mixed."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from lossdb.cli.main import app
from lossdb.core.data.fingerprint import data_digest, short
from lossdb.core.data.prepare import DataSpec
from typer.testing import CliRunner

TINY = """[experiment]
name = "grain-check"
[data]
dataset = "csv:grain.csv"
target = "class"
[train]
epochs = 2
seeds = 2
[[arms]]
loss = "ce"
head = "softmax"
[[arms]]
loss = "mse"
head = "softmax"
"""


def grain(n: int = 30, flip: int = 0) -> str:
    """A two-feature CSV with a two-class target 'class'; `flip` changes the first labels."""
    rows = ["a,b,class"]
    for i in range(n):
        c = i % 2
        c = 1 - c if i < flip else c
        rows.append(f"{c + 0.1 * (i % 7):.3f},{(i % 5) / 5:.3f},{'yes' if c else 'no'}")
    return "\n".join(rows) + "\n"


def invoke(*args: str) -> object:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def grain_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding grain.csv and an experiment file on it, made the current folder."""
    (tmp_path / "grain.csv").write_text(grain())
    (tmp_path / "grain.toml").write_text(TINY)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def stored_digests(db: Path) -> list[str | None]:
    with sqlite3.connect(db) as conn:
        rows = [r[0] for r in conn.execute("SELECT data_digest FROM runs ORDER BY id")]
    conn.close()
    return rows


def test_a_csv_digest_is_the_sha256_of_its_bytes_and_follows_an_edit(tmp_path: Path):
    path = tmp_path / "grain.csv"
    path.write_text(grain())
    spec = DataSpec(f"csv:{path}", target="class")
    assert data_digest(spec) == hashlib.sha256(path.read_bytes()).hexdigest()
    path.write_text(grain(flip=3))
    assert data_digest(spec) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_built_in_digests_differ_by_generator_parameters_and_name_only():
    moons = data_digest(DataSpec("moons", noise=0.2))
    assert moons == data_digest(DataSpec("moons", noise=0.2, label_noise=0.4))  # corruptions are the arm's
    assert moons != data_digest(DataSpec("moons", noise=0.3))
    assert data_digest(DataSpec("iris")) != data_digest(DataSpec("digits"))
    assert short(moons) == moons[:12] and short(None) == "unknown"


def test_every_run_stores_the_digest_of_the_file_it_trained_on(grain_folder: Path):
    result = invoke("run", "-c", "grain.toml", "--db", "g.db")
    assert result.exit_code == 0, result.output
    expected = hashlib.sha256((grain_folder / "grain.csv").read_bytes()).hexdigest()
    assert stored_digests(grain_folder / "g.db") == [expected] * 4
    shown = invoke("show", "1", "--db", "g.db", "--format", "json")
    assert shown.exit_code == 0 and json.loads(shown.output)["data_digest"] == expected
    assert "data digest" in invoke("show", "1", "--db", "g.db").output


def test_a_changed_csv_is_refused_in_one_sentence_and_nothing_is_mixed(grain_folder: Path):
    assert invoke("run", "-c", "grain.toml", "--db", "g.db").exit_code == 0
    old = stored_digests(grain_folder / "g.db")
    (grain_folder / "grain.csv").write_text(grain(flip=5))
    result = invoke("run", "-c", "grain.toml", "--db", "g.db")
    assert result.exit_code == 1
    assert "grain.csv changed since its 4 stored runs (digest " + old[0][:12] in result.output
    assert "--force retrains them" in result.output and "Traceback" not in result.output
    assert stored_digests(grain_folder / "g.db") == old  # nothing written
    forced = invoke("run", "-c", "grain.toml", "--db", "g.db", "--force")
    assert forced.exit_code == 0, forced.output
    new = hashlib.sha256((grain_folder / "grain.csv").read_bytes()).hexdigest()
    assert stored_digests(grain_folder / "g.db") == [new] * 4  # replaced, never mixed


def test_an_unchanged_csv_is_skipped_as_already_stored(grain_folder: Path):
    assert invoke("run", "-c", "grain.toml", "--db", "g.db").exit_code == 0
    again = invoke("run", "-c", "grain.toml", "--db", "g.db")
    assert again.exit_code == 0 and "Nothing to run" in again.output


def test_stored_runs_of_a_vanished_file_stay_readable(grain_folder: Path):
    assert invoke("run", "-c", "grain.toml", "--db", "g.db").exit_code == 0
    (grain_folder / "grain.csv").unlink()
    for args in (("runs",), ("show", "2"), ("compare", "-e", "grain-check", "--format", "json")):
        result = invoke(*args, "--db", "g.db")
        assert result.exit_code == 0, result.output
    report = grain_folder / "r.json"
    assert invoke("report", "--format", "json", "--out", str(report), "--db", "g.db").exit_code == 0
    digests = json.loads(report.read_text())["provenance"]["data_digests"]
    assert len(digests) == 1 and digests[0].startswith("grain: ") and digests[0].endswith("(4 runs)")
