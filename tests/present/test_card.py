"""The recommendation card: every sentence comes from one verdict row and says what that row says."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from lossdb.cli.main import app
from lossdb.core.experiments import spec as ex
from lossdb.core.judging.injected import injected
from lossdb.core.judging.outcomes import Verdict
from lossdb.core.present.card import QUESTIONS, build_card, card_text
from lossdb.core.present.cells import band_text, effect_ci
from typer.testing import CliRunner


def _verdict(**changes) -> Verdict:
    base = dict(claim="classification-accuracy@grain", sentence="s", experiment="convergence@grain",
                condition="dataset=csv:/x/grain.csv", metric="final test accuracy",
                arms=("ce/softmax", "mse/softmax"), values={"ce/softmax": 0.9, "mse/softmax": 0.8},
                verdict="supported", effect=0.014, ci_low=0.006, ci_high=0.022, n=10, command=None,
                headline=True, scale=100.0, unit=" points", min_effect=0.01)
    return Verdict(**{**base, **changes})


def test_each_verdict_gives_one_answer_that_quotes_its_effect_and_its_verdict():
    rows = [_verdict(),
            _verdict(claim="calibration@grain", metric="test ECE (15 bins)", verdict="equivalent",
                     effect=0.001, ci_low=-0.004, ci_high=0.005),
            _verdict(claim="convergence@grain", metric="epochs to 90% training accuracy", verdict="contradicted",
                     effect=0.5, ci_low=0.4, ci_high=0.6, ratio=True, scale=1.0, unit="", min_effect=1.1),
            _verdict(claim="label-noise@grain", verdict="inconclusive", ci_low=-0.1, ci_high=0.2, seeds_needed=30,
                     condition_keys=(("label_noise", 0.2),))]
    card = build_card([injected(v) for v in rows], "grain")
    assert [line.claims for line in card.answers] == [(v.claim,) for v in rows]  # already in question order
    for line, v in zip(card.answers, rows, strict=True):
        assert effect_ci(v) in line.text and f"({v.verdict}" in line.text
    assert "are equivalent on test ECE (15 bins)" in card.answers[1].text and band_text(rows[1]) in card.answers[1].text
    assert card.answers[2].text.startswith("Speed: mse/softmax does better than ce/softmax")
    assert "with 20% of the training labels flipped to another class (injected by lossdb)" in card.answers[3].text


def test_the_bottom_line_has_one_clause_per_decided_verdict_and_names_injected_conditions():
    rows = [_verdict(),
            injected(_verdict(claim="outliers@price", metric="clean-test RMSE", arms=("mae/linear", "mse/linear"),
                              ratio=True, scale=1.0, unit="", effect=2.0, ci_low=1.5, ci_high=2.6, min_effect=1.1,
                              condition_keys=(("outliers", 0.2),))),
            _verdict(claim="calibration@grain", verdict="inconclusive", ci_low=-0.01, ci_high=0.03)]
    card = build_card(rows, "grain")
    assert [line.claims for line in card.bottom_line] == [(rows[0].claim,), (rows[1].claim,)]
    assert card.bottom_line[0].text == ("Bottom line on grain: ce/softmax is better than mse/softmax on final test "
                                        f"accuracy ({effect_ci(rows[0])}).")
    assert card.bottom_line[1].text.endswith("which matters only if your targets have gross outliers.")
    assert [line.claims for line in card.still_open] == [("calibration@grain",)]


def test_a_card_with_nothing_decided_says_so_and_decides_nothing():
    rows = [_verdict(verdict="inconclusive", ci_low=-0.1, ci_high=0.2)]
    card = build_card(rows, "grain")
    assert "nothing is decided yet" in card.bottom_line[0].text
    assert not re.search(r"\b(better|worse|equivalent)\b", card.bottom_line[0].text)


def test_card_questions_cover_what_the_catalogue_asks_of_users_data():
    from lossdb.core.experiments.retarget import APPLIES
    from lossdb.core.judging.claims import CLAIMS

    asked = {c for _, claims in QUESTIONS for c in claims}
    assert asked <= set(CLAIMS)
    tested = {c for c in CLAIMS.values() for t in c.tests if t.experiment in APPLIES}
    assert {"classification-accuracy", "calibration", "convergence", "label-noise", "outliers",
            "regression"} <= {c.id for c in tested}


# ---------------------------------------------------------------- a user's own CSVs, end to end


def _csv(path: Path, regression: bool) -> None:
    rng = np.random.default_rng(7)
    rows = ["width,length,colour,target"]
    for i in range(60):
        c = i % 2
        x = c + rng.normal(scale=0.6)
        target = f"{2 * x + rng.normal(scale=0.3):.4f}" if regression else ("ripe" if c else "raw")
        rows.append(f"{x:.4f},{rng.normal():.4f},{rng.normal():.4f},{target}")
    path.write_text("\n".join(rows) + "\n")


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def users_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database holding a classification CSV (fruit.csv) and a regression CSV (yield.csv),
    each run through the catalogue's questions with 3 seeds and 3 epochs."""
    folder = tmp_path_factory.mktemp("users")
    _csv(folder / "fruit.csv", regression=False)
    _csv(folder / "yield.csv", regression=True)
    db = str(folder / "u.db")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        invoke("run", "--dataset", "csv:fruit.csv", "calibration", "convergence", "label-noise",
               "--seeds", "3", "--epochs", "3", "--db", db)
        invoke("run", "--dataset", "csv:yield.csv", "regression", "outliers", "--seeds", "3", "--epochs", "3",
               "--db", db)
    return folder


