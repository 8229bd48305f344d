"""Evaluate the declared claims (core.claims) against stored runs: one verdict per comparison.

Learning rates. Where an arm ran at several rates a comparison is made twice over: "tuned", each arm
at its own best rate chosen on the validation split only (final-epoch val_accuracy, or val_rmse for
regression, averaged over seeds; see core.analysis.select_lr), and "equal", once per rate both arms
ran. Arms with a single rate each give one "fixed" comparison.

Headline rule (the one row per claim of the summary table): among rows with runs, the claim's
primary test first (then the others in declared order); its first favoured arm against its first
other arm; the tuned (or fixed) rate before equal rates; the condition named by the test's
`headline` preferences (e.g. the largest outlier share); then the comparison with the most paired
seeds (so a full run outranks a quick one stored alongside); then the first condition in sorted order.
The summary finding then counts the verdicts of every other row of the claim, so a claim that holds
only at one rate or initialisation says so.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from core import losses as L
from core.analysis import (
    area_under,
    best_epoch,
    epochs_to,
    flat_config,
    paired,
    runs_frame,
    select_lr,
)
from core.claims import CLAIMS, Claim, Measure, Test, Verdict
from core.findings import sentence
from core.train import CONFIDENT_WRONG

if TYPE_CHECKING:
    from core.store import Store

USED = ("finished", "diverged")
BASE = ("id", "experiment", "arm", "label", "lr", "seed", "status", "epochs", "config", "condition")
ANALYTIC_HEADS = {"ce": "softmax", "mse": "softmax", "mae": "softmax", "hinge": "linear",
                  "focal": "softmax", "gce": "softmax", "huber": "softmax"}


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


def evaluate(store: Store, experiments: list[str] | None = None, frame: pd.DataFrame | None = None) -> list[Verdict]:
    """Every declared claim × test × condition × learning-rate setting × pair of arms, in claim order;
    exactly one row per claim is marked `headline` (see the module docstring)."""
    wanted = [e for c in CLAIMS.values() for e in c.experiments]
    if experiments is not None:
        wanted = [e for e in wanted if e in experiments]
    wanted = list(dict.fromkeys(wanted))
    frame = runs_frame(store, wanted) if frame is None else frame[frame["experiment"].isin(wanted)]
    frame = frame[frame["status"].isin(USED)]
    cache = _Curves(store, frame)
    out: list[Verdict] = []
    for claim in CLAIMS.values():
        ranked: list[tuple[tuple, Verdict]] = []
        for index, test in enumerate(claim.tests):
            if experiments is not None and test.experiment not in experiments:
                continue
            rows = frame[frame["experiment"] == test.experiment]
            rank0 = (0 if test is claim.main else 1, index)
            ranked += [((*rank0, *rank), v) for rank, v in _evaluate_test(claim, test, rows, cache)]
        if not ranked:
            continue
        best = min(range(len(ranked)), key=lambda i: (ranked[i][1].verdict == "not run", ranked[i][0]))
        out += [_with(v, headline=(i == best)) for i, (_, v) in enumerate(ranked)]
    return out


def summary(verdicts: list[Verdict]) -> list[Verdict]:
    """One row per claim, in declaration order: the headline verdict, its finding followed by a
    count of the claim's other verdicts (and where they disagree)."""
    out = []
    for claim_id in [*CLAIMS, *sorted({v.claim for v in verdicts} - CLAIMS.keys())]:
        rows = [v for v in verdicts if v.claim == claim_id]
        if not rows:
            continue
        head = next((v for v in rows if v.headline), None) or next(
            (v for v in rows if v.verdict != "not run"), rows[0])
        out.append(_with(head, headline=True, finding=head.finding + _tally(head, rows)))
    return out


def _counts(rows: list[Verdict]) -> str:
    counts = {k: sum(v.verdict == k for v in rows) for k in ("supported", "inconclusive", "contradicted")}
    return ", ".join(f"{n} {k}" for k, n in counts.items() if n)


def _tally(head: Verdict, rows: list[Verdict]) -> str:
    """How the headline's own comparison fares in the other conditions and learning rates (naming
    where it differs), the count over every comparison of the claim, and tests not yet run."""
    measured = [v for v in rows if v.verdict != "not run"]
    missing = sorted({v.experiment for v in rows if v.verdict == "not run"})
    text = ""
    same = [v for v in measured if v is not head and (v.experiment, v.metric, v.arms) ==
            (head.experiment, head.metric, head.arms)]
    if same:
        text += f" The same comparison in {len(same)} other settings: {_counts(same)}."
        differ = [v for v in same if v.verdict != head.verdict]
        if differ:
            where = "; ".join(f"{v.verdict} at {v.condition}, lr {v.lr}" for v in differ[:3])
            text += f" Elsewhere: {where}{'; …' if len(differ) > 3 else '.'}"
    if len(measured) > len(same) + 1:
        text += f" All {len(measured)} comparisons of this claim (every measure and pair of arms): {_counts(measured)}."
    if missing and head.verdict != "not run":
        text += " Not yet run: " + ", ".join(f"{e} (`lossdb run {e}`)" for e in missing) + "."
    return text


