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
sorted order. Each declared family's headlines (the catalogue's; each re-targeted dataset's; each
user experiment's comparisons: `Claim.family`) share one level: their intervals are Bonferroni-adjusted
over that family's stochastic headlines (`core.judging.decisions`), so the verdict and the interval
shown agree exactly. The family is what is declared, never what a filter shows: `evaluate` judges
every claim it is given and `experiments` only selects the rows it hands back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
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
from lossdb.core.engine.series import UNIT_INTERVAL
from lossdb.core.judging.outcomes import ALPHA, Look, Reason, Verdict
from lossdb.core.status import DONE_STATUSES

if TYPE_CHECKING:
    from lossdb.core.store import Store

SEEDS_CAP = 1000  # "more than 1000 seeds" when the effect sits on a band edge
# A ratio interval reaching past 10^±6 is reported as unbounded: no measure compared here (epochs,
# counts of at most 10^5 samples, losses, norms) moves by a factor of a million between two arms.
RATIO_LIMIT = 1e6
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
             claims: dict[str, Claim] | None = None, designs: dict[str, Design] | None = None,
             estimator: str = "t") -> list[Verdict]:
    """Every claim × test × condition × learning-rate setting × pair of arms, in claim order;
    exactly one row per claim is marked `headline`, and each family's headlines share one family-wise
    level. `claims` is the declared set (all of it is judged); `experiments` keeps the rows measured in
    them, after judging. `estimator`: continuous paired measures by "t" (Student-t), or "robust" (the
    median with the sign-test interval: core.judging.estimators._median), or "hl". An experiment with a sequential design (`designs`) is judged look by look
    (core.judging.adaptive)."""
    claims = CLAIMS if claims is None else claims
    designs = designs or {}
    wanted = list(dict.fromkeys(e for c in claims.values() for e in c.experiments))
    frame = runs_frame(store, wanted) if frame is None else frame[frame["experiment"].isin(wanted)]
    frame = frame[frame["status"].isin(DONE_STATUSES)]
    cache = _Curves(store, frame)
    out: list[Verdict] = []
    headlines: list[int] = []
    samples: dict[int, tuple[_Pairs, Design | None]] = {}
    rows_of = {e: frame.iloc[i] for e, i in frame.groupby("experiment", sort=False).indices.items()}  # frame order
    for claim in claims.values():
        ranked: list[tuple[tuple, Verdict, tuple[_Pairs, Design | None] | None]] = []
        for index, test in enumerate(claim.tests):
            rows = rows_of[test.experiment] if test.experiment in rows_of else frame.iloc[:0]
            rank0 = (1 if test.illustration else 0, 0 if test is claim.main else 1, index)
            design = designs.get(test.experiment)
            ranked += [((*rank0, *rank), v, (p, design) if p is not None else None)
                       for rank, v, p in _evaluate_test(claim, test, rows, cache, design, estimator)]
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
    out = _adjust_family(out, headlines, samples, claims)
    return out if experiments is None else [v for v in out if v.experiment in experiments]


def _adjust_family(out: list[Verdict], headlines: list[int], samples: dict[int, tuple[_Pairs, Design | None]],
                   claims: dict[str, Claim]) -> list[Verdict]:
    """Re-judge each declared family's stochastic headlines at the Bonferroni level over that family."""
    families: dict[str, list[int]] = {}
    for i in headlines:
        families.setdefault(claims[out[i].claim].family, []).append(i)
    for name, members in families.items():
        family = [i for i in members if i in samples and not out[i].deterministic and out[i].n > 0
                  and out[i].verdict != "not measurable"]
        alpha = ALPHA / max(len(family), 1)  # Bonferroni over the stochastic headlines (decisions.bonferroni_alpha)
        for i in members:
            out[i] = replace(out[i], family=name, family_size=len(family))
        for i in family:
            out[i] = _judge(out[i], *samples[i][:1], alpha, samples[i][1])
    return out