@pytest.mark.parametrize("name", ["fruit", "yield"])
def test_compare_dataset_prints_the_card_first_and_every_sentence_matches_a_row(
        users_db: Path, name: str, monkeypatch: pytest.MonkeyPatch):
    from lossdb.core.present.card import card_of

    monkeypatch.chdir(users_db)
    db = str(users_db / "u.db")
    out = invoke("compare", "--dataset", name, "--db", db)
    assert out.startswith(f"Which loss for {name}?")
    assert out.index("Bottom line on") < out.index("claim ")  # the card before the table
    rows = {r["claim"]: r for r in json.loads(invoke("compare", "--dataset", name, "--format", "json", "--db", db))}
    card = card_of(db, name)
    assert card.answers and len(card.answers) == len(rows)
    for line in card.lines:
        assert line.claims and set(line.claims) <= set(rows), line.text
        if len(line.claims) == 1:
            row = rows[line.claims[0]]
            assert row["verdict"] in line.text or line in card.bottom_line or line in card.still_open
    for line in card.answers:
        row = rows[line.claims[0]]
        assert f"({row['verdict']}" in line.text
        if row["verdict"] == "not measurable":
            assert "could not be measured" in line.text
        elif row["n"]:
            assert row["effect_text"] in line.text
        else:
            assert "no usable pair of seeds" in line.text
    flat = " ".join(out.split())
    assert all(" ".join(line.text.split()) in flat for line in card.lines)


def test_the_regression_card_names_the_outliers_lossdb_injected(users_db: Path):
    from lossdb.core.present.card import card_of

    card = card_of(str(users_db / "u.db"), "csv:yield.csv")
    (outliers,) = [line for line in card.answers if line.claims == ("outliers@yield",)]
    assert "of the training targets replaced by gross outliers (injected by lossdb)" in outliers.text


def test_an_open_card_ends_with_the_command_that_would_decide_it(users_db: Path, monkeypatch):
    from lossdb.core.present.card import card_of

    monkeypatch.chdir(users_db)
    card = card_of(str(users_db / "u.db"), "fruit")
    if card.still_open:
        named, _, rest = card.command.removeprefix("lossdb run ").partition(" --dataset ")
        assert named and set(named.split()) <= set(ex.catalogue_names())  # only the open questions
        assert rest.startswith("csv:fruit.csv --target target --until-decided")
        assert card.command.endswith(f"--db {users_db / 'u.db'}")
        assert card.estimated_runs and card.estimated_runs > 0
        assert f"about {card.estimated_runs} more runs, about " in card_text(card)
        assert f"on {card.workers} worker" in card_text(card)


def test_the_cards_time_is_the_added_runs_at_the_stored_runs_measured_seconds(users_db: Path):
    from lossdb.core.present.card import card_of
    import math

    from lossdb.core.present.nextsteps import PER_ROUND, PER_RUN_OVERHEAD

    card = card_of(str(users_db / "u.db"), "fruit")
    if not card.command:
        pytest.skip("every question on fruit is decided")
    with sqlite3.connect(users_db / "u.db") as conn:
        per_run = [s / n for s, n in conn.execute(
            "SELECT SUM(r.wall_seconds), COUNT(r.wall_seconds) FROM runs r JOIN experiments e "
            "ON e.id = r.experiment_id WHERE e.name LIKE '%@fruit' GROUP BY e.name")]
    conn.close()
    runs, jobs = card.estimated_runs, card.workers
    needed = int(card.command.split("--max-seeds ")[1].split()[0])
    rounds = max(1, math.ceil(math.log2(needed / 3)))  # users_db: 3 seeds each
    low, high = (runs * x / jobs + PER_RUN_OVERHEAD * runs + PER_ROUND * rounds for x in (min(per_run), max(per_run)))
    assert low * (1 - 1e-9) <= card.estimated_seconds <= high * (1 + 1e-9)


@pytest.mark.slow
def test_the_report_has_each_datasets_card_in_every_text_format(users_db: Path, tmp_path: Path):
    db = str(users_db / "u.db")
    invoke("report", "--format", "json", "--out", str(tmp_path / "r.json"), "--db", db)
    cards = {c["dataset"]: c for c in json.loads((tmp_path / "r.json").read_text())["cards"]}
    assert set(cards) == {"fruit", "yield"}
    for fmt in ("md", "html"):
        invoke("report", "--format", fmt, "--out", str(tmp_path / f"r.{fmt}"), "--db", db)
        text = (tmp_path / f"r.{fmt}").read_text(encoding="utf-8")
        assert "Which loss for fruit?" in text and "Which loss for yield?" in text
        assert cards["yield"]["bottom_line"][0].split(":")[0] in text
    import subprocess

    invoke("report", "--format", "pdf", "--out", str(tmp_path / "r.pdf"), "--db", db)
    pdf = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True, check=True)
    assert "Which loss for fruit?" in pdf.stdout and "Which loss for yield?" in pdf.stdout


