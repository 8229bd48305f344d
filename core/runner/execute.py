"""Plan runs, skip finished ones, train stacks on an Executor and store each stack in one transaction.

The parent process is the only writer: workers (threads, local processes or Dask workers) only
compute `run_stack`, and the parent saves each stack's runs as their results come back.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lossdb.core as core
from lossdb.core import jsontext
from lossdb.core.experiments import spec as ex
from lossdb.core.experiments import validate
from lossdb.core.judging.adaptive import KEY as DESIGN_KEY
from lossdb.core.judging.claims import step_experiments
from lossdb.core.experiments.retarget import base_experiment
from lossdb.core.data.prepare import prepare
from lossdb.core.data.fingerprint import data_digest, short
from lossdb.core.data.prepare import CSV_PREFIX
from lossdb.core.errors import ConfigError, DataError, LossdbError
from lossdb.core.runner.executors import InlineExecutor
from lossdb.core.runner.schedule import schedule
from lossdb.core.experiments.spec import Experiment, RunPlan
from lossdb.core.present.numbers import plural
from lossdb.core.provenance import versions
from lossdb.core.store import NewRun, Store
from lossdb.core.engine.backend import NUMPY, by_name
from lossdb.core.engine.train import ModelSpec, RunResult, StackSpec, train_stack


# A merged stack's peak memory grows with its models (every model evaluates the whole training
# split at once): conditions join only up to this estimate (core.experiments.validate.stack_bytes),
# well inside the per-stack limit that a single condition is held to.
MERGE_BYTES = 2**30


@dataclass
class RunSummary:
    """What one `lossdb run` did."""

    planned: int = 0
    skipped: int = 0
    finished: int = 0
    diverged: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class WorkerLost(LossdbError):
    """A worker process or the cluster went away; finished runs are stored."""


def plan(exps: Iterable[Experiment], preset: str = "quick", seeds: int | None = None,
         epochs: int | None = None, limits: validate.Limits = validate.LIMITS) -> list[RunPlan]:
    """Every run of the given experiments under a preset and overrides, each arm validated and the
    whole within `limits` (refused before anything is expanded or stored)."""
    exps = list(exps)
    validate.check_count(sum(ex.count(e, preset, seeds, epochs) for e in exps), limits)
    plans = [p for e in exps for p in ex.expand(e, preset, seeds, epochs)]
    arms: dict[str, dict[str, Any]] = {}
    for p in plans:
        if p.arm_hash not in arms:
            arms[p.arm_hash] = p.arm
            try:
                validate.check_arm(p.arm)
                validate.check_task(p.arm)
                validate.check_scale(p.arm, limits)
            except ConfigError as e:
                raise ConfigError(f"experiment {p.experiment!r}, arm {p.arm['label']!r}: {e}") from None
    sizes: dict[str, list[Any]] = {}
    for p in plans:
        sizes.setdefault(p.experiment + p.setting_key, [p.arm, 0])[1] += 1
    validate.check_stacks([(arm, k) for arm, k in sizes.values()], limits)
    return plans


def stacks(plans: list[RunPlan], workers: int = 1, cut: bool = True, merge: bool = False) -> list[list[RunPlan]]:
    """Group runs that train as one stack: each condition's (same data, shape, schedule), and with
    `merge` the conditions of one experiment with equal shapes together while the stack's estimated
    memory stays within MERGE_BYTES; with several workers, the units longest first and (cut) large
    stacks cut so that no worker idles at the end (core.runner.schedule).

    `execute` merges on an accelerator only: there one large stack fills the device, while numpy on a
    CPU core gains nothing from it (the quick preset's mergeable experiments: 28.3-29.4 s of CPU per
    condition, 32.2-32.5 s merged; bench/stacks.py)."""
    groups: dict[tuple[str, str], dict[str, list[RunPlan]]] = {}
    for p in plans:
        groups.setdefault((p.experiment, p.stack_key if merge else p.setting_key), {}).setdefault(
            p.setting_key, []).append(p)
    return schedule([s for conditions in groups.values() for s in _merged(list(conditions.values()))],
                    workers, cut)


def _merged(conditions: list[list[RunPlan]]) -> list[list[RunPlan]]:
    """Conditions of equal shapes, in order, joined into stacks of at most MERGE_BYTES (estimated;
    a condition larger than that alone stays a stack of its own)."""
    out: list[list[RunPlan]] = []
    for runs in conditions:
        if out and validate.stack_bytes(runs[0].arm, len(out[-1]) + len(runs)) <= MERGE_BYTES:
            out[-1] = out[-1] + runs
        else:
            out.append(list(runs))
    return out


def stack_spec(plans: list[RunPlan], backend: str = "numpy") -> StackSpec:
    """The engine's description of one stack of runs, trained on the named array backend."""
    c = plans[0].config
    net = c.net_spec()
    models = tuple(
        ModelSpec(loss=p.config.arm.loss, head=p.config.arm.head, lr=p.config.train.lr, seed=p.seed,
                  loss_params=p.config.arm.params, class_weights=p.config.arm.class_weights,
                  data=None if p.config.data == c.data else p.config.data,
                  net=None if p.config.net_spec() == net else p.config.net_spec())
        for p in plans)
    return StackSpec(data=c.data, net=c.net_spec(), optim=c.optim_spec(), epochs=c.train.epochs,
                     batch_size=c.train.batch_size, models=models, dtype=c.train.dtype, backend=backend,
                     record_steps=base_experiment(plans[0].experiment) in step_experiments())


