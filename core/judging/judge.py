"""Judge a database: the one entry point that `lossdb compare`, the reports and the dashboard share.

It opens the store read-only, checks the names a caller filters by (experiments, claims, verdicts)
against what exists, evaluates every claim the stored experiments test, and filters the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from lossdb.core import cache as verdictcache
from lossdb.core.judging.adaptive import Design
from lossdb.core.experiments.arms import by_label
from lossdb.core.judging.claims import CLAIMS, Claim, Measure, Test
from lossdb.core.experiments.comparisons import Comparison, comparisons_of
from lossdb.core.errors import ConfigError
from lossdb.core.judging.headlines import summary
from lossdb.core.judging.injected import fixed_corruptions, mark_injected
from lossdb.core.judging.outcomes import VERDICTS, Verdict
from lossdb.core.judging.rerun import with_rerun_commands
from lossdb.core.experiments.retarget import SEPARATOR, dataset_key, experiments_of_dataset
from lossdb.core.engine.series import REGRESSION, UNIT_INTERVAL

ESTIMATORS = ("t", "robust")  # for continuous paired measures: Student-t (the mean); the median's sign-test interval

if TYPE_CHECKING:
    import pandas as pd

    from lossdb.core.store import Store


def known_experiments(stored: Sequence[dict], declared: dict[str, Claim]) -> list[str]:
    """Every experiment name a caller may filter by: the catalogue's, the claims' and the stored ones
    (`stored`: the store's experiments)."""
    from lossdb.core.experiments.spec import catalogue_names

    return sorted({*catalogue_names(), *(e for c in declared.values() for e in c.experiments),
                   *(e["name"] for e in stored)})


def check_experiments(store: Store, experiments: Sequence[str] | None) -> None:
    """Refuse an experiment name the store and the catalogue do not know."""
    stored = store.experiments()
    check_names(experiments, None, None, known_experiments(stored, claims_from(stored)), ())


def claims_of(store: Store | None = None) -> dict[str, Claim]:
    """The catalogue's claims and those of the experiments stored in `store` (see `claims_from`)."""
    return claims_from(store.experiments() if store is not None else ())


def claims_from(stored: Sequence[dict]) -> dict[str, Claim]:
    """The catalogue's claims, then for each stored re-targeted experiment (convergence@mydata) the
    catalogue's claims on that data ("convergence@mydata"), then each user experiment's comparisons
    ("my-experiment:focal-beats-ce"); `stored` is the store's experiments."""
    out = dict(CLAIMS)
    names = [e["name"] for e in stored]
    for key in sorted({n.split(SEPARATOR, 1)[1] for n in names if SEPARATOR in n}):
        out.update(retargeted_claims(key, names))
    for e in stored:
        for c in comparisons_of(e.get("spec") or {}):
            claim = user_claim(e["name"], c)
            out[claim.id] = claim
    return out


def holds_catalogue(stored: Sequence[dict]) -> bool:
    """Whether any catalogue experiment (on the catalogue's own data) is among `stored`."""
    from lossdb.core.experiments.spec import catalogue_names

    return bool(set(catalogue_names()) & {e["name"] for e in stored})


def catalogue_hidden(stored: Sequence[dict]) -> bool:
    """True when the database holds experiments but none of the catalogue's: its claims were not
    asked, so no view shows their "not run" rows (only a line on how to run them)."""
    return bool(stored) and not holds_catalogue(stored)


def asked(declared: dict[str, Claim], stored: Sequence[dict]) -> dict[str, Claim]:
    """The claims a view shows: all of them, less the catalogue's own when `catalogue_hidden`."""
    if not catalogue_hidden(stored):
        return declared
    return {k: c for k, c in declared.items() if k not in CLAIMS}


# Claims about what a head does to a loss's gradient: on a user's data their network test compares
# arms on the same head only (ce/softmax with mse/softmax), never a softmax arm with a sigmoid one.
SAME_HEAD_ON_USER_DATA = frozenset({"vanishing-gradient"})


def _like_with_like(claim: Claim, test: Test) -> Test:
    """A re-targeted test of a SAME_HEAD_ON_USER_DATA claim with its other arms cut to the favoured
    arms' heads (unchanged when none would be left, or for other claims)."""
    if claim.id not in SAME_HEAD_ON_USER_DATA:
        return test
    heads = {a.head for a in test.favoured}
    others = tuple(o for o in test.others if o.head in heads)
    return replace(test, others=others) if others else test


def retargeted_claims(key: str, names: Sequence[str]) -> dict[str, Claim]:
    """The catalogue's claims judged on the experiments re-targeted to the user's data `key`."""
    mine = set(experiments_of_dataset(names, key))
    out = {}
    for claim in CLAIMS.values():
        tests = tuple(_like_with_like(claim, replace(t, experiment=f"{t.experiment}{SEPARATOR}{key}"))
                      for t in claim.tests if f"{t.experiment}{SEPARATOR}{key}" in mine)
        if tests:
            main = next((t for t in tests if t.primary), tests[0])
            tests = tuple(replace(t, primary=t is main) for t in tests)
            out[f"{claim.id}{SEPARATOR}{key}"] = replace(claim, id=f"{claim.id}{SEPARATOR}{key}", tests=tests,
                                                         family=f"{SEPARATOR}{key}")
    return out


def user_claim(experiment: str, c: Comparison) -> Claim:
    """A user's comparison as a claim with one test, judged exactly as catalogue claims are."""
    if isinstance(c.at, tuple):
        measure, what = Measure("epochs_to", c.metric, c.threshold, below=c.below), f"epochs to {c.metric} {c.at_text[10:]}"
    elif c.at == "best":
        select, mode = ("val_accuracy", "max") if c.metric not in REGRESSION else ("val_rmse", "min")
        measure, what = Measure("at_best", c.metric, select=select, select_mode=mode), f"{c.metric} at the best-validation epoch"
    else:
        measure, what = Measure("final", c.metric), f"final {c.metric}"
    points = c.metric in UNIT_INTERVAL and not c.ratio
    test = Test(experiment, measure, what, (by_label(c.favoured),), (by_label(c.other),), c.better,
                ratio=c.ratio, min_effect=c.min_effect, primary=True, scale=100.0 if points else 1.0,
                unit=" points" if points else "")
    return Claim(f"{experiment}:{c.name}", c.claim, (), (test,), family=experiment,
                 why_headline="declared in the experiment file" if c.declared else
                 "the default: every arm against the first on the task's main metric")


def dataset_claims(declared: dict[str, Claim], dataset: str) -> list[str]:
    """The claim ids judged on a user's data (`lossdb compare --dataset mydata`)."""
    key = dataset_key(dataset)
    return [k for k in declared if k.endswith(f"{SEPARATOR}{key}")]


def dataset_experiments(store: Store, dataset: str) -> list[str]:
    """The stored experiments run on the user's data `dataset` (its name, file name or csv:PATH):
    the catalogue's re-targeted ones and any experiment file on it; refuses an unknown name with
    the valid ones."""
    from lossdb.core.experiments.retarget import data_names, resolve_dataset, stored_datasets

    stored = store.experiments()
    names = [e["name"] for e in stored]
    mine = experiments_of_dataset(names, dataset)
    try:
        value = resolve_dataset(dataset, store.datasets())
    except ConfigError:
        value = None
    if value is not None:
        mine += [r.experiment for r in store.list_runs(dataset=value, extras=False)
                 if r.experiment not in mine and SEPARATOR not in r.experiment]
    if not mine:
        valid = sorted({*stored_datasets(names), *(n for n in data_names(store.datasets()).values())})
        raise ConfigError(f"no experiment ran on the data {dataset!r}; valid: {', '.join(valid) or 'none'}")
    return list(dict.fromkeys(mine))


def designs_of(stored: Sequence[dict]) -> dict[str, Design]:
    """The sequential design of every stored experiment that has one (`lossdb run --until-decided`)."""
    out = {}
    for e in stored:
        design = Design.from_spec(e.get("spec"))
        if design is not None:
            out[e["name"]] = design
    return out


def check_names(experiments: Sequence[str] | None, claims: Sequence[str] | None,
                verdicts: Sequence[str] | None, known_experiments: Sequence[str],
                known_claims: Sequence[str]) -> None:
    """Refuse an unknown experiment, claim or verdict word with the valid ones."""
    for given, valid, what in ((experiments, known_experiments, "experiment"), (claims, known_claims, "claim"),
                               (verdicts, VERDICTS, "verdict")):
        unknown = [x for x in given or () if x not in valid]
        if unknown:
            raise ConfigError(f"unknown {what} {unknown[0]!r}; valid: {', '.join(valid)}")


def judge_store(store: Store, *, experiments: Sequence[str] | None = None, claims: Sequence[str] | None = None,
                verdicts: Sequence[str] | None = None, all_conditions: bool = False,
                frame: pd.DataFrame | Callable[[], pd.DataFrame] | None = None,
                dataset: str | None = None, estimator: str = "t",
                fingerprint: str | None = None) -> list[Verdict]:
    """The summary rows (or every comparison) of an open store, filtered by the given names;
    `dataset` keeps the claims judged on that user's data. `frame`: the store's runs frame, or a
    function giving it, called only when the verdicts are not cached.

    Every declared claim is judged, whatever the filters (`judged`): the filters select rows after
    judging, so a verdict and its family-wise level never depend on what is shown. Without
    all_conditions a claim is kept when it is tested by one of `experiments`; with it, a row is
    kept when it was measured in one of them. `estimator`: "t" or "robust" (core.judging.verdicts.evaluate).
    `fingerprint`: the store state that `frame` was read at (core.cache files the verdicts under it)."""
    stored = store.experiments()  # read once: names, comparisons and designs all come from it
    declared = asked(claims_from(stored), stored)
    known = known_experiments(stored, declared)
    if dataset is not None:
        on_data = dataset_claims(declared, dataset)
        if not on_data:
            keys = sorted({n.split(SEPARATOR, 1)[1] for n in known if SEPARATOR in n})
            raise ConfigError(f"no experiment ran on the data {dataset!r}; "
                              + (f"valid: {', '.join(keys)}" if keys else
                                 "run `lossdb run --dataset csv:PATH --target COLUMN` first"))
        claims = [c for c in on_data if not claims or c in claims]
    check_names(experiments, claims, verdicts, known, list(declared))
    chosen = {k: c for k, c in declared.items() if (not claims or k in claims)
              and (not experiments or set(c.experiments) & set(experiments))}
    if estimator not in ESTIMATORS:
        raise ConfigError(f"unknown estimator {estimator!r}; valid: {', '.join(ESTIMATORS)}")
    rows = [v for v in judged(store, stored, frame, estimator, fingerprint) if v.claim in chosen]
    if all_conditions:
        rows = [v for v in rows if not experiments or v.experiment in experiments]
    else:
        rows = summary(rows, chosen)
    rows = with_rerun_commands(mark_injected(rows, fixed_corruptions(stored)), stored)
    return [v for v in rows if not verdicts or v.verdict in verdicts]


def judged(store: Store, stored: Sequence[dict] | None = None,
           frame: pd.DataFrame | Callable[[], pd.DataFrame] | None = None, estimator: str = "t",
           fingerprint: str | None = None) -> list[Verdict]:
    """Every comparison of every declared claim (the catalogue's, each re-targeted dataset's, each user
    experiment's), each family at its own level; kept by core.cache until the store changes.
    `stored`: the store's experiments if already read; `frame` as in `judge_store`."""
    stored = store.experiments() if stored is None else stored
    declared = claims_from(stored)
    key = ("evaluate", tuple(declared)) if estimator == "t" else ("evaluate", tuple(declared), estimator)
    return verdictcache.cached(store, key,
                               lambda: _evaluate(store, None, frame() if callable(frame) else frame, declared,
                                                 designs_of(stored), estimator),
                               expect=verdictcache.many(Verdict), types=(Verdict,), fingerprint=fingerprint)


def _evaluate(store: Store, *args) -> list[Verdict]:
    from lossdb.core.judging.verdicts import (
        evaluate,  # pandas and scipy: imported only when verdicts must be computed
    )

    return evaluate(store, *args)


def stored_experiments(db: str | None) -> list[dict]:
    """The stored experiments of database `db` (opened read-only): name, description, spec, n_runs."""
    from lossdb.core.store import open_store

    with open_store(db, create=False, read_only=True) as store:
        return store.experiments()


def catalogue_hidden_in(db: str | None) -> bool:
    """`catalogue_hidden` for the database `db` (opened read-only)."""
    return catalogue_hidden(stored_experiments(db))


def judge(db: str | None, **filters) -> list[Verdict]:
    """Open the database read-only and judge it (see `judge_store` for the filters)."""
    from lossdb.core.store import open_store

    store = open_store(db, create=False, read_only=True)
    try:
        return judge_store(store, **filters)
    finally:
        store.close()
