"""Bad comparisons, bad CSV files and bad --dataset runs: one sentence, exit 1, the database unchanged.

The style of tests/test_bad_input.py; the CSV cases include the probe's classes of issue 15 (a pipe,
a device, a folder, a system file, a huge file, binary or non-UTF-8 bytes): none may hang, read
without limit or quote the file's content.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lossdb.cli.main import app
from lossdb.core.data.datasets import MAX_CSV_BYTES
from tests.system.test_bad_input import sha256

EXPERIMENT = """[experiment]
name = "mine"
[data]
dataset = "{dataset}"
{data}
[train]
epochs = 2
seeds = 1
[[arms]]
loss = "ce"
head = "softmax"
[[arms]]
loss = "mse"
head = "softmax"
label = "{label}"
"""
SECRET = "root:x:0:0:root:/root:/bin/bash"


def toml(comparison: str = "", dataset: str = "iris", data: str = "", label: str = "mse") -> str:
    """A two-arm experiment (labels ce/softmax and mse) with one [[comparisons]] table."""
    head = EXPERIMENT.format(dataset=dataset, data=data, label=label)
    return head + ("\n[[comparisons]]\n" + comparison if comparison else "")


def classes(n: int = 30, labels: str = "ab", gap_rows: tuple[int, ...] = ()) -> str:
    """A CSV with features x, z and a string target 'kind'; rows in gap_rows miss their z."""
    rows = [f"{i},{'' if i + 1 in gap_rows else i % 7},{labels[i % len(labels)]}" for i in range(n)]
    return "x,z,kind\n" + "\n".join(rows) + "\n"


def _fifo(folder: Path) -> None:
    os.mkfifo(folder / "pipe.csv")


def _huge(folder: Path) -> None:
    with (folder / "huge.csv").open("wb") as fh:  # sparse: no disk space, no time
        fh.truncate(MAX_CSV_BYTES + 1)


@dataclass(frozen=True)
class Case:
    """One bad input: files to write, the arguments, what the error says and what it must not."""

    id: str
    args: tuple[str, ...]
    message: str
    files: tuple[tuple[str, str | bytes], ...] = ()
    absent: tuple[str, ...] = ()
    make: Callable[[Path], None] | None = None
    extra: tuple[str, ...] = field(default=())


def run_file(comparison: str = "", **kw: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The arguments and files of `lossdb run -c x.toml` with this experiment."""
    return ("run", "-c", "{dir}/x.toml"), (("x.toml", toml(comparison, **kw)),)


def cmp_case(id: str, comparison: str, message: str, **kw: str) -> Case:
    """A case of a bad [[comparisons]] table."""
    args, files = run_file(comparison, **kw)
    return Case(id, args, message, files)


def csv_case(id: str, text: str | bytes | None, message: str, *, name: str = "d.csv",
             absent: tuple[str, ...] = (), make: Callable[[Path], None] | None = None,
             data: str = 'target = "kind"') -> Case:
    """A case of a bad CSV file read through an experiment file in the same folder."""
    files = ((("x.toml", toml(dataset=f"csv:{name}", data=data)),)
             + (((name, text),) if text is not None else ()))
    return Case(id, ("run", "-c", "{dir}/x.toml"), message, files, absent, make)


def data_case(id: str, args: tuple[str, ...], message: str, text: str = classes()) -> Case:
    """A case of `lossdb run --dataset csv:d.csv …` on a CSV in the current folder."""
    return Case(id, ("run", *args), message, (("d.csv", text),))


