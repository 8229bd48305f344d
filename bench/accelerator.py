"""Accelerator and many-core benchmark of issue 26: seeds are cheap.

Run on the GPU machine (16 cores, one GPU, ~8 minutes):
    python -m bench.accelerator --out accelerator.json
Try it anywhere first, tiny and on the CPU (the same code paths, numpy and array-api-strict):
    python -m bench.accelerator --smoke --device cpu --out /tmp/acc.json

Steps (`--only a,b`; each has its own time budget and is killed past it, the others go on):
  sweep      the reference sweep (digits, 64-64-10, batch 32, 50 epochs; 3 arms, seeds × learning
             rates) at 15, 1,500 and 15,000 runs on each GPU library: runs/s (numpy at 15 for scale)
  cpu-full   `lossdb run --preset full --jobs 16` on the CPU: wall time and parallel efficiency
             against Σ(stack times)/16 (the stacks' own training seconds as the runs record them)
  gpu-full   the full preset with --device cuda (then its compare --format json is kept)
  verdicts   every headline verdict of the GPU full preset equals the numpy one
  gpu-until  `--until-decided --max-seeds 50` after gpu-full
  csv-cpu    a 100,000-row × 20-feature, 4-class CSV, the quick preset on 16 processes
  csv-gpu    the same on the GPU
Figures go to the JSON file given by --out (written after every step), and a summary to stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

STEPS = ("sweep", "cpu-full", "gpu-full", "verdicts", "gpu-until", "csv-cpu", "csv-gpu")
# The most each step may take (s); typical runs take far less. Together at most ~9 minutes.
BUDGET_S = {"sweep": 90, "cpu-full": 100, "gpu-full": 90, "verdicts": 30, "gpu-until": 60, "csv-cpu": 120,
            "csv-gpu": 60}
SIZES = (15, 1_500, 15_000)
SMOKE_SIZES = (3, 12)
ARMS = (("ce", "softmax"), ("mse", "softmax"), ("mse", "linear"))
CLI = [sys.executable, "-c", "from lossdb.cli.main import main; main()"]


def sweep_spec(n_runs: int, epochs: int = 50):
    """The reference sweep widened to n_runs: 3 arms × seeds × learning rates around 0.5 (at most
    50 seeds, so the data is prepared 50 times, not thousands)."""
    import numpy as np
    from lossdb.core.data.prepare import DataSpec
    from lossdb.core.engine.nets import NetSpec
    from lossdb.core.engine.optim import OptimSpec
    from lossdb.core.engine.train import ModelSpec, StackSpec

    per_arm = max(1, math.ceil(n_runs / len(ARMS)))
    seeds = min(per_arm, 5 if per_arm <= 5 else 50)
    rates = math.ceil(per_arm / seeds)
    lrs = [0.5] if rates == 1 else [float(x) for x in np.geomspace(0.1, 2.0, rates)]
    models = [ModelSpec(loss, head, lr, seed) for loss, head in ARMS for seed in range(seeds) for lr in lrs]
    return StackSpec(DataSpec("digits", test_size=0.2), NetSpec(0, 0, hidden=(64,), activation="sigmoid"),
                     OptimSpec("sgd"), epochs, 32, tuple(models[:n_runs] if len(models) > n_runs else models))


def sweep_one(n_runs: int, backend: str, epochs: int) -> dict[str, Any]:
    """Train one widened reference sweep on `backend`; its time and runs per second (in this process)."""
    from dataclasses import replace

    import numpy as np
    from lossdb.core.engine.train import train_stack

    spec = replace(sweep_spec(n_runs, epochs), backend=backend)
    train_stack(replace(spec, models=spec.models[:3], epochs=1))  # warm-up: imports, data cache, device context
    start = time.perf_counter()
    results = train_stack(spec)
    wall = time.perf_counter() - start
    acc = float(np.mean([r.metrics["test_accuracy"][-1] for r in results if r.status == "finished"]))
    out = {"runs": len(spec.models), "backend": backend, "epochs": epochs, "seconds": round(wall, 3),
           "runs_per_s": round(len(spec.models) / wall, 1), "mean_test_accuracy": round(acc, 4),
           "diverged": sum(r.status == "diverged" for r in results)}
    if backend == "torch-cuda":
        import torch

        out["gpu_peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        out["gpu"] = torch.cuda.get_device_name(0)
    return out


class Bench:
    """The steps, their budgets and the figures gathered so far."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.out: dict[str, Any] = {"smoke": args.smoke, "device": args.device, "steps": {}}
        self.work = Path(args.work or tempfile.mkdtemp(prefix="lossdb-acc-"))
        self.work.mkdir(parents=True, exist_ok=True)
        self.budget_scale = args.budget_scale

    def save(self) -> None:
        Path(self.args.out).write_text(json.dumps(self.out, indent=1) + "\n")

    def run(self, cmd: list[str], budget: float, env: dict[str, str] | None = None) -> dict[str, Any]:
        """A command with a time limit: its wall time, exit status and last lines."""
        start = time.perf_counter()
        full_env = {**os.environ, "LOSSDB_CACHE_DIR": "", **(env or {})}
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=budget, env=full_env)
            rc, tail = p.returncode, (p.stdout + p.stderr)[-1500:]
        except subprocess.TimeoutExpired as e:
            rc, tail = "timeout", ((e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes)
                                   else (e.stdout or ""))[-800:]
        return {"cmd": " ".join(cmd[3:] if cmd[:3] == CLI else cmd), "rc": rc,
                "seconds": round(time.perf_counter() - start, 2), "tail": tail}

    def budget(self, step: str) -> float:
        return BUDGET_S[step] * self.budget_scale

    def lossdb(self, *args: str) -> list[str]:
        return [*CLI, *args]

    # -- steps ---------------------------------------------------------------------------------------
    def sweep(self) -> dict[str, Any]:
        sizes = SMOKE_SIZES if self.args.smoke else SIZES
        epochs = 2 if self.args.smoke else 50
        backends = self.args.backends.split(",")
        rows, deadline = [], time.perf_counter() + self.budget("sweep")
        # numpy at the smallest size for scale; the first GPU library at every size, the others at the
        # middle one (enough to choose between them; CuPy compiles its kernels on first use)
        plan = [(sizes[0], "numpy")] + [(n, b) for i, b in enumerate(backends) if b != "numpy"
                                        for n in (sizes if i == 0 else sizes[1:2])]
        for n, backend in plan:
            left = deadline - time.perf_counter()
            if left < 5:
                rows.append({"runs": n, "backend": backend, "skipped": "time budget spent"})
                continue
            r = self.run([sys.executable, "-m", "bench.accelerator", "--sweep-one", str(n), backend, str(epochs)], left)
            if r["rc"] == 0:
                rows.append(json.loads(r["tail"].strip().splitlines()[-1]))
            else:
                rows.append({"runs": n, "backend": backend, "failed": r["rc"], "seconds": r["seconds"],
                             "tail": r["tail"][-600:]})
            print(f"  sweep {backend} {n}: {rows[-1]}", flush=True)
        return {"rows": rows, "peer_stacked_pytorch_h200_runs_per_s": {"1500": 400, "15000": 2627}}

    def _full(self, db: Path, device: str, jobs: int, extra: tuple[str, ...] = ()) -> list[str]:
        preset = ("--preset", "quick", "--epochs", "2", "--seeds", "2") if self.args.smoke else ("--preset", "full")
        exps = ("saturation", "margin") if self.args.smoke else ()
        return self.lossdb("run", *exps, *preset, "--jobs", str(jobs), "--device", device, "--db", str(db), *extra)

    def cpu_full(self) -> dict[str, Any]:
        db = self.work / "cpu.db"
        db.unlink(missing_ok=True)
        jobs = self.args.jobs
        r = self.run(self._full(db, "cpu", jobs), self.budget("cpu-full"))
        r.update(_efficiency(db, jobs, r["seconds"]))
        if r["rc"] == 0:
            r["compare"] = self._compare(db, "cpu")
        return r

    def gpu_full(self) -> dict[str, Any]:
        db = self.work / "gpu.db"
        db.unlink(missing_ok=True)
        r = self.run(self._full(db, self.args.device, self.args.gpu_jobs), self.budget("gpu-full"))
        r.update(_efficiency(db, self.args.gpu_jobs, r["seconds"]))
        if r["rc"] == 0:
            r["compare"] = self._compare(db, "gpu")
        return r

    def _compare(self, db: Path, name: str) -> dict[str, Any]:
        out = self.work / f"compare-{name}.json"
        start = time.perf_counter()
        p = subprocess.run(self.lossdb("compare", "--format", "json", "--db", str(db)), capture_output=True,
                           text=True, timeout=120, env={**os.environ, "LOSSDB_CACHE_DIR": ""})
        out.write_text(p.stdout)
        return {"rc": p.returncode, "seconds": round(time.perf_counter() - start, 2), "path": str(out)}

    def verdicts(self) -> dict[str, Any]:
        paths = [self.work / f"compare-{n}.json" for n in ("cpu", "gpu")]
        if not all(p.exists() and p.stat().st_size for p in paths):
            return {"skipped": "needs cpu-full and gpu-full first"}
        cpu, gpu = (_headlines(json.loads(p.read_text())) for p in paths)
        differ = sorted(k for k in cpu.keys() | gpu.keys() if cpu.get(k) != gpu.get(k))
        return {"headlines": len(cpu), "equal": not differ,
                "differ": [{"row": k, "numpy": cpu.get(k), "gpu": gpu.get(k)} for k in differ[:20]]}

    def gpu_until(self) -> dict[str, Any]:
        db = self.work / "gpu.db"
        if not db.exists():
            return {"skipped": "needs gpu-full first"}
        before = _count(db)
        extra = ("--until-decided", "--max-seeds", "4" if self.args.smoke else "50")
        r = self.run(self._full(db, self.args.device, self.args.gpu_jobs, extra), self.budget("gpu-until"))
        r["runs_added"] = _count(db) - before
        return r

    def _csv(self) -> Path:
        path = self.work / "big.csv"
        rows = 2_000 if self.args.smoke else 100_000
        if not path.exists():
            import numpy as np

            rng = np.random.default_rng(26)
            X = rng.standard_normal((rows, 20))
            w = rng.standard_normal((20, 4))
            label = np.argmax(X @ w + rng.standard_normal((rows, 4)), axis=1)
            header = ",".join([f"f{i}" for i in range(20)] + ["label"])
            body = np.column_stack([X, label])
            np.savetxt(path, body, delimiter=",", header=header, comments="", fmt=["%.5f"] * 20 + ["%d"])
        return path

    def _csv_run(self, device: str, jobs: int, step: str) -> dict[str, Any]:
        csv = self._csv()
        db = self.work / f"{step}.db"
        db.unlink(missing_ok=True)
        extra = ("--epochs", "2", "--seeds", "2") if self.args.smoke else ()
        r = self.run(self.lossdb("run", "--dataset", f"csv:{csv}", "--target", "label", "--preset", "quick",
                                 "--jobs", str(jobs), "--device", device, "--db", str(db), *extra), self.budget(step))
        r["runs"] = _count(db)
        r["estimate_line"] = next((line for line in r["tail"].splitlines() if "planned" in line), None)
        return r

    def csv_cpu(self) -> dict[str, Any]:
        return self._csv_run("cpu", self.args.jobs, "csv-cpu")

    def csv_gpu(self) -> dict[str, Any]:
        return self._csv_run(self.args.device, self.args.gpu_jobs, "csv-gpu")