def _with(v: Verdict, **changes: Any) -> Verdict:
    from dataclasses import replace

    return replace(v, **changes)


class _Curves:
    """Per-epoch series fetched once per experiment and metric: {run_id: (E+1,) array}."""

    def __init__(self, store: Store, frame: pd.DataFrame) -> None:
        self.store, self.frame = store, frame
        self.cache: dict[tuple[str, str], dict[int, np.ndarray]] = {}

    def get(self, experiment: str, metric: str) -> dict[int, np.ndarray]:
        """Every used run of the experiment with its series of this metric."""
        if (experiment, metric) not in self.cache:
            ids = [int(i) for i in self.frame.loc[self.frame["experiment"] == experiment, "id"]]
            frame = self.store.metrics_frame(ids, [metric])  # sorted by run_id, then epoch
            run_ids = frame["run_id"].to_numpy()
            starts = np.flatnonzero(np.diff(run_ids)) + 1
            values = np.split(frame["value"].to_numpy(dtype=np.float64), starts)
            firsts = run_ids[np.concatenate(([0], starts))] if len(run_ids) else []
            self.cache[(experiment, metric)] = {int(r): v for r, v in zip(firsts, values, strict=False)}
        return self.cache[(experiment, metric)]


def _not_run(claim: Claim, test: Test) -> Verdict:
    return Verdict(claim.id, claim.sentence, test.experiment, "", test.what, (test.favoured[0], test.others[0]),
                   {}, "not run", None, None, None, 0, f"No runs of the {test.experiment} experiment yet.",
                   f"lossdb run {test.experiment}", False, kind=test.kind, ratio=test.ratio,
                   min_effect=test.min_effect)


def _not_comparable(claim: Claim, test: Test, rows: pd.DataFrame) -> Verdict:
    arms = ", ".join(sorted(set(rows["label"])))
    finding = (f"The stored runs of {test.experiment} (arms {arms}) hold no comparison of "
               f"{' or '.join(test.favoured)} with {' or '.join(test.others)} under the conditions this claim is about.")
    return _with(_not_run(claim, test), finding=finding)


def _evaluate_test(claim: Claim, test: Test, rows: pd.DataFrame, cache: _Curves) -> list[tuple[tuple, Verdict]]:
    """(rank, verdict) pairs of one test; a lower rank is a better headline candidate."""
    if test.measure.kind == "analytic":
        return [((0, 0, 0, 0, 0, "", 0.0), _analytic(claim, test))]
    if rows.empty:
        return [((9,), _not_run(claim, test))]
    out = []
    needed = [*BASE, *(c for c in (test.measure.metric, "val_accuracy", "val_rmse") if c in rows)]
    rows = rows[list(dict.fromkeys(needed))]
    conditions = {c: g for c, g in rows.groupby("condition", sort=True)}
    preferred = _preferred(test, {c: flat_config(g["config"].iloc[0]) for c, g in conditions.items()})
    for cond, group in conditions.items():
        if test.where is not None and not test.where(flat_config(group["config"].iloc[0])):
            continue
        cells: dict[tuple[str, float], dict[int, dict[str, Any]]] = {}
        for rec in group.to_dict("records"):  # plain dicts: many small lookups, no pandas overhead
            cells.setdefault((rec["arm"], float(rec["lr"])), {})[int(rec["seed"])] = rec
        arms = sorted({arm for arm, _ in cells})
        best = select_lr(group, *_validation_metric(group), by="arm")
        for fi, f_sel in enumerate(test.favoured):
            for oi, o_sel in enumerate(test.others):
                for fa in (a for a in arms if _matches(a, f_sel)):
                    for oa in (a for a in arms if _matches(a, o_sel) and a != fa):
                        for mode_rank, mode, lr_f, lr_o in _lr_plans(test, cells, best, fa, oa):
                            v = _compare(claim, test, cond, cells[(fa, lr_f)], cells[(oa, lr_o)], mode, cache)
                            if test.lr_range and mode == "tuned":
                                notes = [_lr_range(group[group["arm"] == arm], label) for arm, label in
                                         ((fa, v.arms[0]), (oa, v.arms[1]))]
                                v = _with(v, finding=v.finding[:-1] + "; " + "; ".join(notes) + ".",
                                          notes=v.notes + tuple(notes))
                            rank = (fi, oi, mode_rank, 0 if cond in preferred else 1, -v.n, cond, lr_f)
                            out.append((rank, v))
    if not out:
        return [((9,), _not_comparable(claim, test, rows))]
    return out


