"""What users typed reaches the terminal and spreadsheets harmless: escape sequences shown escaped,
Rich markup printed as text, formula-like CSV cells prefixed with ', shell commands quoted."""

from __future__ import annotations

import csv
import io
import shlex

import pytest
from typer.testing import CliRunner

from lossdb.cli.main import app
from lossdb.core.present.safetext import csv_cell, terminal

ESC = "\x1b"
# A description with a terminal hyperlink escape, a colour, a Rich link tag and a stray closing tag.
DESCRIPTION = r"evil \u001b]8;;http://evil.example\u0007click\u001b]8;;\u0007 \u001b[31mred [link=http://x]L[/link] [/b]"
HOSTILE = f"""
[experiment]
name = "hostile"
description = "{DESCRIPTION}"
[data]
dataset = "iris"
[train]
epochs = 1
seeds = 1
lr = 0.5
batch_size = 32
[[arms]]
loss = "ce"
head = "softmax"
label = "=HYPERLINK(\\"http://evil\\")"
[[arms]]
loss = "mse"
head = "softmax"
label = "@SUM(1+1) \\u001b[2J"
[[comparisons]]
name = "hostile-cmp"
favoured = "=HYPERLINK(\\"http://evil\\")"
other = "@SUM(1+1) \\u001b[2J"
"""


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("hostile")
    config = folder / "hostile.toml"
    config.write_text(HOSTILE)
    db = str(folder / "h.db")
    result = CliRunner().invoke(app, ["run", "--config", str(config), "--db", db])
    assert result.exit_code == 0, result.output
    return db


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_the_terminal_function_escapes_controls_and_markup():
    assert terminal("a\x1b[31mb\x07\r\u202e") == "a\\x1b[31mb\\x07\\x0d\\u202e"
    assert terminal("[link=http://x]L[/link] [/b]") == "\\[link=http://x]L\\[/link] \\[/b]"
    assert terminal("[link=x]", markup=False) == "[link=x]"
    assert terminal("a\nb") == "a\\nb" and terminal("a\nb", newlines=True) == "a\nb"


def test_csv_cells_that_a_spreadsheet_would_evaluate_are_prefixed():
    assert [csv_cell(v) for v in ("=1+1", "+1+A1", "-A1", "@SUM(A1)", "\tx", "\rx", "plain", "-0.5", "-inf", 3)] \
        == ["'=1+1", "'+1+A1", "'-A1", "'@SUM(A1)", "'\tx", "'\\x0dx", "plain", "-0.5", "-inf", 3]


@pytest.mark.parametrize("command", [["experiments"], ["runs"], ["show", "1"], ["compare"],
                                     ["compare", "--wide"], ["compare", "--all-conditions"],
                                     ["compare", "--format", "markdown"], ["compare", "--format", "csv"],
                                     ["runs", "--format", "csv"]])
def test_no_escape_sequence_reaches_the_terminal_raw(hostile_db, command):
    result = invoke(*command, "--db", hostile_db)
    assert result.exit_code == 0, result.output
    assert ESC not in result.output and "\x07" not in result.output
    assert "Traceback" not in result.output


def test_experiments_prints_markup_as_text_and_does_not_crash_on_a_closing_tag(hostile_db):
    result = invoke("experiments", "--db", hostile_db)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "\\x1b" in result.output and "[link=http://x]L[/link]" in text.replace("\\[", "[")


def test_csv_of_runs_and_compare_prefix_formula_labels(hostile_db):
    runs = list(csv.DictReader(io.StringIO(invoke("runs", "--format", "csv", "--columns", "id,arm",
                                                  "--db", hostile_db).output)))
    labels = {r["arm"] for r in runs}
    assert "'=HYPERLINK(\"http://evil\")" in labels
    assert not any(v.startswith(("=", "@", "+")) for r in runs for v in r.values())
    rows = list(csv.reader(io.StringIO(invoke("compare", "--format", "csv", "--db", hostile_db).output)))
    cells = [c for row in rows[1:] for c in row]
    assert any(c.startswith("'=HYPERLINK") for c in cells)
    assert not any(c.startswith(("=", "@", "+")) for c in cells)


def test_an_error_naming_a_typed_path_shows_its_escape_escaped(tmp_path):
    result = invoke("runs", "--db", str(tmp_path / "missing\x1b[2J.db"))
    assert result.exit_code == 1 and ESC not in result.output and "\\x1b[2J" in result.output


def test_the_dashboards_reproduce_command_survives_a_hostile_title(tmp_path):
    from lossdb.dashboard import loaders

    title = "it's $(touch pwned) `id`; rm -rf ~"
    url = f"sqlite:///{tmp_path / 'x y.db'}"
    line = loaders.report_command(loaders.ReportRequest(url, (), ("convergence", "a b"), title))
    words = shlex.split(line)
    assert words == ["lossdb", "report", "--experiment", "convergence", "--experiment", "a b",
                     "--title", title, "--db", str(tmp_path / "x y.db")]
