"""Everything a report says, computed once from the store: one ReportData that every format renders.

The numbers come from core.analysis.frame (runs, curves, aggregates) and core.judging (the verdicts
and their summary, the same rows `lossdb compare` prints); the sentences from core.present and
core.report.prose, the table views from core.report.view.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from lossdb.core.judging import lrchoice
from lossdb.core.present import cells as present
from lossdb.core import cache as verdictcache
from lossdb.core.judging.claims import Claim
from lossdb.core.experiments.spec import catalogue
from lossdb.core.judging.headlines import summary, tally
from lossdb.core.experiments.retarget import SEPARATOR, stored_datasets
from lossdb.core.judging.injected import fixed_corruptions, mark_injected
from lossdb.core.judging.rerun import with_rerun_commands
from lossdb.core.judging.judge import asked, catalogue_hidden, claims_from, claims_of, judged
from lossdb.core.present.card import Card, build_card
from lossdb.core.judging.outcomes import VERDICTS, Verdict
from lossdb.core.provenance import versions
from lossdb.core.report.figures import Chart, convergence, plain, slug
from lossdb.core.report.prose import abstract, network_text, optimiser_text, protocol, scale
from lossdb.core.status import DONE_STATUSES
from lossdb.core.store import describe

if TYPE_CHECKING:
    import pandas as pd

    from lossdb.core.store import RunRecord, Store

SCHEMA_VERSION = "1.0"
NOTABLE = ("diverged", "failed", "interrupted", "running")
TABLE_METRICS = ("test_accuracy", "test_balanced_accuracy", "test_macro_f1", "test_ece", "test_nll",
                 "test_brier", "test_rmse", "test_mae", "output", "grad_norm")
MAX_TABLE_METRICS = 5
MAX_CHART_METRICS = 2
MAX_CHARTS = 12  # per experiment


@dataclass(frozen=True)
class Stat:
    """Mean and sample sd of a final metric over the finite values of n runs (None when undefined)."""

    mean: float | None
    sd: float | None
    n: int


@dataclass(frozen=True)
class ArmRow:
    """One arm at one learning rate in one condition: its runs and final metrics across seeds."""

    label: str
    lr: float
    chosen: bool  # the learning rate the verdicts use for this arm ("tuned" on validation)
    runs: int
    statuses: dict[str, int]
    metrics: dict[str, Stat]


@dataclass(frozen=True)
class Condition:
    """The runs of an experiment that share everything but the arm, lr and seed."""

    name: str
    metrics: tuple[str, ...]
    arms: tuple[ArmRow, ...]
    charts: tuple[Chart, ...]


@dataclass(frozen=True)
class Notable:
    """A run a reader should know about: diverged, failed, interrupted or still running."""

    id: int
    label: str
    lr: float
    seed: int
    status: str
    condition: str
    detail: str


@dataclass(frozen=True)
class Section:
    """One experiment: what it tests and why, its protocol, and per condition its charts and table."""

    name: str
    description: str
    protocol: str
    claims: tuple[str, ...]
    settings: dict[str, str]
    runs: int
    statuses: dict[str, int]
    conditions: tuple[Condition, ...]
    notable: tuple[Notable, ...]
    charts_left_out: int = 0


@dataclass(frozen=True)
class Provenance:
    """Where the report's numbers come from and how to make it again."""

    lossdb_version: str
    numpy_version: str
    python_version: str
    git_commit: str | None
    database: str
    experiments: int
    runs: int
    runs_by_status: dict[str, int]
    first_run: str | None
    last_run: str | None
    run_versions: tuple[str, ...]
    command: str
    data_digests: tuple[str, ...] = ()  # "NAME: digest (N runs)" per dataset and data digest


