"""core.judging.adaptive and `lossdb run --until-decided`: rounds of seeds, looks replayed from the store."""

import json

import pytest
from typer.testing import CliRunner

from lossdb.cli.main import app
from lossdb.core.experiments import spec as ex
from lossdb.core.judging.adaptive import Design, design_for, focus, open_experiments
from lossdb.core.analysis.frame import flat_config
from lossdb.core.judging.claims import CLAIMS
from lossdb.core.errors import ConfigError
from lossdb.core.judging.outcomes import Verdict


def test_looks_come_every_round_up_to_the_maximum():
    d = Design(3, 3, 12)
    assert d.looks(12) == (3, 6, 9, 12) and d.looks(7) == (3, 6) and d.looks(2) == ()


def test_the_last_round_stops_at_the_maximum():
    assert Design(5, 5, 12).looks(50) == (5, 10, 12)


def test_the_default_round_is_as_many_again_at_least_three():
    assert design_for(10, None, 50).round == 10 and design_for(2, None, 50).round == 3


@pytest.mark.parametrize("start, round_size, max_seeds", [(3, 0, 12), (3, None, 1)])
def test_a_bad_round_or_maximum_is_refused(start, round_size, max_seeds):
    with pytest.raises(ConfigError):
        design_for(start, round_size, max_seeds)


def test_a_design_round_trips_through_the_stored_spec():
    d = Design(3, 4, 20)
    assert Design.from_spec({"sequential": d.as_dict()}) == d and Design.from_spec({}) is None


def _v(experiment: str, verdict: str, headline: bool = True) -> Verdict:
    return Verdict("c", "s", experiment, "", "m", ("a", "b"), {}, verdict, None, None, None, 0, None, headline)


def test_only_experiments_with_an_inconclusive_headline_stay_open():
    rows = [_v("a", "supported"), _v("b", "inconclusive"), _v("a", "inconclusive", headline=False)]
    assert open_experiments(rows, ["a", "b"], all_conditions=False) == ["b"]
    assert open_experiments(rows, ["a", "b"], all_conditions=True) == ["a", "b"]


@pytest.fixture(scope="module")
def convergence_plans():
    return ex.expand(ex.catalogue()["convergence"], "full", seeds=12)


def test_seeds_beyond_the_start_go_only_to_the_headline_condition(convergence_plans):
    kept = focus(convergence_plans, CLAIMS, {"convergence": 10})
    extra = [flat_config(p.arm) for p in kept if p.seed >= 10]
    assert extra and all((f["init"], f["scale"], f["init_scale"]) == ("glorot", "standard", 1.0) for f in extra)
    headline = [p for p in convergence_plans if p.seed == 10 and
                (flat_config(p.arm)["init"], flat_config(p.arm)["scale"], flat_config(p.arm)["init_scale"])
                == ("glorot", "standard", 1.0)]
    assert {(p.arm_hash, p.seed) for p in kept if p.seed == 10} == {(p.arm_hash, 10) for p in headline}
    assert len({flat_config(p.arm)["lr"] for p in headline}) > 1  # every rate: the tuned choice needs them


def test_seeds_up_to_the_start_run_every_condition(convergence_plans):
    kept = focus(convergence_plans, CLAIMS, {"convergence": 10})
    assert [p for p in kept if p.seed < 10] == [p for p in convergence_plans if p.seed < 10]


def test_all_conditions_adds_seeds_everywhere(convergence_plans):
    assert focus(convergence_plans, CLAIMS, {"convergence": 10}, all_conditions=True) == convergence_plans


@pytest.mark.slow
def test_until_decided_ends_decided_or_at_the_maximum_and_a_second_run_adds_nothing(tmp_path):
    db = str(tmp_path / "s.db")
    args = ["run", "margin", "--preset", "quick", "--epochs", "4", "--until-decided", "--max-seeds", "6", "--db", db]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0 and "0 finished, 0 diverged" in second.output
    plain = CliRunner().invoke(app, ["run", "margin", "--preset", "quick", "--epochs", "4", "--db", db])
    assert plain.exit_code == 0, plain.output  # a plain rerun neither refuses nor forgets the design
    rows = json.loads(CliRunner().invoke(app, ["compare", "-e", "margin", "--format", "json", "--db", db]).output)
    head = next(r for r in rows if r["claim"] == "margin")
    assert head["verdict"] != "inconclusive" or head["looks"][-1]["n"] <= 6
    assert head["looks"] and [k["n"] for k in head["looks"]] == sorted({k["n"] for k in head["looks"]})
    assert "group-sequentially" in head["finding"]
    report = tmp_path / "r.json"
    assert CliRunner().invoke(app, ["report", "--format", "json", "--out", str(report), "--db", db]).exit_code == 0
    judged = next(r for r in json.loads(report.read_text())["summary"] if r["claim"] == "margin")
    assert judged["looks"] == head["looks"]  # the report replays the same looks as compare


def test_the_dashboard_summary_shows_each_look_of_a_sequential_verdict(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.test_dashboard import APP

    db = str(tmp_path / "d.db")
    args = ["run", "margin", "--preset", "quick", "--epochs", "3", "--seeds", "2", "--until-decided",
            "--max-seeds", "4", "--db", db]
    assert CliRunner().invoke(app, args).exit_code == 0
    monkeypatch.setenv("LOSSDB_DB", db)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.selectbox(key="sum_claim").set_value("margin").run()
    assert not at.exception
    looks = [d.value for d in at.dataframe if "seeds" in d.value.columns]
    assert looks and list(looks[0]["seeds"]) == sorted(looks[0]["seeds"]) and len(looks[0]) >= 1
