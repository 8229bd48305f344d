"""Plan runs, skip finished ones, train them stack by stack and store each stack's runs."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import core
from core import experiments as ex
from core.experiments import Experiment, RunPlan
from core.provenance import versions
from core.store import NewRun, Store
from core.train import ModelSpec, RunResult, StackSpec, train_stack


@dataclass
class RunSummary:
    """What one `lossdb run` did."""

    planned: int = 0
    skipped: int = 0
    finished: int = 0
    diverged: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def plan(exps: Iterable[Experiment], preset: str = "quick", seeds: int | None = None,
         epochs: int | None = None) -> list[RunPlan]:
    """Every run of the given experiments under a preset and overrides."""
    return [p for e in exps for p in ex.expand(e, preset, seeds, epochs)]


def stacks(plans: list[RunPlan]) -> list[list[RunPlan]]:
    """Group runs that can train as one stack (same data, shape and schedule), in a stable order."""
    groups: dict[tuple[str, str], list[RunPlan]] = {}
    for p in plans:
        groups.setdefault((p.experiment, p.stack_key), []).append(p)
    return list(groups.values())


def stack_spec(plans: list[RunPlan]) -> StackSpec:
    """The engine's description of one stack of runs."""
    arm = plans[0].arm
    t = arm["train"]
    models = tuple(
        ModelSpec(loss=p.arm["loss"], head=p.arm["head"], lr=float(p.arm["train"]["lr"]), seed=p.seed,
                  loss_params=tuple(sorted((k, _hashable(p.arm[k])) for k in ex.LOSS_PARAM_KEYS if k in p.arm)),
                  class_weights=_hashable(p.arm.get("class_weights")))
        for p in plans)
    return StackSpec(data=ex.data_spec(arm), net=ex.net_spec(arm), optim=ex.optim_spec(arm),
                     epochs=int(t["epochs"]), batch_size=None if t["batch_size"] == "full" else int(t["batch_size"]),
                     models=models, dtype=t["dtype"])


def _hashable(v):
    return tuple(v) if isinstance(v, list) else v


def pending(store: Store, plans: list[RunPlan], force: bool = False) -> list[RunPlan]:
    """The runs not yet stored as finished or diverged for this engine version (all of them with force)."""
    if force:
        return list(plans)
    done: dict[str, set] = {}
    out = []
    for p in plans:
        if p.experiment not in done:
            done[p.experiment] = store.finished_keys(p.experiment, core.ENGINE_VERSION)
        if (p.arm_hash, p.seed) not in done[p.experiment]:
            out.append(p)
    return out


def run_stack(plans: list[RunPlan], progress: Callable[[int, int], None] | None = None) -> list[NewRun]:
    """Train one stack and describe its runs for the store; an exception marks every run failed."""
    started = datetime.now(UTC)
    try:
        results = train_stack(stack_spec(plans), progress)
        error = None
    except Exception as e:  # a failing stack is data: record it and let the others go on
        results, error = None, f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=5)}"
    finished = datetime.now(UTC)
    prov = versions()
    out = []
    for i, p in enumerate(plans):
        r: RunResult | None = results[i] if results else None
        out.append(NewRun(
            experiment=p.experiment, arm_hash=p.arm_hash, seed=p.seed, engine_version=core.ENGINE_VERSION,
            config={**p.arm, "seed": p.seed}, loss=p.arm["loss"], head=p.arm["head"],
            dataset=p.arm["data"]["dataset"], lr=float(p.arm["train"]["lr"]),
            status=r.status if r else "failed", error=error, diverged_epoch=r.diverged_epoch if r else None,
            epochs=r.epochs if r else 0, started_at=started, finished_at=finished,
            wall_seconds=r.wall_seconds if r else (finished - started).total_seconds(),
            metrics=r.metrics if r else {}, **prov))
    return out


def execute(store: Store, exps: list[Experiment], todo: list[RunPlan], *, force: bool = False,
            on_stack: Callable[[int], None] | None = None,
            progress: Callable[[int, int], None] | None = None) -> RunSummary:
    """Train and store the given runs stack by stack; each stack is saved in one transaction."""
    summary = RunSummary(planned=len(todo))
    for e in exps:
        store.upsert_experiment(e.name, e.description, e.raw)
    for group in stacks(todo):
        runs = run_stack(group, progress)
        store.save_runs(runs, replace=True)
        for r in runs:
            setattr(summary, r.status, getattr(summary, r.status) + 1)
            if r.error and r.error not in summary.errors:
                summary.errors.append(r.error.splitlines()[0])
        if on_stack:
            on_stack(len(group))
    return summary