@dataclass(frozen=True)
class ReportData:
    """The whole report, format-free."""

    title: str
    date: str
    abstract: str
    counts: dict[str, int]
    summary: tuple[Verdict, ...]
    sections: tuple[Section, ...]
    not_run: tuple[str, ...]
    provenance: Provenance
    schema_version: str = SCHEMA_VERSION
    experiments: tuple[str, ...] | None = field(default=None)
    cards: tuple[Card, ...] = ()  # one recommendation card per dataset of the user's that is shown
    catalogue_hidden: bool = False  # only the user's experiments are stored: no catalogue "not run" rows

    @property
    def charts(self) -> list[Chart]:
        """Every chart of the report, in reading order."""
        return [c for s in self.sections for cond in s.conditions for c in cond.charts]


def build(store: Store, experiments: list[str] | None = None, *, title: str | None = None,
          command: str = "lossdb report") -> ReportData:
    """Read the store once and compute everything the report shows (experiments=None: all); kept
    by core.cache until the database, lossdb or the environment's versions change, so only
    the title and the date are new when nothing else is."""
    question = ("report", tuple(experiments or ()), command, tuple(sorted(versions().items(), key=str)))
    data = verdictcache.cached(store, question, lambda: _build(store, experiments or None, command),
                               expect=verdictcache.one(ReportData), types=(ReportData,))
    rows = tuple(with_rerun_commands(data.summary, store.experiments()))  # files checked now, not when cached
    return replace(data, summary=rows, title=title or data.title, date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))


def _build(store: Store, experiments: list[str] | None, command: str) -> ReportData:
    """Everything the report shows, computed from the store."""
    # pandas, scipy and Altair are imported here, not at the top: a cached report needs none of them
    from lossdb.core.analysis import frame as analysis
    records = _records(store, experiments)
    frame = analysis.runs_frame(store, experiments, records)
    listed = store.experiments()
    declared = asked(claims_from(listed), listed)
    # every declared claim judged (the same verdicts as compare); the experiments select rows after
    every = judged(store, listed, frame if experiments is None else None)
    if experiments:
        declared = {k: c for k, c in declared.items() if set(c.experiments) & set(experiments)}
    every = [v for v in every if v.claim in declared]
    rows = tuple(mark_injected(summary(every, declared), fixed_corruptions(listed)))
    verdicts = [v for v in every if not experiments or v.experiment in experiments]
    counts = {v: sum(r.verdict == v for r in rows) for v in VERDICTS}
    counts_all = tally(verdicts)
    cat = catalogue()
    stored = {e["name"]: e for e in listed}
    names = list(dict.fromkeys(frame["experiment"])) if not frame.empty else []
    sections = tuple(_section(store, name, frame[frame["experiment"] == name], cat, stored, declared)
                     for name in names)
    tested = [e for c in declared.values() for e in c.experiments if experiments is None or e in experiments]
    not_run = tuple(e for e in dict.fromkeys(tested) if e not in names and e in cat)
    prov = _provenance(store, records, command)
    text = abstract(rows, counts, prov.runs, prov.runs_by_status, names, counts_all, _source(frame, cat))
    keys = stored_datasets(names)
    cards = tuple(build_card([v for v in rows if v.claim.endswith(SEPARATOR + key)], key, listed) for key in keys)
    return ReportData("lossdb: cross-entropy against MSE, measured",
                      datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), text, counts, rows, sections,
                      not_run, prov, experiments=tuple(experiments) if experiments else None, cards=cards,
                      catalogue_hidden=catalogue_hidden(listed))


def _records(store: Store, experiments: list[str] | None) -> list[RunRecord]:
    """The runs the report is computed from: the current engine's (core.analysis.engines), so its
    provenance counts what its verdicts and charts use."""
    from lossdb.core.analysis.engines import current_engine

    records = store.list_runs() if experiments is None else \
        [r for name in experiments for r in store.list_runs(experiment=name)]
    return [r for r in records if current_engine(r.engine_version)]