class _Curves:
    """Per-epoch series fetched once per experiment and metric: {run_id: (E+1,) array}; and each
    run's value of a measure, worked out once however many comparisons, rates and looks use the run."""

    def __init__(self, store: Store, frame: pd.DataFrame) -> None:
        self.store, self.frame = store, frame
        self.cache: dict[tuple[str, str], dict[int, np.ndarray]] = {}
        self.values: dict[tuple[Any, ...], float] = {}  # (what, run id) -> the run's value

    def conditions(self, experiment: str, rows: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, _Condition]:
        """The experiment's runs (`rows`) by condition, in sorted order, read once per set of columns
        (every test of the experiment that reads the same columns shares them)."""
        key = ("conditions", experiment, columns)
        if key not in self.values:
            out = {}
            for cond, group in rows[list(columns)].groupby("condition", sort=True):
                cells: dict[tuple[str, float], dict[int, dict[str, Any]]] = {}
                specs: dict[str, Arm] = {}
                for rec in records(group):  # plain dicts: many small lookups, no pandas overhead
                    cells.setdefault((rec["arm"], float(rec["lr"])), {})[int(rec["seed"])] = rec
                    specs[rec["arm"]] = rec["arm_spec"]
                out[cond] = _Condition(group, flat_config(group["config"].iloc[0]),
                                       tuple(group["condition_keys"].iloc[0]), cells, specs)
            self.values[key] = out
        return self.values[key]

    def get(self, experiment: str, metric: str) -> dict[int, np.ndarray]:
        """Every used run of the experiment with its series of this metric."""
        if (experiment, metric) not in self.cache:
            ids = [int(i) for i in self.frame.loc[self.frame["experiment"] == experiment, "id"]]
            self.cache[(experiment, metric)] = self.store.series(ids, metric)
        return self.cache[(experiment, metric)]


@dataclass(frozen=True, eq=False)
class _Condition:
    """One condition's runs: the frame rows, the first run's flat config and condition keys, the
    runs as plain dicts by arm and rate {(arm, lr): {seed: run}}, and each arm's Arm."""

    group: pd.DataFrame
    flat: dict[str, Any]
    keys: tuple
    cells: dict[tuple[str, float], dict[int, dict[str, Any]]]
    specs: dict[str, Arm]


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
    span: float | None = None  # the largest possible |difference| (1 for accuracies, shares); None: unbounded
    method: str = "t"  # the estimator of a continuous measure: t | robust | hl (estimators.METHODS)
    at_look: Any = field(default=None, compare=False)  # n -> the _Pairs a look at n seeds saw (rates refit)

    def first_seeds(self, n: int) -> _Pairs:
        """The pairs of seeds 0 … n − 1 as a sequential look at n seeds saw them: with tuned rates,
        chosen again by cross-fitting on those seeds only (`at_look`), never on later ones."""
        if self.at_look is not None:
            return self.at_look(n)
        keep = self.seeds < n
        return replace(self, first=self.first[keep], second=self.second[keep], seeds=self.seeds[keep],
                       survivors=None if self.survivors is None else self.survivors[keep])


def _not_run(claim: Claim, test: Test) -> Verdict:
    return Verdict(claim.id, claim.sentence, test.experiment, "", test.what,
                   (test.favoured[0].label, test.others[0].label), {}, "not run", None, None, None, 0,
                   f"lossdb run {test.experiment}", False,
                   kind=test.kind, ratio=test.ratio, min_effect=test.min_effect, scale=test.scale,
                   unit=test.unit, better=test.better, illustration=test.illustration,
                   reasons=(Reason("not_run", (("experiment", test.experiment),)),))


def _not_comparable(claim: Claim, test: Test, rows: pd.DataFrame) -> Verdict:
    why = Reason("not_comparable", (("experiment", test.experiment), ("arms", tuple(sorted(set(rows["label"])))),
                                    ("favoured", tuple(a.label for a in test.favoured)),
                                    ("others", tuple(a.label for a in test.others))))
    return replace(_not_run(claim, test), reasons=(why,))


def _no_step_record(claim: Claim, test: Test) -> Verdict:
    """A sub-epoch measure on runs stored before the engine recorded steps: not run, with the command."""
    return replace(_not_run(claim, test), command=f"lossdb run {test.experiment} --force",
                   reasons=(Reason("no_step_record", (("experiment", test.experiment),)),))