def test_a_database_of_only_the_users_data_shows_no_catalogue_not_run_rows(users_db: Path, tmp_path: Path):
    from lossdb.core.judging.claims import CLAIMS
    from lossdb.core.present.card import CATALOGUE_HINT

    db = str(users_db / "u.db")
    rows = json.loads(invoke("compare", "--format", "json", "--db", db))
    assert rows and not [r for r in rows if r["claim"] in CLAIMS]
    out = invoke("compare", "--db", db)
    assert " ".join(CATALOGUE_HINT.split()) in " ".join(out.split())
    invoke("report", "--format", "json", "--out", str(tmp_path / "r.json"), "--db", db)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["not_run"] == [] and not [r for r in report["summary"] if r["claim"] in CLAIMS]



def test_run_dataset_lists_what_it_planned_and_ends_with_the_compare_command(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _csv(tmp_path / "plum.csv", regression=False)
    out = invoke("run", "--dataset", "csv:plum.csv", "calibration", "margin", "--seeds", "2", "--epochs", "2",
                 "--db", "p.db")
    lines = out.strip().splitlines()
    assert re.fullmatch(r"Planned: calibration@plum \(\d+ runs\), margin@plum \(\d+ runs\)\.", lines[-2])
    assert lines[-1] == "Next: lossdb compare --dataset plum --db p.db"
    assert invoke("compare", "--dataset", "plum", "--db", "p.db").startswith("Which loss for plum?")


def test_a_mostly_inconclusive_table_ends_with_the_until_decided_command(users_db: Path):
    from lossdb.core.judging.judge import judge, stored_experiments
    from lossdb.core.present.nextsteps import until_decided_hint

    db = str(users_db / "u.db")
    rows = judge(db)
    measured = [v for v in rows if v.verdict not in ("not run", "not measurable")]
    hint = until_decided_hint(rows, stored_experiments(db), db)
    if 2 * sum(v.verdict == "inconclusive" and v.n > 0 for v in measured) <= len(measured):
        assert hint is None
        return
    assert re.search(r"lossdb run [a-z -]+ --dataset csv:", hint) and "--until-decided --max-seeds" in hint
    assert re.search(r"about \d+ more runs", hint)
    assert " ".join(hint.split()) in " ".join(invoke("compare", "--db", db).split())


def test_a_decided_table_gets_no_until_decided_hint():
    assert until_decided_hint_of([_verdict(), _verdict(claim="calibration@grain")]) is None


def until_decided_hint_of(rows):
    from lossdb.core.present.nextsteps import until_decided_hint

    return until_decided_hint(rows, [])


def test_the_until_decided_hint_estimates_runs_per_seed_times_the_seeds_lacking():
    from lossdb.core.present.nextsteps import until_decided_hint

    rows = [_verdict(claim="calibration", experiment="calibration", verdict="inconclusive", n=3, seeds_needed=12),
            _verdict(claim="convergence", experiment="convergence", verdict="inconclusive", n=3, seeds_needed=80),
            _verdict(claim="margin", experiment="margin")]
    stored = [{"name": "calibration", "n_runs": 30, "spec": {}}, {"name": "convergence", "n_runs": 12, "spec": {}}]
    hint = until_decided_hint(rows, stored, "x.db")
    # at most 50 seeds: calibration 10 runs a seed × 47, convergence 4 × 47
    assert hint == ("2 of 3 verdicts are inconclusive; more seeds would decide them: lossdb run calibration "
                    "convergence --until-decided --max-seeds 50 --db x.db (about 658 more runs).")


def test_a_retargeted_head_claim_compares_arms_on_the_same_head(users_db: Path):
    rows = json.loads(invoke("compare", "--dataset", "fruit", "--all-conditions", "--format", "json",
                             "--db", str(users_db / "u.db")))
    vanishing = [r for r in rows if r["claim"] == "vanishing-gradient@fruit"]
    assert vanishing and all(r["arms"][0].split("/")[1] == r["arms"][1].split("/")[1] for r in vanishing)


def test_the_catalogue_claim_itself_keeps_its_declared_arms():
    from lossdb.core.judging.claims import CLAIMS
    from lossdb.core.judging.judge import retargeted_claims

    names = ["convergence@fruit"]
    test = retargeted_claims("fruit", names)["vanishing-gradient@fruit"].tests[0]
    assert {o.head for o in test.others} == {"softmax"}
    on_convergence = [t for t in CLAIMS["vanishing-gradient"].tests if t.experiment == "convergence"]
    assert on_convergence and {o.head for o in on_convergence[0].others} == {"sigmoid", "softmax"}