def _preferred(test: Test, flats: dict[str, dict[str, Any]]) -> set[str]:
    """The conditions matching the test's headline preferences, applied one key after another."""
    keep = dict(flats)
    for key, want in test.headline:
        values = {c: f.get(key) for c, f in keep.items() if f.get(key) is not None}
        if want in ("max", "min") and values:
            target = (max if want == "max" else min)(values.values(), key=lambda v: float(np.ravel(v)[0]))
            match = {c for c, v in values.items() if v == target}
        else:
            match = {c for c, v in values.items() if _same(v, want)}
        if match:
            keep = {c: keep[c] for c in match}
    return set(keep)


def _same(value: Any, want: Any) -> bool:
    try:
        return bool(np.allclose(np.ravel(np.asarray(value, dtype=float)), float(want)))
    except (TypeError, ValueError):
        return value == want


def _matches(arm: str, selector: str) -> bool:
    """Does an arm's default label ("focal/softmax (gamma=2)") match a selector ("focal/softmax")?
    The loss/head must be equal, "weighted" present in both or neither, other selector params present."""
    base, _, rest = arm.partition(" (")
    s_base, _, s_rest = selector.partition(" (")
    params = set(rest.rstrip(")").split(", ")) - {""}
    wanted = set(s_rest.rstrip(")").split(", ")) - {""}
    return base == s_base and ("weighted" in params) == ("weighted" in wanted) and wanted <= params


def _lr_plans(test: Test, cells: dict, best: dict[str, float], fa: str, oa: str) -> list[tuple[int, str, float, float]]:
    """(rank, mode, lr of favoured, lr of other) for each learning-rate setting to compare."""
    lrs_f = sorted(lr for arm, lr in cells if arm == fa)
    lrs_o = sorted(lr for arm, lr in cells if arm == oa)
    if len(lrs_f) == 1 and len(lrs_o) == 1:
        return [(0, "fixed", lrs_f[0], lrs_o[0])]
    plans = []
    if "tuned" in test.lr_modes and fa in best and oa in best:
        plans.append((0, "tuned", best[fa], best[oa]))
    if "equal" in test.lr_modes:
        plans += [(1, "equal", lr, lr) for lr in sorted(set(lrs_f) & set(lrs_o))]
    return plans


def _validation_metric(group: pd.DataFrame) -> tuple[str, str]:
    if "val_accuracy" in group and group["val_accuracy"].notna().any():
        return "val_accuracy", "max"
    return "val_rmse", "min"


def _compare(claim: Claim, test: Test, cond: str, a_cell: dict[int, dict[str, Any]],
             b_cell: dict[int, dict[str, Any]], mode: str, cache: _Curves) -> Verdict:
    """The paired comparison of two cells (arm at a learning rate, {seed: run}) on their shared seeds."""
    seeds = sorted(a_cell.keys() & b_cell.keys())
    a_runs, b_runs = [a_cell[s] for s in seeds], [b_cell[s] for s in seeds]
    a, a_cens = _measure(test.measure, a_runs, cache)
    b, b_cens = _measure(test.measure, b_runs, cache)
    any_run = next(iter(a_cell.values()))
    other_run = next(iter(b_cell.values()))
    deterministic = str(flat_config(any_run["config"]).get("dataset")) == "neuron"
    first, second = (a, b) if test.better == "higher" else (b, a)
    est = paired(first, second, ratio=test.ratio, deterministic=deterministic)
    label_f, label_o = str(any_run["label"]), str(other_run["label"])
    lr_f, lr_o = float(any_run["lr"]), float(other_run["lr"])
    ok = np.isfinite(a) & np.isfinite(b)
    values = {label_f: float(np.mean(a[ok])) if ok.any() else math.nan,
              label_o: float(np.mean(b[ok])) if ok.any() else math.nan}
    lr = {"tuned": f"tuned ({lr_f:g} vs {lr_o:g})", "equal": f"{lr_f:g}",
          "fixed": f"{lr_f:g}" if lr_f == lr_o else f"fixed ({lr_f:g} vs {lr_o:g})"}[mode]
    notes = _notes(a_runs, b_runs, a_cens, b_cens, label_f, label_o, int((~ok).sum()))
    finding = sentence(test, label_f, label_o, est, mode, lr_f, deterministic, notes)
    return Verdict(claim.id, claim.sentence, test.experiment, cond, test.what, (label_f, label_o), values,
                   _rule(test, est.ci_low, est.ci_high, est.n), _num(est.effect), _num(est.ci_low),
                   _num(est.ci_high), est.n, finding, None, False, lr=lr, lr_mode=mode, method=est.method,
                   ratio=test.ratio, kind=test.kind, min_effect=test.min_effect, notes=tuple(notes))