def _evaluate_test(claim: Claim, test: Test, rows: pd.DataFrame, cache: _Curves,
                   design: Design | None = None, estimator: str = "t") -> list[tuple[tuple, Verdict, _Pairs | None]]:
    """(rank, verdict, samples) triples of one test; a lower rank is a better headline candidate."""
    if test.measure.kind == "analytic":
        return [((0, 0, 0, 0, 0, "", 0.0), _analytic(claim, test), None)]
    if rows.empty:
        return [((9,), _not_run(claim, test), None)]
    if test.measure.kind in STEP_KINDS and not cache.get(test.experiment, STEP):
        return [((9,), _no_step_record(claim, test), None)]
    out = []
    needed = [*BASE, *(c for c in (test.measure.metric, "val_accuracy", "val_rmse", "val_nll") if c in rows)]
    conditions = cache.conditions(test.experiment, rows, tuple(dict.fromkeys(needed)))
    preferred = test.preferred({c: k.flat for c, k in conditions.items()})
    for cond, known in conditions.items():
        if test.where is not None and not test.where(known.flat):
            continue
        cells, specs = known.cells, known.specs
        arms = sorted(specs)
        for fi, f_sel in enumerate(test.favoured):
            for oi, o_sel in enumerate(test.others):
                for fa in (a for a in arms if f_sel.matches(specs[a])):
                    for oa in (a for a in arms if o_sel.matches(specs[a]) and a != fa):
                        for mode_rank, plan in _lr_plans(test, cells, fa, oa, cache):
                            v, pairs = _compare(claim, test, cond, known, fa, oa, plan, cache, design,
                                                estimator)
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
    refit: Any = field(default=None, compare=False)  # n -> the tuned plan cross-fitted on seeds < n only


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
            def refit(n: int) -> _Plan | None:
                return _cross_fit(test, cells, fa, oa, lrs_f, lrs_o, [s for s in seeds if s < n], cache)

            plans.append((0, replace(tuned, refit=refit)))
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
    # the same arm, rates and seeds come again for each arm it is compared with: choose once
    key = ("choose", test.lr_criterion, test.measure if test.lr_criterion == "speed" else None,
           tuple(lrs), len(seeds), tuple(r["id"] for r in runs))
    if key not in cache.values:
        cache.values[key] = _choose_among(test, cells, arm, lrs, seeds, runs, cache)
    return cache.values[key]


def _choose_among(test: Test, cells: dict, arm: str, lrs: list[float], seeds: list[int],
                  runs: list[dict[str, Any]], cache: _Curves) -> lrchoice.Choice | None:
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
    key = ("time_or_horizon", test.measure, run["id"])
    if key not in cache.values:
        cache.values[key] = _time_or_horizon_of(run, test, cache)
    return cache.values[key]


def _time_or_horizon_of(run: dict[str, Any], test: Test, cache: _Curves) -> float:
    if run["status"] != "finished":
        return math.inf
    if test.measure.kind == "steps_to":
        return min(_on_steps(test.measure, run, cache), _total_steps(run, cache))
    curve = cache.get(run["experiment"], test.measure.metric).get(int(run["id"]))
    if curve is None:
        return math.inf
    t = epochs_to(curve, float(test.measure.threshold), below=test.measure.below)
    return min(t, float(_planned(run)))