def _section(store: Store, name: str, runs: pd.DataFrame, cat: dict[str, Any],
             stored: dict[str, dict[str, Any]], declared: dict[str, Claim]) -> Section:
    exp = cat.get(name)
    description = exp.description if exp else (stored.get(name, {}).get("description") or "")
    template = str(exp.raw["experiment"].get("protocol", "")) if exp else ""
    text = protocol(template, _epochs(runs), int(runs["seed"].nunique()))
    claims = tuple(c.id for c in declared.values() if name in c.experiments) or (exp.claims if exp else ())
    used = runs[runs["status"].isin(DONE_STATUSES)]
    conditions, left_out, budget = [], 0, MAX_CHARTS
    for cond, group in used.groupby("condition", sort=True):
        c = _condition(store, name, str(cond), group, budget)
        budget -= len(c.charts)
        left_out += max(0, len(_chart_metrics(name, group)) - len(c.charts))
        conditions.append(c)
    notable = tuple(_notable(r) for r in runs.itertuples() if r.status in NOTABLE)
    statuses = dict(Counter(str(s) for s in runs["status"]))
    return Section(name, description, text, claims, _settings(runs), len(runs), statuses,
                   tuple(conditions), notable, left_out)


def _settings(runs: pd.DataFrame) -> dict[str, str]:
    """The protocol as the configs of the runs state it: dataset, network, optimiser, lrs, epochs, seeds."""
    from lossdb.core.analysis import frame as analysis

    flats = [analysis.flat_config(c) for c in runs["config"]]

    def values(key: str) -> list[Any]:
        seen: dict[str, Any] = {}
        for f in flats:
            if f.get(key) is not None:
                seen.setdefault(repr(f[key]), f[key])
        return list(seen.values())

    seeds = sorted({int(s) for s in runs["seed"]})
    epochs = sorted({int(e) for e in values("epochs")})
    out = {
        "dataset": ", ".join(str(v) for v in values("dataset")),
        "network": "; ".join(dict.fromkeys(network_text(f) for f in flats)),
        "optimiser": "; ".join(dict.fromkeys(optimiser_text(f) for f in flats)),
        "learning rates": ", ".join(f"{lr:g}" for lr in sorted({float(x) for x in runs["lr"]})),
        "epochs": ", ".join(str(e) for e in epochs),
        "seeds": f"{len(seeds)} ({seeds[0]}–{seeds[-1]})" if len(seeds) > 1 else ", ".join(map(str, seeds)),
        "arms (loss/head)": ", ".join(dict.fromkeys(str(x) for x in runs["label"])),
    }
    return {k: v for k, v in out.items() if v}


def _epochs(runs: pd.DataFrame) -> list[int]:
    """The epochs the runs were configured for, as stored in their configs."""
    from lossdb.core.analysis import frame as analysis

    return sorted({int(e) for e in (analysis.flat_config(c).get("epochs") for c in runs["config"]) if e is not None})


def presets_matching(exp: Any, epochs: list[int], seeds: int) -> tuple[str, ...]:
    """The catalogue presets whose epochs and seed count the stored runs of `exp` match (both
    when an experiment's quick and full presets are the same)."""
    if exp is None:
        return ()
    train = exp.raw.get("train", {})
    matches = []
    for name, preset in exp.raw.get("presets", {}).items():
        wanted = {**train, **preset.get("train", {})}
        if epochs == [int(wanted.get("epochs", -1))] and seeds == int(wanted.get("seeds", -1)):
            matches.append(str(name))
    return tuple(matches)


def preset_of(exp: Any, epochs: list[int], seeds: int) -> str | None:
    """The catalogue preset whose epochs and seed count the stored runs of `exp` match ("full" when
    both presets are the same), else None."""
    matches = presets_matching(exp, epochs, seeds)
    return "full" if "full" in matches else (matches[0] if matches else None)


def one_preset_each(matches: dict[str, tuple[str, ...]]) -> dict[str, str | None]:
    """Each experiment's preset, preferring one that every experiment matches (a quick-preset
    database whose experiment has equal quick and full presets is the quick preset's), then full."""
    common = set.intersection(*(set(m) for m in matches.values())) if matches else set()
    shared = "full" if "full" in common else next(iter(sorted(common)), None)
    return {name: shared or ("full" if "full" in m else (m[0] if m else None)) for name, m in matches.items()}


