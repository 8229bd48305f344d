"""Judge the declared claims (core.judging.claims) against stored runs: one verdict per comparison.

A comparison pairs two arms on the seeds both ran (the same seed gives both the same data split,
initial weights and batch order). Runs that diverged in either arm leave the metric comparison and
are counted in the finding; divergence itself is compared as its own measure where a claim asks.

Learning rates. Where both arms ran at several rates a comparison is made at each shared rate
("equal") and once "tuned": each arm at its own rate chosen on validation by `core.judging.lrchoice`, with
cross-fitting — the rate is chosen on half of the seeds and the effect measured on the other half,
then the halves swap — so the choice never sees the seeds that measure the effect. A tuned verdict
whose outcome changes when a rate tied on validation is taken instead is marked *fragile*.

Headline rule (the one row per claim of the summary table): among rows with runs, the claim's primary
test first (then the others in declared order; illustrations never); its first favoured arm against
its first other arm; the tuned (or fixed) rate before equal rates; the condition named by the test's
`headline` preferences; then the comparison with the most paired seeds; then the first condition in
sorted order. The headlines are one family: their intervals are Bonferroni-adjusted over the
stochastic headlines (`core.judging.decisions`), so the verdict and the interval shown agree exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lossdb.core.judging import decisions, estimators, lrchoice, measures, sequential
from lossdb.core.engine import losses as L
from lossdb.core.judging.adaptive import Design
from lossdb.core.analysis import shapes, steps
from lossdb.core.analysis.frame import area_under, best_epoch, epochs_to, flat_config, records, runs_frame
from lossdb.core.experiments.arms import Arm
from lossdb.core.judging.claims import CLAIMS, STEP_KINDS, Claim, Test
from lossdb.core.engine.steps import STEP
from lossdb.core.data.datasets import is_deterministic
from lossdb.core.present.findings import analytic_sentence, sentence
from lossdb.core.judging.headlines import summary, tally  # noqa: F401  (re-exported)
from lossdb.core.judging.outcomes import ALPHA, VERDICTS, Look, Reason, Verdict  # noqa: F401  (re-exported)
from lossdb.core.status import DONE_STATUSES

if TYPE_CHECKING:
    from lossdb.core.store import Store

SEEDS_CAP = 1000  # "more than 1000 seeds" when the effect sits on a band edge
ANALYTIC_HEADS = {"ce": "softmax", "mse": "softmax", "mae": "softmax", "hinge": "linear",
                  "focal": "softmax", "gce": "softmax", "huber": "softmax"}
BASE = ("id", "experiment", "arm", "arm_spec", "label", "lr", "seed", "status", "epochs", "config",
        "condition", "condition_keys")


def analytic_curves(p_true: np.ndarray, losses: tuple[str, ...] = ("ce", "mse", "mae", "hinge", "focal"),
                    n_classes: int = 10) -> pd.DataFrame:
    """Loss and ‖∂loss/∂z‖ of each loss on its usual head against p̂ of the true class (m,), the
    other classes sharing 1 − p̂ equally: columns p_true, loss, head, value, grad_norm."""
    p = np.asarray(p_true, dtype=np.float64).reshape(-1)
    parts = []
    for name in losses:
        head = ANALYTIC_HEADS.get(name, "softmax")
        value, grad = L.true_class_curve(name, head, p, n_classes)
        parts.append(pd.DataFrame({"p_true": p, "loss": name, "head": head, "value": value, "grad_norm": grad}))
    return pd.concat(parts, ignore_index=True)


def evaluate(store: Store, experiments: list[str] | None = None, frame: pd.DataFrame | None = None,
             claims: dict[str, Claim] | None = None, designs: dict[str, Design] | None = None) -> list[Verdict]:
    """Every claim × test × condition × learning-rate setting × pair of arms, in claim order;
    exactly one row per claim is marked `headline`, and the headlines share one family-wise level.
    An experiment with a sequential design (`designs`) is judged look by look (core.judging.adaptive)."""
    claims = CLAIMS if claims is None else claims
    designs = designs or {}
    wanted = list(dict.fromkeys(e for c in claims.values() for e in c.experiments))
    if experiments is not None:
        wanted = [e for e in wanted if e in experiments]
    frame = runs_frame(store, wanted) if frame is None else frame[frame["experiment"].isin(wanted)]
    frame = frame[frame["status"].isin(DONE_STATUSES)]
    cache = _Curves(store, frame)
    out: list[Verdict] = []
    headlines: list[int] = []
    samples: dict[int, tuple[_Pairs, Design | None]] = {}
    for claim in claims.values():
        ranked: list[tuple[tuple, Verdict, tuple[_Pairs, Design | None] | None]] = []
        for index, test in enumerate(claim.tests):
            if experiments is not None and test.experiment not in experiments:
                continue
            rows = frame[frame["experiment"] == test.experiment]
            rank0 = (1 if test.illustration else 0, 0 if test is claim.main else 1, index)
            design = designs.get(test.experiment)
            ranked += [((*rank0, *rank), v, (p, design) if p is not None else None)
                       for rank, v, p in _evaluate_test(claim, test, rows, cache, design)]
        if not ranked:
            continue
        best = min(range(len(ranked)), key=lambda i: (ranked[i][1].illustration,
                                                      ranked[i][1].verdict == "not run", ranked[i][0]))
        for i, (_, v, pairs) in enumerate(ranked):
            if pairs is not None:
                samples[len(out)] = pairs
            if i == best:
                headlines.append(len(out))
            out.append(replace(v, headline=(i == best)))
    return _adjust_family(out, headlines, samples)


def _adjust_family(out: list[Verdict], headlines: list[int],
                   samples: dict[int, tuple[_Pairs, Design | None]]) -> list[Verdict]:
    """Re-judge the stochastic headlines at the Bonferroni level over their family."""
    family = [i for i in headlines if i in samples and not out[i].deterministic and out[i].n > 0]
    alpha = ALPHA / max(len(family), 1)  # Bonferroni over the stochastic headlines (decisions.bonferroni_alpha)
    for i in family:
        out[i] = _judge(out[i], *samples[i][:1], alpha, samples[i][1])
    return out


class _Curves:
    """Per-epoch series fetched once per experiment and metric: {run_id: (E+1,) array}."""

    def __init__(self, store: Store, frame: pd.DataFrame) -> None:
        self.store, self.frame = store, frame
        self.cache: dict[tuple[str, str], dict[int, np.ndarray]] = {}

    def get(self, experiment: str, metric: str) -> dict[int, np.ndarray]:
        """Every used run of the experiment with its series of this metric."""
        if (experiment, metric) not in self.cache:
            ids = [int(i) for i in self.frame.loc[self.frame["experiment"] == experiment, "id"]]
            self.cache[(experiment, metric)] = self.store.series(ids, metric)
        return self.cache[(experiment, metric)]


@dataclass(frozen=True)
class _Pairs:
    """What an estimator needs of one comparison: the paired measures (first = the claim's side)."""

    first: np.ndarray
    second: np.ndarray
    kind: str  # continuous | censored | binary | deterministic
    resolution: float
    horizon: float | None = None
    seeds: np.ndarray | None = None  # the seed of each pair, in order
    first_measurement: float = 1.0  # a time's first grid point after the start (core.judging.measures)
    time_unit: str = "epochs"  # of a censored time: epochs or (optimiser) steps
    survivors: np.ndarray | None = None  # which pairs had no diverged run, where divergence scored a failure
    failure: float | None = None  # the score a diverged run got (core.judging.measures.failure_score)
    undefined: tuple[int, int] = (0, 0)  # runs of each arm (favoured, other) whose measure had no value
    alternatives: tuple = ()  # (label, rate, _Pairs) for each rate tied on validation (fragility)

    def first_seeds(self, n: int) -> _Pairs:
        """The pairs of seeds 0 … n − 1 (what a sequential look at n seeds saw)."""
        keep = self.seeds < n
        return replace(self, first=self.first[keep], second=self.second[keep], seeds=self.seeds[keep],
                       survivors=None if self.survivors is None else self.survivors[keep])


def _not_run(claim: Claim, test: Test) -> Verdict:
    return Verdict(claim.id, claim.sentence, test.experiment, "", test.what,
                   (test.favoured[0].label, test.others[0].label), {}, "not run", None, None, None, 0,
                   f"No runs of the {test.experiment} experiment yet.", f"lossdb run {test.experiment}", False,
                   kind=test.kind, ratio=test.ratio, min_effect=test.min_effect, scale=test.scale,
                   unit=test.unit, better=test.better, illustration=test.illustration)


def _not_comparable(claim: Claim, test: Test, rows: pd.DataFrame) -> Verdict:
    arms = ", ".join(sorted(set(rows["label"])))
    finding = (f"The stored runs of {test.experiment} (arms {arms}) hold no comparison of "
               f"{' or '.join(a.label for a in test.favoured)} with {' or '.join(a.label for a in test.others)} "
               "under the conditions this claim is about.")
    return replace(_not_run(claim, test), finding=finding)


def _no_step_record(claim: Claim, test: Test) -> Verdict:
    """A sub-epoch measure on runs stored before the engine recorded steps: not run, with the command."""
    return replace(_not_run(claim, test), command=f"lossdb run {test.experiment} --force",
                   finding=f"The stored runs of {test.experiment} have no record between epochs; rerun them "
                           "to measure time in optimiser steps.", reasons=(Reason("no_step_record"),))


def _evaluate_test(claim: Claim, test: Test, rows: pd.DataFrame, cache: _Curves,
                   design: Design | None = None) -> list[tuple[tuple, Verdict, _Pairs | None]]:
    """(rank, verdict, samples) triples of one test; a lower rank is a better headline candidate."""
    if test.measure.kind == "analytic":
        return [((0, 0, 0, 0, 0, "", 0.0), _analytic(claim, test), None)]
    if rows.empty:
        return [((9,), _not_run(claim, test), None)]
    if test.measure.kind in STEP_KINDS and not cache.get(test.experiment, STEP):
        return [((9,), _no_step_record(claim, test), None)]
    out = []
    needed = [*BASE, *(c for c in (test.measure.metric, "val_accuracy", "val_rmse", "val_nll") if c in rows)]
    rows = rows[list(dict.fromkeys(needed))]
    conditions = {c: g for c, g in rows.groupby("condition", sort=True)}
    preferred = test.preferred({c: flat_config(g["config"].iloc[0]) for c, g in conditions.items()})
    for cond, group in conditions.items():
        flat = flat_config(group["config"].iloc[0])
        if test.where is not None and not test.where(flat):
            continue
        cells: dict[tuple[str, float], dict[int, dict[str, Any]]] = {}
        specs: dict[str, Arm] = {}
        for rec in records(group):  # plain dicts: many small lookups, no pandas overhead
            cells.setdefault((rec["arm"], float(rec["lr"])), {})[int(rec["seed"])] = rec
            specs[rec["arm"]] = rec["arm_spec"]
        arms = sorted(specs)
        for fi, f_sel in enumerate(test.favoured):
            for oi, o_sel in enumerate(test.others):
                for fa in (a for a in arms if f_sel.matches(specs[a])):
                    for oa in (a for a in arms if o_sel.matches(specs[a]) and a != fa):
                        for mode_rank, plan in _lr_plans(test, cells, fa, oa, cache):
                            v, pairs = _compare(claim, test, cond, group, cells, fa, oa, plan, cache, design)
                            rank = (fi, oi, mode_rank, 0 if cond in preferred else 1, -v.n, cond, plan.key)
                            out.append((rank, v, pairs))
    if not out:
        return [((9,), _not_comparable(claim, test, rows), None)]
    return out


@dataclass(frozen=True)
class _Plan:
    """Which rate each arm uses on which seeds: {seed: (lr of favoured, lr of other)}."""

    mode: str  # tuned | equal | fixed
    rates: dict[int, tuple[float, float]]
    key: float = 0.0
    tied: tuple[tuple[float, ...], tuple[float, ...]] = ((), ())
    same_seeds: bool = False  # tuned on the same seeds it measures (too few seeds to split)


def _lr_plans(test: Test, cells: dict, fa: str, oa: str, cache: _Curves) -> list[tuple[int, _Plan]]:
    """(rank, plan) for each learning-rate setting to compare."""
    lrs_f = sorted(lr for arm, lr in cells if arm == fa)
    lrs_o = sorted(lr for arm, lr in cells if arm == oa)
    seeds = sorted(set.intersection(*(set(cells[(fa, lr)]) for lr in lrs_f),
                                    *(set(cells[(oa, lr)]) for lr in lrs_o)))
    if len(lrs_f) == 1 and len(lrs_o) == 1:
        seeds = sorted(set(cells[(fa, lrs_f[0])]) & set(cells[(oa, lrs_o[0])]))
        return [(0, _Plan("fixed", {s: (lrs_f[0], lrs_o[0]) for s in seeds}, lrs_f[0]))]
    plans = []
    if "tuned" in test.lr_modes and seeds:
        tuned = _cross_fit(test, cells, fa, oa, lrs_f, lrs_o, seeds, cache)
        if tuned is not None:
            plans.append((0, tuned))
    if "equal" in test.lr_modes:
        for lr in sorted(set(lrs_f) & set(lrs_o)):
            both = sorted(set(cells[(fa, lr)]) & set(cells[(oa, lr)]))
            plans.append((1, _Plan("equal", {s: (lr, lr) for s in both}, lr)))
    return plans


def _cross_fit(test: Test, cells: dict, fa: str, oa: str, lrs_f: list[float], lrs_o: list[float],
               seeds: list[int], cache: _Curves) -> _Plan | None:
    """Choose each arm's rate on one half of the seeds for the other half, and swap (2-fold)."""
    folds = [seeds[0::2], seeds[1::2]] if len(seeds) >= 2 else [seeds, seeds]
    rates: dict[int, tuple[float, float]] = {}
    tied: tuple[set, set] = (set(), set())
    for pick, measure in ((folds[0], folds[1]), (folds[1], folds[0])):
        chosen = []
        for side, (arm, lrs) in enumerate(((fa, lrs_f), (oa, lrs_o))):
            choice = _choose(test, cells, arm, lrs, pick, cache)
            if choice is None:
                return None
            chosen.append(choice.lr)
            tied[side].update(choice.tied)
        rates.update({s: (chosen[0], chosen[1]) for s in measure})
    return _Plan("tuned", rates, -1.0, (tuple(sorted(tied[0])), tuple(sorted(tied[1]))), len(seeds) < 2)


def _choose(test: Test, cells: dict, arm: str, lrs: list[float], seeds: list[int],
            cache: _Curves) -> lrchoice.Choice | None:
    runs = [cells[(arm, lr)][s] for lr in lrs for s in seeds]
    metric, mode = lrchoice.validation_metric(runs, test.lr_criterion)
    scores = {lr: [_score(cells[(arm, lr)][s], metric) for s in seeds] for lr in lrs}
    speed = None
    if test.lr_criterion == "speed":
        speed = {lr: float(np.mean([_time_or_horizon(cells[(arm, lr)][s], test, cache) for s in seeds]))
                 for lr in lrs}
    return lrchoice.choose(scores, mode, speed)


def _score(run: dict[str, Any], metric: str) -> float:
    value = run.get(metric)
    return float(value) if run["status"] == "finished" and value is not None else math.nan


def _time_or_horizon(run: dict[str, Any], test: Test, cache: _Curves) -> float:
    """Epochs to the test's threshold on the selection run's curve; the horizon E when never reached."""
    if run["status"] != "finished":
        return math.inf
    if test.measure.kind == "steps_to":
        return min(_on_steps(test.measure, run, cache), _total_steps(run, cache))
    curve = cache.get(run["experiment"], test.measure.metric).get(int(run["id"]))
    if curve is None:
        return math.inf
    t = epochs_to(curve, float(test.measure.threshold), below=test.measure.below)
    return min(t, float(_planned(run)))


def _compare(claim: Claim, test: Test, cond: str, group: pd.DataFrame, cells: dict, fa: str, oa: str,
             plan: _Plan, cache: _Curves, design: Design | None = None) -> tuple[Verdict, _Pairs]:
    """The paired comparison of two arms under a learning-rate plan on their shared seeds."""
    seeds = sorted(plan.rates)
    a_runs = [cells[(fa, plan.rates[s][0])][s] for s in seeds]
    b_runs = [cells[(oa, plan.rates[s][1])][s] for s in seeds]
    first_run = a_runs[0] if a_runs else next(iter(cells[(fa, min(lr for a, lr in cells if a == fa))].values()))
    other_run = b_runs[0] if b_runs else next(iter(cells[(oa, min(lr for a, lr in cells if a == oa))].values()))
    label_f, label_o = str(first_run["label"]), str(other_run["label"])
    flat = flat_config(first_run["config"])
    deterministic = is_deterministic(str(flat.get("dataset", "")))
    diverged = (sum(r["status"] == "diverged" for r in a_runs), sum(r["status"] == "diverged" for r in b_runs))
    pairs, values, notes, excluded = _pairs(test, a_runs, b_runs, cache, deterministic, label_f, label_o)
    lr_f, lr_o = (plan.rates[seeds[0]] if seeds else (float(first_run["lr"]), float(other_run["lr"])))
    lr = _lr_text(plan)
    slow: list[str] = []
    if test.must_converge and plan.mode != "tuned":
        slow = [lab for lab, runs in ((label_f, a_runs), (label_o, b_runs)) if not _converged(runs, cache)]
        if slow:
            notes.insert(0, f"{' and '.join(slow)} had not converged at rate {lr_f:g} (training loss still "
                            "falling), so this rate is no evidence either way")
    if plan.same_seeds:
        notes.append("too few seeds to choose the rate on other seeds: chosen on the same ones")
    if test.note:
        notes.append(test.note)
    v = Verdict(claim.id, claim.sentence, test.experiment, cond, test.what, (label_f, label_o), values,
                "inconclusive", None, None, None, 0, "", None, False,
                condition_keys=tuple(group["condition_keys"].iloc[0]), lr=lr, lr_mode=plan.mode,
                lrs=(lr_f, lr_o), ratio=test.ratio, kind=test.kind, min_effect=test.min_effect,
                scale=test.scale, unit=test.unit, better=test.better, excluded_diverged=excluded,
                diverged=diverged, deterministic=deterministic, illustration=test.illustration,
                notes=tuple(notes))
    unconverged = bool(slow)
    if plan.mode == "tuned" and (len(plan.tied[0]) > 1 or len(plan.tied[1]) > 1):
        pairs = replace(pairs, alternatives=_alternatives(test, cells, fa, oa, plan, cache, deterministic,
                                                          label_f, label_o))
    v = _judge(replace(v, unconverged=unconverged), pairs, ALPHA, design)
    if test.lr_range and plan.mode == "tuned":
        ranges = [_lr_range(group[group["arm"] == arm], label) for arm, label in ((fa, label_f), (oa, label_o))]
        v = replace(v, notes=v.notes + tuple(ranges))
    return replace(v, finding=sentence(v)), pairs


def _judge(v: Verdict, pairs: _Pairs, alpha: float, design: Design | None = None) -> Verdict:
    """The estimate at level alpha, the outcome, and how many seeds would decide an open question;
    with a sequential design, the looks replayed on the first n_k seeds and the first decided one kept."""
    looks: tuple[Look, ...] = ()
    if design is not None and pairs.kind != "deterministic" and pairs.seeds is not None:
        est, looks = _replay(v, pairs, alpha, design)
    else:
        est = _estimate(pairs, v.ratio, alpha)
    outcome = decisions.outcome(est, v.min_effect, v.kind) if est.n else "inconclusive"
    if v.unconverged:
        outcome = "inconclusive"
    blind = _blind(pairs)
    if blind is not None:
        outcome, looks = "not measurable", ()
    needed, capped = (None, False)
    if outcome == "inconclusive" and est.n >= 2 and not v.unconverged:
        needed = decisions.seeds_needed(est, v.min_effect, v.kind, alpha, cap=SEEDS_CAP)
        needed, capped = (SEEDS_CAP, True) if needed is None else (needed, False)
    p = 1.0
    if outcome not in ("inconclusive", "not measurable"):
        p = 0.0 if est.deterministic else decisions.outcome_pvalues(est, v.min_effect, v.kind).get(outcome, 1.0)
    fragile = _fragile(v, outcome, pairs.alternatives, alpha) if pairs.alternatives and not looks and blind is None else ""
    out = replace(v, verdict=outcome, effect=_num(est.effect), ci_low=_num(est.low), ci_high=_num(est.high),
                  n=est.n, method=est.method, alpha=est.alpha if looks else alpha, seeds_needed=needed,
                  seeds_needed_capped=capped, p_value=p, looks=looks, fragile=fragile,
                  reasons=tuple(r for r in v.reasons if r.code not in measures.CODES)
                  + ((blind,) if blind else ()) + _survivors(pairs, v, alpha) + _dropped(pairs, v))
    return replace(out, finding=sentence(out))


def _survivors(pairs: _Pairs, v: Verdict, alpha: float) -> tuple[Reason, ...]:
    """Reason "diverged_as_failure": how many runs of each arm diverged and scored a failure, with
    the survivors-only effect and interval at the same level beside it."""
    if pairs.survivors is None or pairs.survivors.all():
        return ()
    keep = pairs.survivors
    est = _estimate(replace(pairs, first=pairs.first[keep], second=pairs.second[keep], survivors=None,
                            seeds=pairs.seeds[keep] if pairs.seeds is not None else None), v.ratio, alpha)
    return (Reason("diverged_as_failure", (
        ("arms", v.arms), ("diverged_first", int(v.diverged[0])), ("diverged_second", int(v.diverged[1])),
        ("scale", v.scale), ("unit", v.unit),
        ("score", float(pairs.failure)), ("n_survivors", int(est.n)), ("survivors_effect", _num(est.effect)),
        ("survivors_low", _num(est.low)), ("survivors_high", _num(est.high)),
        ("survivors_outcome", decisions.outcome(est, v.min_effect, v.kind) if est.n else "inconclusive"))),)


def _dropped(pairs: _Pairs, v: Verdict) -> tuple[Reason, ...]:
    """Reason "undefined": seeds left out because a run had no value of the measure (never silently)."""
    if not any(pairs.undefined):
        return ()
    return (Reason("undefined", (("arms", v.arms), ("first", pairs.undefined[0]),
                                 ("second", pairs.undefined[1]), ("of", int(pairs.first.size)))),)


def _blind(pairs: _Pairs) -> Reason | None:
    """Why a time-to-threshold comparison cannot see an effect (core.judging.measures), or None."""
    if pairs.kind != "censored" or pairs.horizon is None:
        return None
    return measures.unmeasurable(pairs.first, pairs.second, float(pairs.horizon), pairs.first_measurement,
                                 pairs.time_unit)


def _replay(v: Verdict, pairs: _Pairs, alpha: float, design: Design) -> tuple[estimators.Estimate, tuple[Look, ...]]:
    """The group-sequential verdict (core.judging.sequential, overall level `alpha`): one look at each seed
    count of the design's rounds that the stored seeds reach; the first decided look stops it."""
    plan = sequential.Plan(alpha, design.max_seeds, design.spending, ())
    at, last = None, 1
    for n in design.looks(int(pairs.seeds.max()) + 1 if pairs.seeds.size else 0):
        est = _estimate(pairs.first_seeds(n), v.ratio, alpha)
        if est.n <= last:  # looks need new pairs (a round whose seeds all diverged adds none)
            continue
        last = est.n
        plan, at = plan.look(est, v.min_effect, v.kind)
        if plan.decided:
            break
    if at is None:
        return _estimate(pairs, v.ratio, alpha), ()
    looks = tuple(Look(k.n, k.alpha, _num(k.low), _num(k.high), k.outcome) for k in plan.looks)
    return at, looks


def _estimate(pairs: _Pairs, ratio: bool, alpha: float) -> estimators.Estimate:
    if pairs.kind == "deterministic":
        return estimators.deterministic(float(pairs.first[0]), float(pairs.second[0]), ratio=ratio)
    if pairs.kind == "binary":
        return estimators.paired_shares(pairs.first, pairs.second, alpha=alpha)
    if pairs.kind == "censored":
        return estimators.restricted_mean(pairs.first, pairs.second, horizon=float(pairs.horizon),
                                          ratio=ratio, alpha=alpha)
    return estimators.paired_difference(pairs.first, pairs.second, ratio=ratio, alpha=alpha,
                                        resolution=pairs.resolution)


def _num(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) and math.isnan(v) else float(v)


def _pairs(test: Test, a_runs: list[dict[str, Any]], b_runs: list[dict[str, Any]], cache: _Curves,
           deterministic: bool, label_f: str, label_o: str) -> tuple[_Pairs, dict[str, float], list[str], int]:
    """The paired measures in the claim's direction, each arm's mean, notes, and the seeds left out."""
    m = test.measure
    notes: list[str] = []
    if m.kind == "diverges":
        a = np.array([float(r["status"] == "diverged") for r in a_runs])
        b = np.array([float(r["status"] == "diverged") for r in b_runs])
        keep = np.ones(a.size, dtype=bool)
        excluded = 0
    else:
        dead = np.array([r["status"] == "diverged" or o["status"] == "diverged" for r, o in zip(a_runs, b_runs, strict=True)],
                        dtype=bool)
        keep = ~dead
        excluded = int(dead.sum())
        dataset = str(flat_config(a_runs[0]["config"]).get("dataset", "")) if a_runs else ""
        failure = measures.failure_score(m.metric, m.kind, dataset) if excluded else None
        if failure is not None:  # counted, not dropped (core.judging.claims DIVERGED_SCORES)
            a, b = (_scored(m, runs, cache, failure) for runs in (a_runs, b_runs))
            first, second = (a, b) if test.better == "higher" else (b, a)
            seeds = np.array([int(r["seed"]) for r in a_runs], dtype=np.int64)
            ok = np.isfinite(a) & np.isfinite(b)
            values = {label_f: float(np.mean(a[ok])) if ok.any() else math.nan,
                      label_o: float(np.mean(b[ok])) if ok.any() else math.nan}
            return (_Pairs(first, second, "continuous", _resolution(np.concatenate([a, b]), test.ratio), None,
                           seeds, survivors=~dead, failure=failure, undefined=_undefined(a, b)), values, notes, 0)
        if excluded:
            ka = sum(r["status"] == "diverged" for r in a_runs)
            kb = sum(r["status"] == "diverged" for r in b_runs)
            parts = [f"{k} of {len(runs)} {lab} runs diverged" for k, lab, runs in
                     ((ka, label_f, a_runs), (kb, label_o, b_runs)) if k]
            notes.append(f"{' and '.join(parts)}: those {excluded} seeds are left out of this comparison")
        a = _measure(m, [r for r, k in zip(a_runs, keep, strict=True) if k], cache)
        b = _measure(m, [r for r, k in zip(b_runs, keep, strict=True) if k], cache)
    kept_a = [r for r, k in zip(a_runs, keep, strict=True) if k]
    timed = m.kind in ("epochs_to", "steps_to")
    unit = "steps" if m.kind == "steps_to" else "epochs"
    horizon = float(_planned(kept_a[0])) if kept_a else None
    if m.kind == "steps_to":  # the longest planned run in steps (every run of a stack has the same)
        totals = [t for t in (_total_steps(r, cache) for r in kept_a) if math.isfinite(t)]
        horizon = max(totals) if totals else None
    if timed and horizon is not None:
        reached_a, reached_b = np.isfinite(a), np.isfinite(b)
        cens = [f"{int((~r).sum())} of {r.size} {lab}" for r, lab in ((reached_a, label_f), (reached_b, label_o))
                if (~r).any()]
        if cens:
            notes.append(f"{' and '.join(cens)} runs never got there in {int(horizon)} {unit} (censored: the "
                         f"effect is a ratio of restricted mean times to {int(horizon)} {unit})")
    shown_a, shown_b = (np.minimum(a, horizon), np.minimum(b, horizon)) if timed and horizon else (a, b)
    ok = np.isfinite(shown_a) & np.isfinite(shown_b)
    values = {label_f: float(np.mean(shown_a[ok])) if ok.any() else math.nan,
              label_o: float(np.mean(shown_b[ok])) if ok.any() else math.nan}
    first, second = (a, b) if test.better == "higher" else (b, a)
    kind = ("deterministic" if deterministic else "binary" if m.kind in ("fails", "diverges", "stuck")
            else "censored" if timed and horizon is not None else "continuous")
    seeds = np.array([int(r["seed"]) for r, k in zip(a_runs, keep, strict=True) if k], dtype=np.int64)
    return (_Pairs(first, second, kind, _resolution(np.concatenate([a, b]), test.ratio), horizon, seeds,
                   time_unit=unit, undefined=_undefined(a, b)), values, notes, excluded)


def _undefined(a: np.ndarray, b: np.ndarray) -> tuple[int, int]:
    """How many runs of each arm had no value of the measure (NaN: e.g. no confidently wrong sample)."""
    return int(np.isnan(a).sum()), int(np.isnan(b).sum())


def _scored(m: Any, runs: list[dict[str, Any]], cache: _Curves, failure: float) -> np.ndarray:
    """Each run's measure, a diverged run scored `failure`."""
    out = _measure(m, runs, cache)
    out[[r["status"] == "diverged" for r in runs]] = failure
    return out


def _resolution(values: np.ndarray, ratio: bool) -> float:
    """The measurement's granularity: the smallest gap between distinct values (an accuracy moves in
    steps of 1/n_test), on the log scale for ratios; 0 for a continuous measure."""
    v = values[np.isfinite(values)]
    if ratio:
        v = np.log(v[v > 0])
    u = np.unique(v)
    if u.size < 2:
        return 0.0
    gap = float(np.min(np.diff(u)))
    span = float(u[-1] - u[0])
    return gap if gap > 1e-6 * max(span, 1e-12) else 0.0


def _measure(m: Any, runs: list[dict[str, Any]], cache: _Curves) -> np.ndarray:
    """The measure of each run (k,); epochs_to gives inf for a run that never reached the threshold."""
    if m.kind == "final":
        return np.array([r.get(m.metric, math.nan) for r in runs], dtype=np.float64)
    empty = np.array([], dtype=np.float64)
    out = []
    for run in runs:
        c = cache.get(run["experiment"], m.metric).get(int(run["id"]), empty)
        if m.kind == "at":
            out.append(c[m.epoch] if c.size > m.epoch else math.nan)
        elif m.kind == "area":
            out.append(area_under(c[np.isfinite(c)] if m.metric == "grad_norm" else c, _planned(run)))
        elif m.kind == "epochs_to":
            out.append(epochs_to(c, float(m.threshold), below=m.below) if c.size else math.nan)
        elif m.kind == "fails":
            out.append(float(not np.any(c >= float(m.threshold))) if c.size else math.nan)
        elif m.kind == "stuck":
            out.append(_stuck(m, run, c, cache))
        elif m.kind == "rel_peak":
            out.append(shapes.relative_to_peak(c, m.epoch) if c.size else math.nan)
        elif m.kind in STEP_KINDS:
            out.append(_on_steps(m, run, cache))
        elif m.kind == "at_best":
            e = best_epoch(cache.get(run["experiment"], m.select).get(int(run["id"]), empty), m.select_mode)
            out.append(c[e] if c.size > e else math.nan)
        else:
            raise ValueError(f"unknown measure kind {m.kind!r}")
    return np.asarray(out, dtype=np.float64)


def _stuck(m: Any, run: dict[str, Any], curve: np.ndarray, cache: _Curves) -> float:
    """1 when the run never reached the threshold and its training loss had stopped falling (the
    declared plateau test, core.analysis.shapes.plateaued); 0 when it reached it; NaN when it had not
    reached it but was still learning at the end (undecided within the horizon, reported)."""
    if not curve.size:
        return math.nan
    if np.any(curve >= float(m.threshold)):
        return 0.0
    stopped = shapes.plateaued(cache.get(run["experiment"], "train_loss").get(int(run["id"]), np.array([])))
    return 1.0 if stopped else math.nan


def _on_steps(m: Any, run: dict[str, Any], cache: _Curves) -> float:
    """A measure read on the run's sub-epoch record (core.analysis.steps); NaN without one."""
    step = cache.get(run["experiment"], STEP).get(int(run["id"]))
    curve = cache.get(run["experiment"], m.metric).get(int(run["id"]))
    if step is None or curve is None:
        return math.nan
    if m.kind == "steps_to":
        return steps.steps_to(step, curve, float(m.threshold), below=m.below)
    until = m.epoch * steps.steps_per_epoch(step, int(run["epochs"]))
    return steps.early_area(step, curve, until)


def _total_steps(run: dict[str, Any], cache: _Curves) -> float:
    """The optimiser steps a run was set to take (its horizon in steps)."""
    step = cache.get(run["experiment"], STEP).get(int(run["id"]))
    if step is None or not step.size:
        return math.nan
    return steps.steps_per_epoch(step, int(run["epochs"])) * _planned(run)


def _planned(run: dict[str, Any]) -> int:
    """The epochs a run was set to train (a diverged run stores fewer)."""
    return int(run["config"].get("train", {}).get("epochs", run["epochs"]))


def _converged(runs: list[dict[str, Any]], cache: _Curves, tolerance: float = 0.01) -> bool:
    """True unless the median run's training loss still fell by more than `tolerance` (relative)
    over the last tenth of its epochs."""
    drops = []
    for run in runs:
        c = cache.get(run["experiment"], "train_loss").get(int(run["id"]), np.array([]))
        c = c[np.isfinite(c)]
        if c.size < 3:
            continue
        k = max(1, c.size // 10)
        drops.append((c[-k - 1] - c[-1]) / max(abs(c[-1]), 1e-12))
    return not drops or float(np.median(drops)) <= tolerance


def _lr_text(plan: _Plan) -> str:
    pairs = sorted(set(plan.rates.values()))
    if plan.mode == "equal":
        return f"{plan.key:g}"
    if plan.mode == "fixed":
        f, o = pairs[0] if pairs else (plan.key, plan.key)
        return f"{f:g}" if f == o else f"fixed ({f:g} vs {o:g})"
    side = [sorted({p[i] for p in pairs}) for i in (0, 1)]
    show = ["|".join(f"{x:g}" for x in s) for s in side]
    return f"tuned ({show[0]} vs {show[1]})"


def _alternatives(test: Test, cells: dict, fa: str, oa: str, plan: _Plan, cache: _Curves, deterministic: bool,
                  label_f: str, label_o: str) -> tuple[tuple[str, float, _Pairs], ...]:
    """The pairs each rate tied with a chosen one on validation would give (label, rate, pairs)."""
    out = []
    for side, label in enumerate((label_f, label_o)):
        for alt in plan.tied[side]:
            rates = {s: ((alt, r[1]) if side == 0 else (r[0], alt)) for s, r in plan.rates.items()}
            if rates == plan.rates:
                continue
            seeds = sorted(rates)
            a_runs = [cells[(fa, rates[s][0])][s] for s in seeds]
            b_runs = [cells[(oa, rates[s][1])][s] for s in seeds]
            pairs, *_ = _pairs(test, a_runs, b_runs, cache, deterministic, label_f, label_o)
            out.append((label, alt, pairs))
    return tuple(out)


def _fragile(v: Verdict, outcome: str, alternatives: tuple, alpha: float) -> str:
    """Why a tied rate would change the outcome at this level, or ""."""
    for label, alt, pairs in alternatives:
        est = _estimate(pairs, v.ratio, alpha)
        other = decisions.outcome(est, v.min_effect, v.kind) if est.n else "inconclusive"
        if other != outcome:
            return (f"fragile: {label} at rate {alt:g}, tied with the chosen rate on validation, "
                    f"would make it {other}")
    return ""


def _lr_range(runs: pd.DataFrame, label: str, tolerance: float = 0.02) -> str:
    """'ce/softmax was within 2 points of its best validation accuracy at 4 of 7 rates (0.03–1)':
    a rate counts when no seed diverged and its mean final validation accuracy is that close."""
    metric = "val_accuracy" if "val_accuracy" in runs and runs["val_accuracy"].notna().any() else None
    if metric is None:
        return f"{label} ran at {runs['lr'].nunique()} rates"
    by_lr = runs.groupby("lr").agg(score=(metric, "mean"), ok=("status", lambda s: bool((s == "finished").all())))
    best = by_lr.loc[by_lr["ok"], "score"].max()
    good = sorted(lr for lr, row in by_lr.iterrows() if row["ok"] and row["score"] >= best - tolerance)
    span = "" if not good else f" ({good[0]:g})" if len(good) == 1 else f" ({good[0]:g}–{good[-1]:g})"
    return (f"{label} was within {tolerance * 100:g} points of its best validation accuracy at "
            f"{len(good)} of {len(by_lr)} rates{span}")


def _analytic(claim: Claim, test: Test) -> Verdict:
    """The deterministic verdict of a loss-shape illustration, computed through core.engine.losses."""
    p = float(test.measure.threshold)  # p̂ of the true class, declared with the claim
    f_arm, o_arm = test.favoured[0], test.others[0]
    curves = analytic_curves(np.array([p, 1e-6]), (f_arm.loss, o_arm.loss))
    col = "value" if test.measure.metric == "loss" else "grad_norm"
    at = {(r.loss, r.p_true): getattr(r, col) for r in curves.itertuples()}
    f_p, o_p = at[(f_arm.loss, p)], at[(o_arm.loss, p)]
    first, second = (f_p, o_p) if test.better == "higher" else (o_p, f_p)
    est = estimators.deterministic(float(first), float(second), ratio=True)
    outcome = decisions.outcome(est, test.min_effect, test.kind)
    finding = analytic_sentence(test, f_p, o_p, at[(f_arm.loss, 1e-6)], at[(o_arm.loss, 1e-6)], p)
    return Verdict(claim.id, claim.sentence, test.experiment, "analytic, 10 classes", test.what,
                   (f_arm.label, o_arm.label), {f_arm.label: f_p, o_arm.label: o_p}, outcome,
                   est.effect, None, None, 1, finding, None, False, lr="", lr_mode="analytic",
                   method=est.method, ratio=True, kind=test.kind, min_effect=test.min_effect,
                   better=test.better, deterministic=True, illustration=test.illustration)