def _compare(claim: Claim, test: Test, cond: str, known: _Condition, fa: str, oa: str,
             plan: _Plan, cache: _Curves, design: Design | None = None,
             estimator: str = "t") -> tuple[Verdict, _Pairs]:
    """The paired comparison of two arms under a learning-rate plan on their shared seeds."""
    group, cells = known.group, known.cells
    seeds = sorted(plan.rates)
    a_runs = [cells[(fa, plan.rates[s][0])][s] for s in seeds]
    b_runs = [cells[(oa, plan.rates[s][1])][s] for s in seeds]
    first_run = a_runs[0] if a_runs else next(iter(cells[(fa, min(lr for a, lr in cells if a == fa))].values()))
    other_run = b_runs[0] if b_runs else next(iter(cells[(oa, min(lr for a, lr in cells if a == oa))].values()))
    label_f, label_o = str(first_run["label"]), str(other_run["label"])
    flat = flat_config(first_run["config"])
    deterministic = is_deterministic(str(flat.get("dataset", "")))
    diverged = (sum(r["status"] == "diverged" for r in a_runs), sum(r["status"] == "diverged" for r in b_runs))
    pairs, values, reasons, excluded = _pairs(test, a_runs, b_runs, cache, deterministic, label_f, label_o)
    pairs = replace(pairs, method=estimator)
    lr_f, lr_o = (plan.rates[seeds[0]] if seeds else (float(first_run["lr"]), float(other_run["lr"])))
    lr = _lr_text(plan)
    slow: list[str] = []
    if test.must_converge and plan.mode != "tuned":
        slow = [lab for lab, runs in ((label_f, a_runs), (label_o, b_runs)) if not _converged(runs, cache)]
        if slow:
            reasons.insert(0, Reason("unconverged", (("arms", tuple(slow)), ("lr", lr_f))))
    if plan.same_seeds:
        reasons.append(Reason("same_seeds"))
    if test.note:
        reasons.append(Reason("note", (("text", test.note),)))  # declared with the claim
    v = Verdict(claim.id, claim.sentence, test.experiment, cond, test.what, (label_f, label_o), values,
                "inconclusive", None, None, None, 0, None, False,
                condition_keys=known.keys, lr=lr, lr_mode=plan.mode,
                lrs=(lr_f, lr_o), ratio=test.ratio, kind=test.kind, min_effect=test.min_effect,
                scale=test.scale, unit=test.unit, better=test.better, excluded_diverged=excluded,
                diverged=diverged, deterministic=deterministic, illustration=test.illustration,
                reasons=tuple(reasons))
    unconverged = bool(slow)
    if plan.mode == "tuned" and (len(plan.tied[0]) > 1 or len(plan.tied[1]) > 1):
        pairs = replace(pairs, alternatives=tuple(
            (label, rate, replace(alt, method=estimator)) for label, rate, alt in
            _alternatives(test, cells, fa, oa, plan, cache, deterministic, label_f, label_o)))
    if design is not None and plan.refit is not None:
        def at_look(n: int) -> _Pairs:
            """What the look at n seeds saw: rates chosen by cross-fitting seeds < n only."""
            then = plan.refit(n)
            if then is None or not then.rates:
                return replace(pairs, at_look=None).first_seeds(n)
            kept = sorted(then.rates)
            return replace(_pairs(test, [cells[(fa, then.rates[s][0])][s] for s in kept],
                                  [cells[(oa, then.rates[s][1])][s] for s in kept], cache, deterministic,
                                  label_f, label_o)[0], method=estimator)

        pairs = replace(pairs, at_look=at_look)
    v = _judge(replace(v, unconverged=unconverged), pairs, ALPHA, design)
    if test.lr_range and plan.mode == "tuned":
        ranges = [_lr_range(group[group["arm"] == arm], label) for arm, label in ((fa, label_f), (oa, label_o))]
        v = replace(v, reasons=v.reasons + tuple(ranges))
    return v, pairs


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
    unmeasurable = _unmeasurable(v, pairs, est.n) or _blind(pairs)
    if unmeasurable is not None:  # no usable pair: never inconclusive, never evidence, never more seeds
        reasons = [r for r in v.reasons if r.code not in ("fragile", "seeds_needed", "not_measurable", *measures.CODES)]
        return replace(v, verdict="not measurable", effect=None, ci_low=None, ci_high=None, n=est.n,
                       method=est.method, alpha=alpha, seeds_needed=None, seeds_needed_capped=False, p_value=1.0,
                       looks=(), reasons=(*reasons, unmeasurable, *_dropped(pairs, v)))
    needed, capped = (None, False)
    if outcome == "inconclusive" and est.n >= 2 and not v.unconverged:
        needed = decisions.seeds_needed(est, v.min_effect, v.kind, est.alpha, cap=SEEDS_CAP)  # the level shown
        needed, capped = (SEEDS_CAP, True) if needed is None else (needed, False)
    p = 1.0
    if outcome not in ("inconclusive", "not measurable"):
        p = 0.0 if est.deterministic else decisions.outcome_pvalues(est, v.min_effect, v.kind).get(outcome, 1.0)
    fragile = _fragile(v, outcome, pairs.alternatives, alpha) if pairs.alternatives and not looks else None
    reasons = [r for r in v.reasons if r.code not in ("fragile", "seeds_needed", "too_few_seeds", *measures.CODES)]  # written anew
    low, high, bounded = in_range(est.low, est.high, v.ratio, pairs.span)
    if not bounded and pairs.kind != "deterministic":
        reasons.append(Reason("too_few_seeds", (("n", est.n),)))
    if fragile is not None:
        reasons.append(fragile)
    if needed is not None:
        reasons.append(Reason("seeds_needed", (("n", needed), ("more_than", capped))))
    reasons += [*_survivors(pairs, v, alpha), *_dropped(pairs, v)]
    return replace(v, verdict=outcome, effect=_num(est.effect), ci_low=low, ci_high=high,
                   n=est.n, method=est.method, alpha=est.alpha if looks else alpha, seeds_needed=needed,
                   seeds_needed_capped=capped, p_value=p, looks=looks, reasons=tuple(reasons))


