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
    assert design_for(10, None, 50).round == 10 and design_for(2, None, 2).round == 3


def test_the_first_look_comes_at_five_seeds_at_least_with_pocock_spending():
    assert design_for(3, None, 50) == Design(5, 5, 50, "pocock")


def test_the_plan_decides_a_decisive_effect_at_the_first_look_and_keeps_the_level():
    import numpy as np

    from lossdb.core.judging.sequential import simulate

    d = design_for(3, None, 50)
    looks, alpha = d.looks(50), 0.05 / 11
    rng = np.random.default_rng(0)
    strong = 0.267 + 0.026 * rng.standard_normal((4000, 50))  # label-noise's headline, per-seed spread
    final, used = simulate(strong, looks, 0.01, alpha, spending=d.spending)
    assert np.mean((used == looks[0]) & (final == "supported")) > 0.95
    null, _ = simulate(0.026 * rng.standard_normal((4000, 50)), looks, 0.0, alpha, spending=d.spending)
    assert np.mean(null != "inconclusive") <= alpha * 1.5  # A/A (no band: the worst case), 4000 sequences


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


def _online_and_replayed(db: str, design: Design, looks: tuple[int, ...], where) -> list[tuple[object, object]]:
    """(what the look at n seeds saw when only seeds < n were stored, the replayed look) per look."""
    from lossdb.core.analysis.frame import runs_frame
    from lossdb.core.judging.judge import claims_from
    from lossdb.core.judging.verdicts import evaluate
    from lossdb.core.store import open_store

    with open_store(db, create=False, read_only=True) as store:
        stored = store.experiments()
        designs = {e["name"]: design for e in stored} if design else None
        from lossdb.core.judging.judge import designs_of

        designs = designs or designs_of(stored)
        frame = runs_frame(store)
        final = next(v for v in evaluate(store, None, frame, claims_from(stored), designs) if where(v))
        def key_of(v):  # a tuned row's rates may differ between looks: it is the same row
            return (v.claim, v.experiment, v.condition, v.metric, v.arms, v.lr_mode,
                    "" if v.lr_mode == "tuned" else v.lr)

        key = key_of(final)
        out = []
        for k in final.looks:
            then = evaluate(store, None, frame[frame["seed"] < k.n], claims_from(stored), designs)
            seen = next(v for v in then if key_of(v) == key)
            out.append(((seen.looks[-1].ci_low, seen.looks[-1].ci_high, seen.looks[-1].verdict),
                        (k.ci_low, k.ci_high, k.verdict)))
        assert [k.n for k in final.looks] == list(looks[: len(final.looks)])
        return out


def test_a_look_chooses_tuned_rates_only_from_the_seeds_stored_by_then(tmp_path):
    from tests.judging.test_verdicts import _run, _save

    db = f"sqlite:///{tmp_path / 'looks.db'}"
    runs = []
    for seed in range(7):
        late = seed >= 3  # the later seeds make rate 1 the better one for ce: the early looks never saw that
        for lr in (0.1, 1.0):
            val = (0.95 if lr == 1.0 else 0.6) if late else (0.85 if lr == 1.0 else 0.9)
            ce = 0.86 + (0.06 if lr == 1.0 else 0.0) + 0.005 * seed
            runs.append(_run("binary", "ce", "sigmoid", "moons", lr, seed,
                             {"test_accuracy": [0.5, ce], "val_accuracy": [0.5, val]}))
            runs.append(_run("binary", "mse", "sigmoid", "moons", lr, seed,
                             {"test_accuracy": [0.5, 0.85 + 0.004 * seed], "val_accuracy": [0.5, 0.85]}))
    _save(db, runs)
    pairs = _online_and_replayed(db, Design(3, 2, 7), (3, 5, 7),
                                 lambda v: v.claim == "classification-accuracy" and v.lr_mode == "tuned")
    assert pairs
    for online, replayed in pairs:
        assert online == replayed


@pytest.mark.slow
def test_the_replay_of_a_real_until_decided_run_equals_what_its_rounds_saw(tmp_path):
    db = str(tmp_path / "u.db")
    args = ["run", "margin", "--preset", "quick", "--epochs", "3", "--seeds", "2", "--until-decided",
            "--round", "2", "--max-seeds", "9", "--db", db]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rounds = [line for line in result.output.splitlines() if line.startswith("round ")]
    pairs = _online_and_replayed(db, None, (5, 7, 9), lambda v: v.claim == "margin" and v.headline)
    assert pairs and len(rounds) >= len(pairs)
    for (online, replayed), line in zip(pairs, rounds, strict=False):
        assert online == replayed
        said_open = "margin" in line.split("open", 1)[1]
        assert said_open == (replayed[2] == "inconclusive"), line
