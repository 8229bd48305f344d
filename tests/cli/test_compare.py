"""`lossdb compare` through the real Typer app against real runs in SQLite files."""

import json

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from lossdb.cli.main import app
from lossdb.core.judging.claims import CLAIMS
from tests.conftest import tiny_toml

SMALL = tiny_toml("convergence", description="a tiny stand-in for the convergence experiment",
                  claims='["convergence", "classification-accuracy"]', epochs=4, seeds=3,
                  arms=(("ce", "softmax"), ("mse", "softmax")))
KEYS = {"claim", "verdict", "effect", "ci_low", "ci_high", "n", "condition", "finding", "arms", "values",
        "experiment", "metric"}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def small_db(tmp_path, runner) -> str:
    """A SQLite file holding a real small run of an experiment named convergence."""
    config, db = tmp_path / "small.toml", tmp_path / "runs.db"
    config.write_text(SMALL)
    # --force: a file may take a catalogue experiment's name only when told to (issue 15)
    result = runner.invoke(app, ["run", "--config", str(config), "--force", "--db", str(db)])
    assert result.exit_code == 0, result.output
    return str(db)


def test_compare_json_has_one_verdict_per_claim_with_the_documented_keys(runner, small_db):
    result = runner.invoke(app, ["compare", "--format", "json", "--db", small_db])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["claim"] for r in rows] == list(CLAIMS)
    assert all(KEYS <= r.keys() for r in rows)
    measured = {r["claim"]: r for r in rows if r["verdict"] != "not run"}
    assert measured["convergence"]["n"] == 3 and measured["convergence"]["experiment"] == "convergence"


def test_compare_says_how_to_run_a_claim_without_runs(runner, small_db):
    rows = json.loads(runner.invoke(app, ["compare", "--format", "json", "--db", small_db]).stdout)
    outliers = next(r for r in rows if r["claim"] == "outliers")
    assert (outliers["verdict"], outliers["command"]) == ("not run", "lossdb run outliers")


def test_compare_all_conditions_lists_every_learning_rate_setting(runner, small_db):
    result = runner.invoke(app, ["compare", "--format", "json", "--all-conditions", "-e", "convergence",
                                 "--db", small_db])
    assert result.exit_code == 0, result.output
    rows = [r for r in json.loads(result.stdout) if r["metric"] == "final test accuracy"]
    assert {r["lr"] for r in rows} >= {"0.1", "0.5"} and sum(r["headline"] for r in rows) == 1


def test_compare_experiment_filter_keeps_only_claims_that_experiment_tests(runner, small_db):
    rows = json.loads(runner.invoke(app, ["compare", "--format", "json", "-e", "convergence",
                                          "--db", small_db]).stdout)
    assert {r["claim"] for r in rows} == {"convergence", "vanishing-gradient", "classification-accuracy"}


def test_compare_markdown_is_a_table_with_a_row_per_claim(runner, small_db):
    result = runner.invoke(app, ["compare", "--format", "markdown", "--db", small_db])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("| claim |") and len(lines) == 2 + len(CLAIMS)