def check_data(plans: Sequence[RunPlan]) -> None:
    """Load every CSV dataset once before anything is stored, so a bad file is one error, not failed runs."""
    seen: set[str] = set()
    for p in plans:
        spec = p.config.data
        if str(spec.dataset).startswith("csv:") and repr(spec) not in seen:
            seen.add(repr(spec))
            task = prepare(spec, p.seed).task
            for q in plans:
                if repr(q.config.data) == repr(spec):
                    validate.check_head(q.config.arm.head, task, spec.dataset)


def check_names(exps: Sequence[Experiment], force: bool = False) -> None:
    """Refuse a user file that takes a catalogue experiment's name with another definition (unless
    `force`): its runs would join that claim's verdicts; the message says how the two differ."""
    reserved = ex.catalogue_names()
    for e in exps:
        if force or e.source.startswith("catalogue:") or e.name not in reserved:
            continue
        diff = ex.differences(_definition(_plain(ex.catalogue()[e.name].spec)), _definition(_plain(e.spec)))
        if diff:
            raise ConfigError(f"{e.source}: the name {e.name!r} belongs to a catalogue experiment, which yours "
                              f"changes ({_listed(diff)}): give yours its own name, or pass --force to run it "
                              "under that name")


def _plain(spec: dict[str, Any]) -> Any:
    """A spec as the store keeps it (JSON, NaN as null), so that stored and given specs compare equal when they are."""
    return jsontext.plain(spec, "null")


def _listed(diff: list[str]) -> str:
    """The first differences, and how many more."""
    more = f" and {len(diff) - 3} more" if len(diff) > 3 else ""
    return "; ".join(diff[:3]) + more


def check_specs(store: Store, exps: Sequence[Experiment], force: bool = False) -> None:
    """Refuse a user file whose experiment is stored under the same name with a different spec
    (unless `force`): its runs would join another definition's; the message says how they differ."""
    for e in exps:
        if e.source.startswith("catalogue:") or force:
            continue
        stored = store.experiment_spec(e.name)
        if stored is None:
            continue
        diff = ex.differences(_definition(stored), _definition(_plain(e.spec)))
        if diff:
            raise ConfigError(f"{e.source}: experiment {e.name!r} is stored with a different definition "
                              f"({_listed(diff)}): rename it, or pass --force to replace it")


