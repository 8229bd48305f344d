"""One `lossdb run` as an object: options in, a report out.

    report = Session(RunOptions(experiments=("convergence",), seeds=5), say=print).run()

The session checks the names, plans and validates the runs, loads the user's data once, applies
the limits, skips what is stored, trains on local processes or Dask, adds rounds of seeds with
--until-decided and judges a large store once afterwards so that the next compare reads the cache.
What it tells the user goes through `say` (one line of plain text) and `training` (a progress
display for one batch of runs); the CLI supplies both, so nothing here prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lossdb.core.present.numbers import plural
from lossdb.core.runner.execute import RunSummary

if TYPE_CHECKING:
    from lossdb.core.experiments.spec import Experiment, RunPlan
    from lossdb.core.runner.rounds import Round
    from lossdb.core.store import Store

# `training(total)` opens a progress display for `total` runs and gives back `advance(n)`.
Training = Callable[[int], AbstractContextManager[Callable[[int], None]]]


@dataclass(frozen=True)
class RunOptions:
    """What `lossdb run` was asked to do (the command's options, defaults as the command's)."""

    experiments: Sequence[str] = ()
    configs: Sequence[Path] = ()
    dataset: str | None = None
    target: str | None = None
    task: str | None = None
    drop_missing: bool = False
    preset: str = "quick"
    seeds: int | None = None
    epochs: int | None = None
    force: bool = False
    no_limits: bool = False
    jobs: int = 1
    scheduler: str | None = None
    until_decided: bool = False
    max_seeds: int = 50
    round_size: int | None = None
    all_conditions: bool = False
    db: str | None = None
    device: str = "cpu"


@dataclass
class RunReport:
    """What a session did: runs planned, the summary of the runs it trained (skipped: already
    stored), the rounds of --until-decided (None without it) and the seconds it took."""

    planned: int
    summary: RunSummary
    rounds: list[Round] | None = None
    seconds: float = 0.0
    experiments: tuple[str, ...] = ()  # the experiments planned, in order
    runs_per_experiment: dict[str, int] = field(default_factory=dict)  # runs planned in each

    @property
    def to_run(self) -> int:
        """The runs that were not already stored."""
        return self.summary.planned


@contextmanager
def _silent(total: int) -> Iterator[Callable[[int], None]]:
    yield lambda n: None


class Session:
    """One `lossdb run`: build it with the options, call `run()`."""

    def __init__(self, options: RunOptions, *, say: Callable[[str], None] | None = None,
                 training: Training | None = None) -> None:
        self.options = options
        self._say = say or (lambda text: None)
        self._training = training or _silent
        self._backend = "numpy"

    def run(self) -> RunReport:
        """Plan, check, train and store every run asked for; raises LossdbError (nothing stored) on
        a bad name, file, setting or database before training starts."""
        from lossdb.core.experiments import retarget
        from lossdb.core.runner import execute as runner
        from lossdb.core.runner.executors import sigterm_as_interrupt

        from lossdb.core.engine.backend import resolve

        o = self.options
        started = time.perf_counter()
        self._backend = resolve(o.device).name
        exps = retarget.experiments_to_run(list(o.experiments), list(o.configs), o.dataset, o.target, o.task,
                                           o.drop_missing)
        runner.check_names(exps, o.force)
        plans = runner.plan(exps, o.preset, o.seeds, o.epochs, self._limits())
        runner.check_data(plans)
        jobs = self._jobs()
        with sigterm_as_interrupt():
            if o.until_decided:
                report = self._until_decided(exps, plans, jobs)
            else:
                report = self._once(exps, plans, jobs)
        report.seconds = time.perf_counter() - started
        report.experiments = tuple(e.name for e in exps)
        report.runs_per_experiment = dict(Counter(p.experiment for p in plans))
        return report

    def _limits(self):
        from lossdb.core.experiments.validate import LIMITS, NO_LIMITS

        return NO_LIMITS if self.options.no_limits else LIMITS

    def _jobs(self) -> int:
        """--jobs, capped at the CPUs here unless --no-limits or a Dask scheduler."""
        from lossdb.core.runner.executors import cpu_count

        o = self.options
        if not o.no_limits and o.scheduler is None and o.jobs > (cpus := cpu_count()):
            self._say(f"--jobs {o.jobs} is more than the {plural(cpus, 'CPU')} here: using {cpus} "
                      f"(--no-limits starts {o.jobs}).")
            return cpus
        return o.jobs

    def _once(self, exps: list[Experiment], plans: list[RunPlan], jobs: int) -> RunReport:
        """Every planned run not stored yet, in one batch."""
        from lossdb.core.runner import execute as runner
        from lossdb.core.runner.executors import open_executor
        from lossdb.core.store import describe, open_store

        o = self.options
        with open_executor(jobs, o.scheduler) as (executor, workers), open_store(o.db) as store:
            runner.check_specs(store, exps, o.force)
            todo = runner.pending(store, plans, o.force, self._backend)
            skipped = len(plans) - len(todo)
            self._say(f"{plural(len(plans), 'run')} planned in {plural(len(exps), 'experiment')}; {skipped} already stored, "
                      f"{len(todo)} to run on {plural(workers, 'worker')} → {describe(store.url)}")
            with self._training(len(todo)) as advance:
                summary = runner.execute(store, exps, todo, force=o.force, executor=executor, workers=workers,
                                         on_stack=advance, backend=self._backend)
            if summary.finished:
                self._warm(store)
        summary.skipped = skipped
        return RunReport(planned=len(plans), summary=summary)

    def _until_decided(self, exps: list[Experiment], plans: list[RunPlan], jobs: int) -> RunReport:
        """Rounds of seeds (core.runner.rounds) until every verdict is decided or at --max-seeds."""
        from lossdb.core.experiments import spec as ex
        from lossdb.core.judging import claims_of, judge_store
        from lossdb.core.runner import execute as runner
        from lossdb.core.runner.executors import open_executor
        from lossdb.core.runner.rounds import focus, until_decided
        from lossdb.core.store import open_store

        o = self.options
        start: dict[str, int] = {}
        for p in plans:
            start[p.experiment] = max(start.get(p.experiment, 0), p.seed + 1)
        totals = RunSummary()
        with open_executor(jobs, o.scheduler) as (executor, workers), open_store(o.db) as store:
            runner.check_specs(store, exps, o.force)

            def train(todo_exps: list[Experiment], seeds_of: dict[str, int]) -> None:
                todo_plans = focus([p for e in todo_exps for p in ex.expand(e, o.preset, seeds_of[e.name], o.epochs)],
                                   claims_of(store), start, o.all_conditions)
                todo = runner.pending(store, todo_plans, o.force, self._backend)
                with self._training(len(todo)) as advance:
                    done = runner.execute(store, todo_exps, todo, force=o.force, executor=executor,
                                          workers=workers, on_stack=advance, backend=self._backend)
                for k in ("planned", "finished", "diverged", "failed"):
                    setattr(totals, k, getattr(totals, k) + getattr(done, k))
                totals.errors += [e for e in done.errors if e not in totals.errors]

            def judge(names: list[str]):
                return judge_store(store, experiments=names, all_conditions=True)

            def report(r: Round) -> None:
                seeds = ", ".join(f"{k} {n}" for k, n in r.seeds.items())
                self._say(f"round {r.number} ({seeds} seeds): decided {', '.join(r.decided) or 'none'}; "
                          f"open {', '.join(r.open) or 'none'}")

            rounds = until_decided(exps, start, o.round_size, o.max_seeds, train, judge, o.all_conditions, report)
            if totals.finished:
                self._warm(store)
        return RunReport(planned=len(plans), summary=totals, rounds=rounds)

    def _warm(self, store: Store) -> None:
        """Judge a large store once now, and tabulate its runs, so that the next compare, dashboard
        visit or report reads them from the cache (core.cache) instead of computing them."""
        from lossdb.core import cache

        if cache.folder() is None or store.counts(metric_rows=False)["runs"] < cache.WARM_MIN_RUNS:
            return
        from lossdb.core.analysis import kept_runs_frame
        from lossdb.core.errors import LossdbError
        from lossdb.core.judging import judge_store

        started = time.perf_counter()
        try:
            judge_store(store, frame=kept_runs_frame(store))  # the frame: what the dashboard's run pages read
        except LossdbError:
            return  # compare will say what is wrong; the runs themselves are stored
        self._say(f"Judged every claim in {time.perf_counter() - started:.1f} s (kept for compare, the dashboard "
                  "and reports until the database changes).")