def test_compare_table_shows_every_claim_and_verdict(runner, small_db):
    result = runner.invoke(app, ["compare", "--db", small_db], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert all(claim in result.stdout for claim in CLAIMS) and "not run" in result.stdout


def test_compare_unknown_experiment_lists_the_valid_ones(runner, small_db):
    result = runner.invoke(app, ["compare", "-e", "nope", "--db", small_db])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "unknown experiment 'nope'; valid: binary, calibration" in result.output


def test_compare_unknown_format_is_one_sentence_and_exit_1(runner, small_db):
    result = runner.invoke(app, ["compare", "--format", "xml", "--db", small_db])
    assert result.exit_code == 1 and "unknown format 'xml'" in result.output and "Traceback" not in result.output


def test_compare_on_a_missing_database_fails_without_a_traceback(runner, tmp_path):
    result = runner.invoke(app, ["compare", "--db", str(tmp_path / "absent.db")])
    assert result.exit_code == 1 and result.output.startswith("Error: ") and "Traceback" not in result.output


def test_compare_help_shows_an_example(runner):
    result = runner.invoke(app, ["compare", "--help"])
    assert result.exit_code == 0 and "Example: lossdb" in result.output


def test_catalogue_experiments_declare_only_known_claims():
    from lossdb.core.experiments.spec import catalogue

    for name, exp in catalogue().items():
        assert set(exp.claims) <= set(CLAIMS), name


@pytest.mark.slow
def test_the_quick_catalogue_gives_a_measured_verdict_for_every_claim_it_covers(runner, quick_catalogue_db):
    from lossdb.core.experiments.spec import catalogue

    db, _ = quick_catalogue_db
    rows = json.loads(runner.invoke(app, ["compare", "--format", "json", "--db", db]).stdout)
    assert [r["claim"] for r in rows] == list(CLAIMS)
    shipped = set(catalogue())
    covered = [r for r in rows if set(CLAIMS[r["claim"]].experiments) <= shipped]
    assert covered and all(r["verdict"] in ("supported", "contradicted", "equivalent", "inconclusive") for r in covered)


def test_the_default_table_fits_80_columns_and_never_cuts_a_claim_name(runner, small_db):
    out = runner.invoke(app, ["compare", "--db", small_db], env={"COLUMNS": "80"}).output
    assert max(len(line) for line in out.splitlines()) <= 80
    claim_lines = [line.split()[0] for line in out.splitlines() if line and not line.startswith((" ", "-", "claim"))]
    assert set(CLAIMS) <= set(claim_lines)


def test_all_conditions_groups_rows_by_claim_and_names_the_measure(runner, small_db):
    out = runner.invoke(app, ["compare", "--all-conditions", "--db", small_db], env={"COLUMNS": "80"}).output
    shown = [line.split()[0] for line in out.splitlines() if line and not line.startswith((" ", "-", "claim", "Effects", "or "))]
    assert shown == list(dict.fromkeys(shown))  # each claim named once, its rows below it
    assert "epochs to 90% training accuracy" in out


@pytest.mark.parametrize("flag, value, key", [("--verdict", "not run", "verdict"), ("--claim", "convergence", "claim")])
def test_compare_filters_by_verdict_and_by_claim(runner, small_db, flag, value, key):
    rows = json.loads(runner.invoke(app, ["compare", "--all-conditions", flag, value, "--format", "json",
                                          "--db", small_db]).output)
    assert rows and {r[key] for r in rows} == {value}


def test_compare_csv_has_the_presenters_columns(runner, small_db):
    import csv
    import io

    from lossdb.core.present.cells import SUMMARY_COLUMNS

    out = runner.invoke(app, ["compare", "--format", "csv", "--db", small_db]).output
    rows = list(csv.reader(io.StringIO(out)))
    assert tuple(rows[0]) == SUMMARY_COLUMNS and len(rows) == len(CLAIMS) + 1


def test_an_unknown_verdict_word_lists_the_valid_ones(runner, small_db):
    result = runner.invoke(app, ["compare", "--verdict", "maybe", "--db", small_db])
    assert result.exit_code == 1 and "valid: supported, contradicted, equivalent" in result.output


def test_compare_reaches_the_robust_estimator_and_refuses_an_unknown_one(runner, small_db):
    result = runner.invoke(app, ["compare", "--estimator", "robust", "--format", "json", "--all-conditions",
                                 "--db", small_db])
    assert result.exit_code == 0, result.output
    assert {r["estimator"] for r in json.loads(result.stdout) if r["verdict"] != "not run"}
    medians = [r for r in json.loads(result.stdout) if r["estimator"].startswith("median of per-seed")]
    assert medians and {r["estimand"] for r in medians} <= {"median of per-seed differences", "median of per-seed ratios"}
    assert all(r["estimand"] in r["finding"] for r in medians)  # the estimand is stated with every number
    table = runner.invoke(app, ["compare", "--estimator", "robust", "--db", small_db])
    assert table.exit_code == 0 and "the median of per-seed differences" in " ".join(table.stdout.split())
    bad = runner.invoke(app, ["compare", "--estimator", "median", "--db", small_db])
    assert bad.exit_code == 1 and "unknown estimator 'median'; valid: t, robust" in bad.output
    assert "Traceback" not in bad.output


@pytest.mark.parametrize("columns", [80, 120])
def test_compare_wide_fits_the_terminal_and_keeps_the_whole_finding(runner, small_db, columns):
    result = runner.invoke(app, ["compare", "--wide", "--db", small_db], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    assert max(cell_len(line) for line in result.stdout.splitlines()) <= columns  # display width (p̂)
    rows = json.loads(runner.invoke(app, ["compare", "--format", "json", "--db", small_db]).stdout)
    first_words = [w.strip(",.;:") for w in rows[0]["finding"].split()[:3]]  # a wrap may part a comma
    assert all(w in result.stdout for w in first_words)


def test_compare_wide_piped_keeps_its_200_columns(runner, small_db):
    result = runner.invoke(app, ["compare", "--wide", "--db", small_db], env={"COLUMNS": ""})
    assert max(cell_len(line) for line in result.stdout.splitlines()) == 200


def test_compare_effect_column_is_no_wider_than_its_widest_effect(runner, small_db):
    result = runner.invoke(app, ["compare", "--db", small_db], env={"COLUMNS": "200"})
    table = result.stdout.split("\n\n")[0]  # the table, not the notes under it (those wrap at the width)
    assert max(len(line) for line in table.splitlines()) < 120


def test_compare_all_conditions_names_each_rows_condition_and_puts_the_headline_first(runner, small_db):
    result = runner.invoke(app, ["compare", "--all-conditions", "-e", "convergence", "--db", small_db],
                           env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    rows = json.loads(runner.invoke(app, ["compare", "--format", "json", "--all-conditions", "-e", "convergence",
                                          "--db", small_db]).stdout)
    measured = [r for r in rows if r["verdict"] != "not run"]
    assert result.stdout.count("dataset=iris") == len(measured)
    blocks = result.stdout.split("\n\n")
    for block in blocks[:-1]:
        gists = [line for line in block.splitlines() if line.startswith("  ") and "dataset=" in line]
        assert gists
        if any("★ headline" in g for g in gists):  # a claim whose headline is in another experiment has none here
            assert gists[0].startswith("  ★ headline")
            assert sum("★ headline" in g for g in gists) == 1
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_verdict_words_are_matched_without_regard_to_case_and_near_misses_suggested(runner, small_db):
    ok = runner.invoke(app, ["compare", "--verdict", "Not Run", "--format", "json", "--db", small_db])
    assert ok.exit_code == 0, ok.output
    assert {r["verdict"] for r in json.loads(ok.stdout)} == {"not run"}
    near = runner.invoke(app, ["compare", "--verdict", "suported", "--db", small_db])
    assert near.exit_code == 1 and "did you mean supported?" in near.output