def pending(store: Store, plans: list[RunPlan], force: bool = False, backend: str = "numpy") -> list[RunPlan]:
    """The runs not yet stored as finished or diverged for this engine version and array backend
    (all of them with force).

    A stored run whose data digest differs from the data's now (a CSV file edited since) is never
    taken as done nor mixed with new runs: without `force` the whole run is refused, naming the file."""
    if force:
        return list(plans)
    done: dict[str, dict[tuple[str, int], str | None]] = {}
    digests: dict[str, str] = {}  # the data's digest now, per data spec
    changed: dict[str, list[str | None]] = {}  # dataset → the stored digests that differ
    out = []
    for p in plans:
        if p.experiment not in done:
            done[p.experiment] = store.finished_digests(p.experiment, _engine_version(backend))
        key = (p.arm_hash, p.seed)
        if key not in done[p.experiment]:
            out.append(p)
            continue
        stored = done[p.experiment][key]
        if stored is not None and stored != _digest(p, digests):
            changed.setdefault(p.arm["data"]["dataset"], []).append(stored)
    if changed:
        raise DataError(changed_sentence(changed, digests))
    return out


def _digest(p: RunPlan, memo: dict[str, str]) -> str:
    """The digest of a plan's data now, computed once per data spec."""
    key = json.dumps(p.arm["data"], sort_keys=True)
    if key not in memo:
        memo[key] = data_digest(ex.data_spec(p.arm))
    return memo[key]


def changed_sentence(changed: dict[str, list[str | None]], digests: dict[str, str]) -> str:
    """One sentence naming each changed data file, its stored runs and the two ways forward."""
    parts = []
    for dataset, olds in changed.items():
        name = Path(dataset[len(CSV_PREFIX):]).name if dataset.startswith(CSV_PREFIX) else dataset
        now = next((d for k, d in digests.items() if json.loads(k)["dataset"] == dataset), None)
        parts.append(f"{name} changed since its {plural(len(olds), 'stored run')} (digest {short(olds[0])}, "
                     f"now {short(now)})")
    return "; ".join(parts) + ": --force retrains them on the file as it is now, or keep the old file"


def _engine_version(backend: str) -> str:
    """ENGINE_VERSION for numpy runs, ENGINE_VERSION+backend for the others (never paired with numpy's)."""
    return core.ENGINE_VERSION if backend == NUMPY.name else f"{core.ENGINE_VERSION}+{backend}"


def describe(p: RunPlan, *, status: str, started: datetime, result: RunResult | None = None,
             error: str | None = None, finished: datetime | None = None, digest: str | None = None,
             backend: str = "numpy") -> NewRun:
    """The store's record of one planned run, before (no result) or after training on `backend`, on
    the data whose digest is `digest`."""
    r = result
    return NewRun(
        experiment=p.experiment, arm_hash=p.arm_hash, seed=p.seed, engine_version=_engine_version(backend),
        config={**p.stored_arm, "seed": p.seed}, loss=p.config.arm.loss, head=p.config.arm.head,
        dataset=p.stored_arm["data"]["dataset"], lr=p.config.train.lr, status=status, error=error,
        diverged_epoch=r.diverged_epoch if r else None,
        epochs=r.epochs if r else p.config.train.epochs, started_at=started, finished_at=finished,
        wall_seconds=r.wall_seconds if r else (None if finished is None else (finished - started).total_seconds()),
        metrics=r.metrics if r else {}, extras=dict(r.extras) if r else {},
        data_digest=digest, **versions())


def run_stack(plans: list[RunPlan], progress: Callable[[int, int], None] | None = None,
              backend: str = "numpy") -> list[NewRun]:
    """Train one stack and describe its runs for the store; an exception marks every run failed."""
    started = datetime.now(UTC)
    digests: dict[str, str] = {}
    try:
        for p in plans:  # each data spec's digest (a stack may hold several), read before training
            _digest(p, digests)
        results: list[RunResult] | None = train_stack(stack_spec(plans, backend), progress)
        error = None
    except Exception as e:  # a failing stack is data: record it and let the others go on
        results, error = None, f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=5)}"
    finished = datetime.now(UTC)
    runs = [describe(p, status=results[i].status if results else "failed", started=started,
                     result=results[i] if results else None, error=error, finished=finished,
                     digest=digests.get(json.dumps(p.arm["data"], sort_keys=True)),
                     backend=backend)
            for i, p in enumerate(plans)]
    if backend != NUMPY.name:  # provenance: the library and device that computed them
        where = by_name(backend).describe()
        for run in runs:
            run.extras["backend"] = where
    return runs


