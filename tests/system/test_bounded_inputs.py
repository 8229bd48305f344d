"""Every input bounded and every refusal one sentence: special files as --config or --db, deep
TOML, CSV files too large to read, too many arms or comparisons, options that need another."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lossdb.cli.main import app
from lossdb.core.data import csvshape
from lossdb.core.experiments import validate



def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def one_sentence_error(result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/urandom", "/dev/null", "fifo"])
def test_config_reads_only_regular_files(special, fifo, tmp_path):
    path = str(fifo) if special == "fifo" else special
    result = invoke("run", "--config", path, "--db", str(tmp_path / "x.db"))
    one_sentence_error(result, "not a regular file")
    assert not (tmp_path / "x.db").exists()


def test_a_config_over_the_size_cap_is_refused_unread(tmp_path):
    big = tmp_path / "big.toml"
    big.write_bytes(b"# padding\n" * (200_000))  # 2 MB of comments
    one_sentence_error(invoke("run", "--config", str(big), "--db", str(tmp_path / "x.db")), "larger than")


@pytest.mark.parametrize("deep", ["a = " + "[" * 5000 + "]" * 5000, "a = " + "{b = " * 500 + "1" + "}" * 500,
                                  "a = " + "[" * 40 + "]" * 40])
def test_deeply_nested_toml_is_one_sentence_not_a_recursion_error(deep, tmp_path):
    config = tmp_path / "deep.toml"
    config.write_text(deep + "\n")
    one_sentence_error(invoke("run", "--config", str(config), "--db", str(tmp_path / "x.db")))


@pytest.mark.parametrize("command", [["compare"], ["runs"], ["db", "upgrade"], ["db", "current"],
                                     ["run", "margin", "--seeds", "1", "--epochs", "1"]])
@pytest.mark.parametrize("special", ["/dev/null", "fifo"])
def test_db_on_a_special_file_is_refused_without_waiting_or_writing_beside_it(command, special, fifo):
    path = str(fifo) if special == "fifo" else special
    one_sentence_error(invoke(*command, "--db", path), "not a regular file")
    assert not Path(path + "-journal").exists() and not Path(path + "-wal").exists()


def test_a_database_url_of_another_kind_is_named_not_told_to_install_postgres():
    result = invoke("compare", "--db", "mysql://me:secret@localhost/x")
    one_sentence_error(result, "SQLite or PostgreSQL only")
    assert "lossdb[postgres]" not in result.output and "secret" not in result.output


@pytest.mark.parametrize("option", [["--max-seeds", "9"], ["--round", "3"], ["--all-conditions"]])
def test_until_decided_options_are_refused_without_it(option, tmp_path):
    result = invoke("run", "margin", "--seeds", "1", "--epochs", "1", *option, "--db", str(tmp_path / "x.db"))
    one_sentence_error(result, f"{option[0]} only applies with --until-decided")
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize("columns", ["", ",", " , "])
def test_runs_with_no_column_named_is_refused(columns, tmp_path):
    one_sentence_error(invoke("runs", "--columns", columns, "--db", str(tmp_path / "x.db")), "--columns names no column")


@pytest.mark.parametrize("target", ["", "  "])
def test_an_empty_target_is_named_as_such(target, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("a,b,target\n1,2,0\n2,1,1\n")
    result = invoke("run", "--dataset", f"csv:{data}", "--target", target, "--db", str(tmp_path / "x.db"))
    one_sentence_error(result, "--target is empty")
    assert "'target'" not in result.output


def test_too_many_arms_are_refused_before_training(tmp_path):
    arms = "".join(f'[[arms]]\nloss = "ce"\nhead = "softmax"\nlabel = "a{i}"\n' for i in range(validate.MAX_ARMS + 1))
    config = tmp_path / "many.toml"
    config.write_text(f'[experiment]\nname = "many"\n[data]\ndataset = "iris"\n{arms}')
    one_sentence_error(invoke("run", "--config", str(config), "--db", str(tmp_path / "x.db")),
                       f"more than lossdb's limit of {validate.MAX_ARMS}")


def test_too_many_comparisons_are_refused(tmp_path):
    comparisons = "".join(f'[[comparisons]]\nname = "c{i}"\nfavoured = "mse/softmax"\nother = "ce/softmax"\n'
                          for i in range(validate.MAX_COMPARISONS + 1))
    config = tmp_path / "many.toml"
    config.write_text('[experiment]\nname = "many"\n[data]\ndataset = "iris"\n[[arms]]\nloss = "ce"\nhead = "softmax"\n'
                      f'[[arms]]\nloss = "mse"\nhead = "softmax"\n{comparisons}')
    one_sentence_error(invoke("run", "--config", str(config), "--db", str(tmp_path / "x.db")),
                       f"limit of {validate.MAX_COMPARISONS}")


def test_the_csv_shape_is_counted_from_the_file(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("a,b,c,target\n" + "1,2,3,0\n" * 1234 + "4,5,6,1")  # no final newline
    shape = csvshape.csv_shape(str(data))
    assert (shape.rows, shape.columns, shape.size) == (1234 + 1, 4, data.stat().st_size)


def test_a_csv_too_wide_to_read_is_refused_before_it_is_read(tmp_path):
    n = csvshape.MAX_READ_BYTES // csvshape.COLUMN_OVERHEAD + 10  # ~131 k columns: a 0.8 MB file
    data = tmp_path / "wide.csv"
    data.write_text(",".join(f"c{i}" for i in range(n)) + ",target\n" + "1," * n + "0\n")
    result = invoke("run", "--dataset", f"csv:{data}", "--db", str(tmp_path / "x.db"))
    one_sentence_error(result, f"{n + 1:,} columns", "GB of memory")
    assert not (tmp_path / "x.db").exists()


def test_the_stack_estimate_of_a_csv_uses_its_real_rows_and_columns(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("a,b,target\n" + "1,2,0\n" * 300)
    arm = {"data": {"dataset": f"csv:{data}"}, "model": {"hidden": [8]}, "train": {"dtype": "float64"}}
    samples, features, _ = validate._shape(arm, None)
    assert (samples, features) == (300, 2)  # not the 20,000 × 64 guessed before