def _source(frame: pd.DataFrame, cat: dict[str, Any]) -> str:
    """Which preset (or custom settings) and how many seeds per arm the numbers come from."""
    if frame.empty:
        return ""
    used = frame[frame["status"].isin(DONE_STATUSES)]
    matches, seeds, epochs = {}, {}, {}
    for name, runs in used.groupby("experiment", sort=False):
        epochs[str(name)] = _epochs(runs)
        seeds[str(name)] = int(runs["seed"].nunique())
        matches[str(name)] = presets_matching(cat.get(str(name)), epochs[str(name)], seeds[str(name)])
    return scale(one_preset_each(matches), seeds, epochs)


def _chart_metrics(name: str, runs: pd.DataFrame) -> list[str]:
    """The per-epoch metrics the claims measure in this experiment, else test accuracy or RMSE."""
    wanted = [t.measure.metric for c in claims_of().values() for t in c.tests
              if t.experiment == name and t.measure.kind not in ("analytic", "diverges")]
    present = [m for m in dict.fromkeys(wanted) if m in runs and runs[m].notna().any()]
    if not present:
        present = [m for m in ("test_accuracy", "test_rmse", "train_loss") if m in runs and runs[m].notna().any()][:1]
    return present[:MAX_CHART_METRICS]


def _table_metrics(name: str, runs: pd.DataFrame) -> tuple[str, ...]:
    """Final metrics for the per-arm table: those the claims measure first, then the usual yardsticks."""
    wanted = [t.measure.metric for c in claims_of().values() for t in c.tests
              if t.experiment == name and t.measure.kind in ("final", "at_best")]
    ordered = list(dict.fromkeys([*wanted, *TABLE_METRICS]))
    present = [m for m in ordered if m in runs and np.isfinite(runs[m].to_numpy(dtype=np.float64)).any()]
    return tuple(present[:MAX_TABLE_METRICS])


def chosen_lrs(group: pd.DataFrame) -> dict[str, float]:
    """Each arm's learning rate by the one rule of `core.judging.lrchoice` (over all seeds), when an arm ran
    at several rates; its only rate otherwise."""
    best = {k: c.lr for k, c in lrchoice.chosen_lrs(group.to_dict("records")).items()}
    singles = {str(k): float(v.iloc[0]) for k, v in group.groupby("label")["lr"] if v.nunique() == 1}
    return {**best, **singles}


def _condition(store: Store, name: str, cond: str, group: pd.DataFrame, budget: int) -> Condition:
    from lossdb.core.analysis import frame as analysis

    metrics = _table_metrics(name, group)
    best = chosen_lrs(group)
    arms = []
    for (label, lr), runs in group.groupby(["label", "lr"], sort=True):
        stats = {}
        for m in metrics:
            v = runs[m].to_numpy(dtype=np.float64)
            v = v[np.isfinite(v)]
            stats[m] = Stat(float(v.mean()) if v.size else None,
                            float(v.std(ddof=1)) if v.size > 1 else None, int(v.size))
        arms.append(ArmRow(str(label), float(lr), best.get(str(label)) == float(lr), len(runs),
                           dict(Counter(str(s) for s in runs["status"])), stats))
    tuned = group.groupby("label")["lr"].nunique().max() > 1
    shown = group[[best.get(str(lab), float(lr)) == float(lr)
                   for lab, lr in zip(group["label"], group["lr"], strict=True)]]
    made = []
    for metric in _chart_metrics(name, group)[:max(budget, 0)]:
        curves = analysis.curves(store, [int(i) for i in shown["id"]], metric)
        chart = convergence(slug(f"{name}-{cond}-{metric}"), name, cond, metric, shown, curves, bool(tuned))
        if chart is not None:
            made.append(chart)
    return Condition(cond, metrics, tuple(arms), tuple(made))


def _notable(r: Any) -> Notable:
    if r.status == "diverged":
        epoch = r.diverged_epoch
        detail = f"the loss became non-finite at epoch {int(epoch)}" if epoch == epoch and epoch is not None else \
            "the loss became non-finite"
    elif r.status == "failed":
        detail = "the run failed"
    elif r.status == "interrupted":
        detail = "interrupted before it finished; `lossdb run` again redoes it"
    else:
        detail = "still running when the report was made"
    return Notable(int(r.id), str(r.label), float(r.lr), int(r.seed), str(r.status), str(r.condition), detail)