def _outcome(future: Future[list[NewRun]], group: list[RunPlan], started: datetime,
             backend: str = "numpy") -> list[NewRun]:
    """A finished future's runs; a worker-side failure (not the training's) marks the stack failed."""
    try:
        return future.result()
    except BrokenProcessPool:
        raise WorkerLost("a worker process stopped unexpectedly (out of memory or killed?): "
                         "finished runs are stored; run the same command again for the rest") from None
    except Exception as e:  # e.g. a Dask worker lost mid-task, or a result that failed to unpickle
        error = f"{type(e).__name__}: {e}"
        return [describe(p, status="failed", started=started, error=error, finished=datetime.now(UTC),
                         backend=backend) for p in group]


def execute(store: Store, exps: list[Experiment], todo: list[RunPlan], *, force: bool = False,
            executor: Executor | None = None, workers: int = 1,
            on_stack: Callable[[int], None] | None = None, backend: str = "numpy") -> RunSummary:
    """Train `todo` on `executor` (inline by default), at most `workers` stacks at a time, storing each stack.

    A stack is marked `running` when sent to a worker and saved with its metrics in one transaction
    when it comes back; on Ctrl-C or any error the stacks in flight are marked `interrupted`.
    """
    summary = RunSummary(planned=len(todo))
    for e in exps:
        store.upsert_experiment(e.name, e.description, _keep_design(store, e))
    executor = executor or InlineExecutor()
    queue: Iterator[list[RunPlan]] = iter(stacks(todo, workers, cut=backend == NUMPY.name, merge=backend != NUMPY.name))
    in_flight: dict[Future[list[NewRun]], tuple[list[RunPlan], datetime]] = {}
    marked: dict[int, list[NewRun]] = {}  # id(group) → its `running` rows, until saved
    inline = isinstance(executor, InlineExecutor)  # submit trains at once: store first, then go on

    def hand_out() -> None:
        while len(in_flight) < max(1, workers) and (group := next(queue, None)) is not None:
            started = datetime.now(UTC)
            markers = [describe(p, status="running", started=started, backend=backend) for p in group]
            if not inline:  # a worker starts at once; its rows are marked while it begins
                in_flight[executor.submit(run_stack, group, None, backend)] = (group, started)
            marked[id(group)] = markers  # first: a Ctrl-C during the marking still finds them
            store.mark_running(markers)
            if inline:
                in_flight[executor.submit(run_stack, group, None, backend)] = (group, started)

    try:
        while True:
            hand_out()
            if not in_flight:
                return summary
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            finished = [(future, *in_flight.pop(future)) for future in done]
            if not inline:
                hand_out()  # free workers get their next stack before the parent spends time storing
            for future, group, started in finished:
                runs = _outcome(future, group, started, backend)
                store.save_runs(runs, replace=force, skip_done=not force)
                del marked[id(group)]
                _tally(summary, runs)
                if on_stack:
                    on_stack(len(group))
    except BaseException:
        for future in in_flight:
            future.cancel()
        with suppress(LossdbError):  # the database itself may be what failed
            store.mark_interrupted([run for batch in marked.values() for run in batch])
        raise


def _tally(summary: RunSummary, runs: list[NewRun]) -> None:
    """Count a stored stack's runs by status and keep each distinct error's first line."""
    for r in runs:
        setattr(summary, r.status, getattr(summary, r.status) + 1)
        if r.error and r.error.splitlines()[0] not in summary.errors:
            summary.errors.append(r.error.splitlines()[0])


def _definition(spec: dict[str, Any]) -> dict[str, Any]:
    """A spec without what may change while the experiment stays the same: its sequential design
    (core.judging.adaptive: seeds added later) and its origin (a file moved or run from elsewhere)."""
    return {k: v for k, v in spec.items() if k not in (DESIGN_KEY, ex.ORIGIN_KEY)}


def _keep_design(store: Store, e: Experiment) -> dict[str, Any]:
    """The spec to store: a sequential design stored earlier is kept, since the stored runs were
    judged look by look under it (a plain `lossdb run` does not undo `--until-decided`)."""
    spec = e.spec
    if DESIGN_KEY in spec:
        return spec
    old = store.experiment_spec(e.name) or {}
    return {**spec, DESIGN_KEY: old[DESIGN_KEY]} if DESIGN_KEY in old else spec