VALID_AT = "must be final, best (at the best-validation epoch) or epochs_to:THRESHOLD"
CASES = [
    cmp_case("unknown label", 'favoured = "focal"\nother = "mse"\n',
             "{dir}/x.toml, line 18: [comparisons] favoured: unknown arm label 'focal'; valid: 'ce/softmax', 'mse'"),
    cmp_case("default label of a labelled arm", 'favoured = "mse/softmax"\nother = "ce/softmax"\n',
             "unknown arm label 'mse/softmax'; valid: 'ce/softmax', 'mse'"),
    cmp_case("missing other", 'favoured = "mse"\n', "[comparisons] other: missing: name the arm by its label"),
    cmp_case("an arm against itself", 'favoured = "mse"\nother = "mse"\n', "compares 'mse' with itself"),
    cmp_case("metric not stored", 'favoured = "mse"\nother = "ce/softmax"\nmetric = "test_rmse"\n',
             "[comparisons] metric: 'test_rmse' is not stored for these arms; valid: grad_norm, saturation,"),
    cmp_case("minority recall without imbalance", 'favoured = "mse"\nother = "ce/softmax"\nmetric = "test_minority_recall"\n',
             "'test_minority_recall' is not stored for these arms"),
    cmp_case("at of the wrong word", 'favoured = "mse"\nother = "ce/softmax"\nat = "last"\n',
             f"[comparisons] at: {VALID_AT} such as \"epochs_to:0.9\", got 'last'"),
    cmp_case("at without a number", 'favoured = "mse"\nother = "ce/softmax"\nat = "epochs_to:high"\n',
             f"{VALID_AT}"),
    cmp_case("at as a number", 'favoured = "mse"\nother = "ce/softmax"\nat = 0.9\n', f"{VALID_AT}"),
    cmp_case("threshold outside the metric's range", 'favoured = "mse"\nother = "ce/softmax"\nat = "epochs_to:90"\n',
             "the threshold 90 is outside [0, 1], the range of test_accuracy"),
    cmp_case("epochs_to on a metric without a side", 'favoured = "mse"\nother = "ce/softmax"\n'
             'metric = "grad_norm"\nat = "epochs_to:1"\nbetter = "lower"\n', "grad_norm has none; use final or best"),
    cmp_case("better not higher or lower", 'favoured = "mse"\nother = "ce/softmax"\nbetter = "more"\n',
             "[comparisons] better: must be higher or lower, got 'more'"),
    cmp_case("better needed", 'favoured = "mse"\nother = "ce/softmax"\nmetric = "grad_norm"\n',
             "[comparisons] better: needed: grad_norm has no better side of its own"),
    cmp_case("zero min_effect", 'favoured = "mse"\nother = "ce/softmax"\nmin_effect = 0\n',
             "[comparisons] min_effect: must be a number > 0 (the smallest difference that matters), got 0"),
    cmp_case("negative min_effect", 'favoured = "mse"\nother = "ce/softmax"\nmin_effect = -0.1\n',
             "must be a number > 0 (the smallest difference that matters), got -0.1"),
    cmp_case("infinite min_effect", 'favoured = "mse"\nother = "ce/softmax"\nmin_effect = inf\n',
             "must be a number > 0 (the smallest difference that matters), got inf"),
    cmp_case("ratio min_effect at most 1", 'favoured = "mse"\nother = "ce/softmax"\nmetric = "test_nll"\nmin_effect = 0.05\n',
             "test_nll is compared as a ratio, so min_effect must be above 1 (1.1 = 10% better), got 0.05; or set ratio = false"),
    cmp_case("min_effect needed for an unbounded difference", 'favoured = "mse"\nother = "ce/softmax"\n'
             'metric = "test_nll"\nratio = false\n', "min_effect: needed: the smallest difference in test_nll"),
    cmp_case("ratio not a boolean", 'favoured = "mse"\nother = "ce/softmax"\nratio = "yes"\n',
             "[comparisons] ratio: must be true or false, got 'yes'"),
    cmp_case("unknown key", 'favored = "mse"\nother = "ce/softmax"\n',
             "[comparisons] favored: unknown key; valid keys: name, claim, favoured, other, metric, at,"),
    cmp_case("two comparisons with one name", 'favoured = "mse"\nother = "ce/softmax"\n\n[[comparisons]]\n'
             'favoured = "mse"\nother = "ce/softmax"\nmetric = "test_ece"\n',
             "line 21: [comparisons] name: two [[comparisons]] are named 'mse-vs-ce/softmax'"),
    cmp_case("empty claim", 'favoured = "mse"\nother = "ce/softmax"\nclaim = ""\n',
             "[comparisons] claim: must be a sentence (text), got ''"),
    Case("comparisons not tables", ("run", "-c", "{dir}/x.toml"), "comparisons must be [[comparisons]] tables",
         (("x.toml", "comparisons = 3\n" + toml()),)),
    cmp_case("empty arm label", "", "[arms] label: must be non-empty text, got ''", label=""),
    csv_case("csv is a pipe", None, "CSV file '{dir}/pipe.csv' is a pipe, not a regular file",
             name="pipe.csv", make=_fifo),
    csv_case("csv is a device", None, "CSV file '/dev/zero' is a device, not a regular file", name="/dev/zero"),
    csv_case("csv is a folder", None, "is a folder, not a regular file", name="sub", make=lambda d: (d / "sub").mkdir()),
    csv_case("csv larger than the limit", None, "is larger than lossdb's limit of 100 MB", name="huge.csv", make=_huge),
    csv_case("csv of a system file", SECRET + "\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n",
             "has a single column, so it is not a comma-separated table", absent=("root", "daemon")),
    csv_case("csv of binary bytes", b"a,b\x00,kind\n1,2,a\n", "holds binary data (NUL bytes), not CSV text"),
    csv_case("csv not utf-8", "x,z,kind\n1,2,caf\xe9\n".encode("latin-1"), "is not UTF-8 text", absent=("caf",)),
    csv_case("csv empty", "", "is empty; it needs a header line"),
    csv_case("csv with ragged rows", "x,z,kind\n1,2,a\n3,4,b,5\n", "line 3 has 4 fields where the header has 3",
             absent=("5",)),
    csv_case("csv missing", None, "CSV file '{dir}/nope.csv' does not exist; check the path after 'csv:' "
             "(in an experiment file it starts from the file's folder", name="nope.csv"),
    csv_case("csv no target column", classes(), "has no target column 'label'; its columns are 'x', 'z', 'kind'",
             data='target = "label"'),
    csv_case("csv rows with missing values", classes(gap_rows=(3, 8)),
             "has missing values in 2 row(s) (data rows 3, 8; header not counted), the first in column 'z'; "
             "fill or remove them, or drop them with --drop-missing (drop_missing = true in [data])"),
    csv_case("csv every row missing, dropped", classes(4, gap_rows=(1, 2, 3, 4)),
             "has a missing value in every row", data='target = "kind"\ndrop_missing = true'),
    csv_case("csv single class", classes(labels="a"), "has a single class in target column 'kind'",
             absent=("'a'",)),
    csv_case("csv non-numeric feature", "x,z,kind\n1,red,a\n2,blue,b\n",
             "has a non-numeric feature column 'z' (first at data row 1)", absent=("red",)),
    csv_case("csv too few per class after the split", classes(30, labels="a" * 13 + "bc"),
             "every class needs at least 2 training samples", absent=("'b'",)),
    data_case("dataset neither a file nor a bundled set", ("--dataset", "grian", "--target", "kind"),
              "--dataset 'grian' is neither a CSV file nor a bundled dataset: give csv:PATH, the path of an "
              "existing .csv file, or a bundled dataset (digits, breast_cancer, wine, iris, diabetes)"),
    data_case("target without dataset", ("--target", "kind"), "--target applies to --dataset csv:PATH only"),
    data_case("drop-missing without dataset", ("--drop-missing",), "--drop-missing applies to --dataset csv:PATH only"),
    data_case("unknown task", ("--dataset", "csv:d.csv", "--target", "kind", "--task", "ranking"),
              "task must be one of classification, regression, auto, got 'ranking'"),
    data_case("not data-driven", ("--dataset", "csv:d.csv", "--target", "kind", "saturation"),
              "saturation does not run on your data: it follows one sigmoid neuron"),
    data_case("regression experiment on classes", ("--dataset", "csv:d.csv", "--target", "kind", "outliers"),
              "outliers needs a regression target, and this is a classification target with 2 classes"),
    data_case("binary on three classes", ("--dataset", "csv:d.csv", "--target", "kind", "binary"),
              "binary needs two classes, and this is a classification target with 3 classes",
              classes(30, labels="abc")),
    data_case("unknown experiment on data", ("--dataset", "csv:d.csv", "--target", "kind", "nope"),
              "unknown experiment 'nope'; valid on this data: convergence, binary, calibration,"),
    data_case("dataset missing rows", ("--dataset", "csv:d.csv", "--target", "kind"),
              "has missing values in 1 row(s) (data row 5; header not counted)", classes(gap_rows=(5,))),
    data_case("dataset without the target", ("--dataset", "csv:d.csv"),
              "has no target column 'target'; its columns are 'x', 'z', 'kind' (choose one with"),
    Case("experiment name with @ (reserved for data)", ("run", "-c", "{dir}/x.toml"),
         "[experiment] name: use letters, digits, '-', '_' and '.' only",
         (("x.toml", toml().replace('name = "mine"', 'name = "convergence@mydata"')),)),
    Case("experiments of a missing database", ("experiments",), "database file {dir}/none.db does not exist",
         extra=("--db", "{dir}/none.db")),
]


@pytest.fixture(scope="module")
def stored_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lossdb database holding one experiment with one run per arm, copied by each test."""
    folder = tmp_path_factory.mktemp("template")
    (folder / "ok.toml").write_text(toml())
    db = folder / "lossdb.db"
    result = CliRunner().invoke(app, ["run", "--config", str(folder / "ok.toml"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_comparison_csv_or_dataset_run_is_one_sentence_and_changes_nothing(
    case: Case, stored_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "lossdb.db"
    shutil.copyfile(stored_db, db)
    for name, content in case.files:
        target = tmp_path / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content.replace("{dir}", str(tmp_path)))
    if case.make:
        case.make(tmp_path)
    monkeypatch.chdir(tmp_path)  # --dataset csv:d.csv starts from the current folder
    before = sha256(db)
    args = [a.replace("{dir}", str(tmp_path)) for a in (*case.args, *(case.extra or ("--db", str(db))))]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert case.message.replace("{dir}", str(tmp_path)) in result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
    assert "Traceback" not in result.output
    for secret in case.absent:
        assert secret not in result.output.replace(str(tmp_path), "")
    assert sha256(db) == before