def in_range(low: float | None, high: float | None, ratio: bool,
             span: float | None) -> tuple[float | None, float | None, bool]:
    """An interval kept inside the measure's possible range, and whether the data bound it there: a
    difference is clipped to ±span (None when unbounded, e.g. a loss); a ratio end at or below
    1/RATIO_LIMIT, or above RATIO_LIMIT, is dropped (None); a missing or infinite end is None."""
    def finite(x: float | None) -> bool:
        return x is not None and math.isfinite(x)

    if ratio:
        lo = low if finite(low) and low >= 1 / RATIO_LIMIT else None
        hi = high if finite(high) and high <= RATIO_LIMIT else None
        return lo, hi, lo is not None and hi is not None
    bounded = finite(low) and finite(high) and (span is None or (-span <= low and high <= span))
    if span is not None:
        low = None if low is None or math.isnan(low) else max(float(low), -span)
        high = None if high is None or math.isnan(high) else min(float(high), span)
    return (low if finite(low) else None), (high if finite(high) else None), bounded


def _unmeasurable(v: Verdict, pairs: _Pairs, n: int) -> Reason | None:
    """Why no pair can be used, or None: every pair diverged (`diverged`), no seed gave a finite
    measure for both arms (`no_value`), or neither arm reached the threshold in any seed (`never_reached`)."""
    if pairs.kind == "deterministic":
        return None
    if n == 0:
        total = int(pairs.first.size) + v.excluded_diverged
        if v.excluded_diverged and v.excluded_diverged == total:
            return Reason("not_measurable", (("why", "diverged"), ("seeds", total)))
        return Reason("not_measurable", (("why", "no_value"), ("seeds", total)))
    if pairs.kind == "censored":
        reached = np.isfinite(pairs.first) & (pairs.first <= pairs.horizon) | \
            np.isfinite(pairs.second) & (pairs.second <= pairs.horizon)
        if not reached.any():
            return Reason("not_measurable", (("why", "never_reached"), ("seeds", n),
                                             ("horizon", int(pairs.horizon))))
    return None


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
    looks = tuple(Look(k.n, k.alpha, *in_range(k.low, k.high, v.ratio, pairs.span)[:2], k.outcome, design.spending)
                  for k in plan.looks)
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
                                        resolution=pairs.resolution, method=pairs.method)


def _num(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) and math.isnan(v) else float(v)


def _pairs(test: Test, a_runs: list[dict[str, Any]], b_runs: list[dict[str, Any]], cache: _Curves,
           deterministic: bool, label_f: str, label_o: str) -> tuple[_Pairs, dict[str, float], list[Reason], int]:
    """The paired measures in the claim's direction, each arm's mean, reasons, and the seeds left out."""
    m = test.measure
    notes: list[Reason] = []
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
                           seeds, span=None if test.ratio else 1.0, survivors=~dead, failure=failure,
                           undefined=_undefined(a, b)), values, notes, 0)
        if excluded:
            ka = sum(r["status"] == "diverged" for r in a_runs)
            kb = sum(r["status"] == "diverged" for r in b_runs)
            arms = tuple((lab, k, len(runs)) for k, lab, runs in ((ka, label_f, a_runs), (kb, label_o, b_runs)) if k)
            notes.append(Reason("diverged", (("arms", arms), ("excluded", excluded))))
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
        cens = tuple((lab, int((~r).sum()), int(r.size)) for r, lab in ((reached_a, label_f), (reached_b, label_o))
                     if (~r).any())
        if cens:
            notes.append(Reason("censored", (("arms", cens), ("horizon", int(horizon)), ("unit", unit))))
    shown_a, shown_b = (np.minimum(a, horizon), np.minimum(b, horizon)) if timed and horizon else (a, b)
    ok = np.isfinite(shown_a) & np.isfinite(shown_b)
    values = {label_f: float(np.mean(shown_a[ok])) if ok.any() else math.nan,
              label_o: float(np.mean(shown_b[ok])) if ok.any() else math.nan}
    first, second = (a, b) if test.better == "higher" else (b, a)
    kind = ("deterministic" if deterministic else "binary" if m.kind in ("fails", "diverges", "stuck")
            else "censored" if timed and horizon is not None else "continuous")
    seeds = np.array([int(r["seed"]) for r, k in zip(a_runs, keep, strict=True) if k], dtype=np.int64)
    bounded = kind == "binary" or (m.kind in ("final", "at", "at_best") and m.metric in UNIT_INTERVAL
                                   and not test.ratio)
    return (_Pairs(first, second, kind, _resolution(np.concatenate([a, b]), test.ratio), horizon, seeds,
                   span=1.0 if bounded else None, time_unit=unit, undefined=_undefined(a, b)),
            values, notes, excluded)


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
    u = np.sort(v)  # np.unique's own steps, without its per-call overhead (it runs once per comparison)
    u = u[np.concatenate(([True], u[1:] != u[:-1]))] if u.size else u
    if u.size < 2:
        return 0.0
    gap = float(np.min(np.diff(u)))
    span = float(u[-1] - u[0])
    return gap if gap > 1e-6 * max(span, 1e-12) else 0.0