def _num(v: float) -> float | None:
    return None if v is None or math.isnan(v) else float(v)


def _rule(test: Test, low: float, high: float, n: int) -> str:
    """supported / contradicted / inconclusive from a CI in the claim's direction (module docstring
    of core.claims)."""
    if n == 0 or math.isnan(low) or math.isnan(high):
        return "inconclusive"
    m = test.min_effect
    if test.ratio:
        lo, hi, m = math.log(max(low, 1e-300)), math.log(high) if high > 0 else -math.inf, math.log(m) if m > 0 else 0.0
    else:
        lo, hi = low, high
    bar = -m if test.kind == "noninferior" else m
    if lo > bar:
        return "supported"
    if hi < -m:
        return "contradicted"
    return "inconclusive"


def _measure(m: Measure, runs: list[dict[str, Any]], cache: _Curves) -> tuple[np.ndarray, int]:
    """The measure of each run (k,) and how many were censored (never reached a threshold)."""
    if m.kind == "final":
        return np.array([r.get(m.metric, math.nan) for r in runs], dtype=np.float64), 0
    empty = np.array([], dtype=np.float64)
    out, censored = [], 0
    for run in runs:
        c = cache.get(run["experiment"], m.metric).get(int(run["id"]), empty)
        planned = _planned(run)
        if m.kind == "at":
            out.append(c[m.epoch] if c.size > m.epoch else math.nan)
        elif m.kind == "area":
            out.append(area_under(c[np.isfinite(c)] if m.metric == "grad_norm" else c, planned))
        elif m.kind == "epochs_to":
            t = epochs_to(c, float(m.threshold), below=m.below)
            censored += math.isinf(t)
            out.append(planned + 1 if math.isinf(t) else t)
        elif m.kind == "fails":
            out.append(float(not np.any(c >= float(m.threshold))))
        elif m.kind == "at_best":
            e = best_epoch(cache.get(run["experiment"], m.select).get(int(run["id"]), empty), "max")
            out.append(c[e] if c.size > e else math.nan)
        else:
            raise ValueError(f"unknown measure kind {m.kind!r}")
    return np.asarray(out, dtype=np.float64), censored


def _planned(run: dict[str, Any]) -> int:
    """The epochs a run was set to train (a diverged run stores fewer)."""
    return int(run["config"].get("train", {}).get("epochs", run["epochs"]))


def _notes(a_runs: list[dict[str, Any]], b_runs: list[dict[str, Any]], a_cens: int, b_cens: int,
           label_f: str, label_o: str, dropped: int) -> list[str]:
    """Censored thresholds, diverged runs and dropped seeds, in words."""
    notes = []
    censored = [f"{c}/{len(r)} {lab}" for lab, r, c in ((label_f, a_runs, a_cens), (label_o, b_runs, b_cens)) if c]
    if censored:
        planned = _planned(a_runs[0])
        notes.append(f"{' and '.join(censored)} runs never got there in {planned} epochs "
                     f"(counted as {planned + 1}, so the ratio is a bound)")
    diverged = [f"{k} {lab}" for lab, r in ((label_f, a_runs), (label_o, b_runs))
                if (k := sum(x["status"] == "diverged" for x in r))]
    if diverged:
        notes.append(f"{' and '.join(diverged)} runs diverged")
    if dropped:
        notes.append(f"{dropped} seeds without a finite value on both sides were left out")
    return notes


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
    """The deterministic verdict of a loss-shape claim, computed through core.losses."""
    from core.findings import analytic_sentence

    p = float(test.measure.threshold or CONFIDENT_WRONG)
    curves = analytic_curves(np.array([p, 1e-6]), tuple(s.split("/")[0] for s in (*test.favoured, test.others[0])))
    col = "value" if test.measure.metric == "loss" else "grad_norm"
    f, o = test.favoured[0].split("/")[0], test.others[0].split("/")[0]
    at = {(r.loss, r.p_true): getattr(r, col) for r in curves.itertuples()}
    ratio = at[(f, p)] / at[(o, p)] if test.better == "higher" else at[(o, p)] / at[(f, p)]
    verdict = _rule(test, ratio, ratio, 1)
    finding = analytic_sentence(test, at[(f, p)], at[(o, p)], at[(f, 1e-6)], at[(o, 1e-6)], p)
    return Verdict(claim.id, claim.sentence, test.experiment, "analytic, 10 classes", test.what,
                   (test.favoured[0], test.others[0]), {test.favoured[0]: at[(f, p)], test.others[0]: at[(o, p)]},
                   verdict, ratio, ratio, ratio, 1, finding, None, False, lr="", lr_mode="analytic",
                   method="analytic", ratio=True, kind=test.kind, min_effect=test.min_effect)