def _efficiency(db: Path, jobs: int, wall: float) -> dict[str, Any]:
    """Σ of the units' times (each stack from its worker starting it to its runs described, data
    preparation included, as its runs' started/finished record it), the ideal Σ/jobs, and the
    parallel efficiency ideal/wall; also Σ of the training loops alone."""
    if not db.exists():
        return {}
    from datetime import datetime

    with sqlite3.connect(db) as c:
        rows = c.execute("select started_at, finished_at, wall_seconds from runs "
                         "where status in ('finished', 'diverged')").fetchall()
    units = {(a, b) for a, b, _ in rows if a and b}
    total = sum((datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() for a, b in units)
    loops = sum(w or 0 for _, _, w in rows)
    return {"runs": len(rows), "units": len(units), "sum_unit_seconds": round(total, 2),
            "sum_training_loop_seconds": round(loops, 2), "ideal_seconds": round(total / jobs, 2),
            "parallel_efficiency": round(total / jobs / wall, 3) if wall else None}


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as c:
        return c.execute("select count(*) from runs").fetchone()[0]


def _headlines(rows: list[dict[str, Any]]) -> dict[str, str]:
    """(claim, experiment, condition, arms) → verdict of every headline row of a compare JSON."""
    return {f"{r['claim']} | {r['experiment']} | {r['condition']} | {' vs '.join(r['arms'])}": r["verdict"]
            for r in rows if r.get("headline")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="accelerator.json", help="where the JSON of figures goes")
    parser.add_argument("--only", default=",".join(STEPS), help=f"comma-separated steps of {', '.join(STEPS)}")
    parser.add_argument("--device", default="cuda", help="--device for the GPU steps (cpu to try them here)")
    parser.add_argument("--backends", default=None,
                        help="array backends the sweep measures [cuda: torch-cuda,cupy-cuda; cpu: array-api-strict]")
    parser.add_argument("--jobs", type=int, default=None, help="processes of the CPU steps [all cores]")
    parser.add_argument("--gpu-jobs", type=int, default=8,
                        help="processes feeding the GPU in the GPU steps (each launches its own stacks' kernels)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: a check that every step works")
    parser.add_argument("--budget-scale", type=float, default=1.0, help="multiply every step's time budget")
    parser.add_argument("--work", default=None, help="folder for databases and the CSV [a new temporary one]")
    parser.add_argument("--sweep-one", nargs=3, metavar=("RUNS", "BACKEND", "EPOCHS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sweep_one:
        n, backend, epochs = args.sweep_one
        print(json.dumps(sweep_one(int(n), backend, int(epochs))))
        return
    if args.jobs is None:
        args.jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if args.backends is None:
        args.backends = "torch-cuda,cupy-cuda" if args.device == "cuda" else "array-api-strict"
    bench = Bench(args)
    bench.out.update({"jobs": args.jobs, "gpu_jobs": args.gpu_jobs, "work": str(bench.work)})
    started = time.perf_counter()
    for step in args.only.split(","):
        if step not in STEPS:
            sys.exit(f"unknown step {step!r}; steps: {', '.join(STEPS)}")
        print(f"[{time.perf_counter() - started:6.1f} s] {step} (budget {bench.budget(step):.0f} s)", flush=True)
        t = time.perf_counter()
        try:
            result = getattr(bench, step.replace("-", "_"))()
        except Exception as e:  # a step that breaks is a figure too; the others go on
            result = {"error": f"{type(e).__name__}: {e}"}
        result["step_seconds"] = round(time.perf_counter() - t, 2)
        bench.out["steps"][step] = result
        bench.save()
        shown = {k: v for k, v in result.items() if k not in ("tail", "rows", "differ")}
        print(f"  → {json.dumps(shown)}", flush=True)
    bench.out["total_seconds"] = round(time.perf_counter() - started, 1)
    bench.save()
    print(f"done in {bench.out['total_seconds']} s → {args.out}")


if __name__ == "__main__":
    main()