def _provenance(store: Store, records: list[RunRecord], command: str) -> Provenance:
    v = versions()
    by_status = dict(Counter(r.status for r in records))
    starts = [r.started_at for r in records if r.started_at is not None]
    ends = [r.finished_at or r.started_at for r in records if (r.finished_at or r.started_at) is not None]
    made_with = Counter(f"lossdb {r.lossdb_version}" + (f" at commit {r.git_commit[:12]}" if r.git_commit else "")
                        for r in records)
    return Provenance(v["lossdb_version"] or "", v["numpy_version"] or "", v["python_version"] or "",
                      v["git_commit"], describe(store.url), len({r.experiment for r in records}), len(records),
                      by_status, _when(min(starts)) if starts else None, _when(max(ends)) if ends else None,
                      tuple(f"{k} ({n} runs)" for k, n in made_with.most_common()), command,
                      _digests(records))


def _digests(records: list[RunRecord]) -> tuple[str, ...]:
    """Each dataset's data digest(s) and how many runs trained on each, the data's name first."""
    from lossdb.core.data.fingerprint import short
    from lossdb.core.experiments.retarget import data_name

    counts = Counter((data_name(r.dataset), short(r.data_digest)) for r in records)
    return tuple(f"{name}: {digest} ({n} runs)" for (name, digest), n in sorted(counts.items()))


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def as_json(data: ReportData) -> dict[str, Any]:
    """The report as plain JSON-ready data (the JSON format, and what the schema validates)."""
    p = data.provenance
    return {
        "schema_version": data.schema_version, "title": data.title, "date": data.date,
        "experiments_selected": list(data.experiments) if data.experiments else None,
        "abstract": data.abstract, "verdict_counts": data.counts,
        "summary": [present.as_json(v) for v in data.summary],
        "experiments": [_section_json(s) for s in data.sections],
        "not_run": list(data.not_run),
        "provenance": {"lossdb_version": p.lossdb_version, "numpy_version": p.numpy_version,
                       "python_version": p.python_version, "git_commit": p.git_commit, "database": p.database,
                       "experiments": p.experiments, "runs": p.runs, "runs_by_status": p.runs_by_status,
                       "first_run": p.first_run, "last_run": p.last_run, "run_versions": list(p.run_versions),
                       "command": p.command, "data_digests": list(p.data_digests)},
        "cards": [{"dataset": c.dataset, "answers": [x.text for x in c.answers],
                   "bottom_line": [x.text for x in c.bottom_line], "still_open": [x.text for x in c.still_open],
                   "command": c.command, "estimated_runs": c.estimated_runs,
                   "estimated_seconds": c.estimated_seconds, "workers": c.workers} for c in data.cards],
    }


def _section_json(s: Section) -> dict[str, Any]:
    return {
        "name": s.name, "description": s.description, "protocol": s.protocol, "claims": list(s.claims),
        "settings": s.settings, "runs": s.runs, "runs_by_status": s.statuses,
        "conditions": [{
            "condition": c.name, "metrics": list(c.metrics),
            "arms": [{"label": a.label, "lr": a.lr, "chosen_lr": a.chosen, "runs": a.runs, "runs_by_status": a.statuses,
                      "final": {m: {"mean": plain(st.mean), "sd": plain(st.sd), "n": st.n} for m, st in a.metrics.items()}}
                     for a in c.arms],
            "charts": [{"id": ch.id, "metric": ch.metric, "caption": ch.caption, "series": list(ch.series)}
                       for ch in c.charts],
        } for c in s.conditions],
        "notable_runs": [{"id": n.id, "label": n.label, "lr": n.lr, "seed": n.seed, "status": n.status,
                          "condition": n.condition, "detail": n.detail} for n in s.notable],
        "charts_left_out": s.charts_left_out,
    }