def _measure(m: Any, runs: list[dict[str, Any]], cache: _Curves) -> np.ndarray:
    """The measure of each run (k,); epochs_to gives inf for a run that never reached the threshold."""
    if m.kind == "final":
        return np.array([r.get(m.metric, math.nan) for r in runs], dtype=np.float64)
    known = cache.values.setdefault(("measure", m), {})  # run id -> value
    out = [known.get(run["id"]) for run in runs]
    missing = [i for i, v in enumerate(out) if v is None]
    if missing:
        fresh = _measure_each(m, [runs[i] for i in missing], cache)
        for i, v in zip(missing, fresh, strict=True):
            out[i] = known[runs[i]["id"]] = v
    return np.array(out, dtype=np.float64)


def _measure_each(m: Any, runs: list[dict[str, Any]], cache: _Curves) -> list[float]:
    """The measure of each run read from its series (every kind but "final")."""
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
    return [float(v) for v in out]


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
    key = ("total_steps", run["id"])
    if key not in cache.values:
        step = cache.get(run["experiment"], STEP).get(int(run["id"]))
        cache.values[key] = math.nan if step is None or not step.size else \
            steps.steps_per_epoch(step, int(run["epochs"])) * _planned(run)
    return cache.values[key]


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


def _fragile(v: Verdict, outcome: str, alternatives: tuple, alpha: float) -> Reason | None:
    """The first rate tied on validation that would change the outcome at this level, or None."""
    for label, alt, pairs in alternatives:
        est = _estimate(pairs, v.ratio, alpha)
        other = decisions.outcome(est, v.min_effect, v.kind) if est.n else "inconclusive"
        if other != outcome:
            return Reason("fragile", (("arm", label), ("rate", alt), ("outcome", other)))
    return None


def _lr_range(runs: pd.DataFrame, label: str, tolerance: float = 0.02) -> Reason:
    """How wide an arm's good rates are: the rates (no seed diverged) whose mean final validation
    accuracy is within `tolerance` of its best, out of all its rates (`good` None: no accuracy)."""
    metric = "val_accuracy" if "val_accuracy" in runs and runs["val_accuracy"].notna().any() else None
    if metric is None:
        return Reason("lr_range", (("arm", label), ("rates", int(runs["lr"].nunique())), ("good", None)))
    by_lr = runs.groupby("lr").agg(score=(metric, "mean"), ok=("status", lambda s: bool((s == "finished").all())))
    best = by_lr.loc[by_lr["ok"], "score"].max()
    good = tuple(float(lr) for lr in sorted(lr for lr, row in by_lr.iterrows()
                                            if row["ok"] and row["score"] >= best - tolerance))
    return Reason("lr_range", (("arm", label), ("rates", len(by_lr)), ("good", good), ("tolerance", tolerance)))


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
    why = Reason("analytic", (("quantity", test.measure.metric), ("p", p), ("classes", 10),
                              ("values", (float(f_p), float(o_p))),
                              ("at_tiny", (float(at[(f_arm.loss, 1e-6)]), float(at[(o_arm.loss, 1e-6)]))),
                              ("tiny", 1e-6)))
    return Verdict(claim.id, claim.sentence, test.experiment, "analytic, 10 classes", test.what,
                   (f_arm.label, o_arm.label), {f_arm.label: f_p, o_arm.label: o_p}, outcome,
                   est.effect, None, None, 1, None, False, lr="", lr_mode="analytic",
                   method=est.method, ratio=True, kind=test.kind, min_effect=test.min_effect,
                   better=test.better, deterministic=True, illustration=test.illustration, reasons=(why,))
