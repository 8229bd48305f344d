"""Report benchmark: time to produce each format for a database the size of the full preset.

The database is SYNTHETIC (made here, not trained): every experiment the claims name, each with
the arms its claims compare, up to three conditions, three learning rates, 10 seeds and 30 epochs
of smooth noisy curves, stored through the real store. The numbers are not science; the sizes are.

Run: python -m bench.report [--db PATH] [--keep DIR]. Prints seconds per step; asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from lossdb.core import report as reports
from lossdb.core.judging.claims import CLAIMS
from lossdb.core.experiments.spec import arm_hash
from lossdb.core.report import figures
from lossdb.core.store import NewRun, open_store

SEEDS, EPOCHS, LRS = 10, 30, (0.1, 0.5, 2.0)
CONDITIONS = {"label-noise": ("label_noise", (0.0, 0.2, 0.4)), "outliers": ("outliers", (0.0, 0.1, 0.3)),
              "imbalance": ("imbalance", (10, 50)), "calibration": ("dataset", ("digits", "wine")),
              "binary": ("dataset", ("breast_cancer", "moons"))}
CLASSIFICATION = ("train_accuracy", "test_accuracy", "val_accuracy", "test_balanced_accuracy", "test_macro_f1",
                  "test_minority_recall", "test_ece", "test_brier", "test_nll", "test_true_class_prob",
                  "test_confident_wrong_loss", "test_confident_wrong_grad", "train_loss", "grad_norm", "output")
REGRESSION = ("train_loss", "test_rmse", "val_rmse", "test_mae")


def arms_of(experiment: str) -> list[str]:
    """Every arm ("loss/head") the claims compare in `experiment`."""
    out: list[str] = []
    for claim in CLAIMS.values():
        for t in claim.tests:
            if t.experiment == experiment and t.measure.kind != "analytic":
                out += [f"{a.loss}/{a.head}" for a in (*t.favoured, *t.others)]
    return list(dict.fromkeys(out))


def curve(rng: np.random.Generator, rising: bool, speed: float) -> np.ndarray:
    """A smooth noisy learning curve of EPOCHS + 1 values in (0, 1)."""
    t = np.arange(EPOCHS + 1)
    base = 1 - np.exp(-speed * t) * 0.9
    values = np.clip(base + rng.normal(0, 0.01, t.size), 0.001, 0.999)
    return values if rising else 1 - values


def synthetic_db(url: str) -> int:
    """Fill `url` with the synthetic full-preset-sized database; returns the number of runs."""
    store = open_store(url)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    total = 0
    for experiment in dict.fromkeys(e for c in CLAIMS.values() for e in c.experiments):
        arms = arms_of(experiment)
        if not arms:
            continue
        store.upsert_experiment(experiment, f"Synthetic {experiment} for the report benchmark.", {})
        key, values = CONDITIONS.get(experiment, ("init", ("glorot",)))
        regression = experiment in ("regression", "outliers")
        batch = []
        for ai, arm in enumerate(arms):
            loss, head = arm.split("/")
            for value in values:
                for lr in LRS:
                    cfg = {"data": {"dataset": value if key == "dataset" else "digits",
                                    **({key: value} if key != "dataset" else {})},
                           "model": {"hidden": [30], "activation": "sigmoid", "init": "glorot"},
                           "train": {"optimizer": "sgd", "lr": lr, "batch_size": 10, "epochs": EPOCHS},
                           "loss": loss, "head": head, "label": arm, "experiment": experiment}
                    for seed in range(SEEDS):
                        rng = np.random.default_rng([ai, int(lr * 10), seed, len(batch)])
                        names = REGRESSION if regression else CLASSIFICATION
                        metrics = {m: curve(rng, m.endswith(("accuracy", "f1", "recall", "prob")), 0.2 + 0.1 * ai)
                                   for m in names}
                        at = start + timedelta(minutes=total)
                        batch.append(NewRun(experiment, arm_hash(cfg),
                                            seed, "bench", {**cfg, "seed": seed}, loss, head, "digits", lr,
                                            "finished", None, None, EPOCHS, at, at + timedelta(seconds=2), 2.0,
                                            "0.1.0", np.__version__, "3.11", None, metrics))
                        total += 1
        for i in range(0, len(batch), 200):
            store.save_runs(batch[i:i + 200])
    store.close()
    return total


def main() -> None:
    """Build (or reuse) the database and time each format."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", help="reuse this database instead of making a synthetic one")
    parser.add_argument("--keep", type=Path, help="write the reports into this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = args.keep or Path(tmp)
        url = args.db or f"sqlite:///{Path(tmp) / 'full.db'}"
        if not args.db:
            t = time.perf_counter()
            n = synthetic_db(url)
            print(f"synthetic database: {n} runs in {time.perf_counter() - t:.1f} s")
        store = open_store(url, create=False, read_only=True)
        t = time.perf_counter()
        data = reports.build(store, command="lossdb report")
        store.close()
        build_s = time.perf_counter() - t
        t = time.perf_counter()
        svgs = figures.svgs(data.charts)
        svg_s = time.perf_counter() - t
        print(f"build (verdicts, aggregates, charts' specs): {build_s:.2f} s; {len(data.charts)} charts "
              f"to SVG: {svg_s:.2f} s")
        for fmt in reports.FORMATS:
            t = time.perf_counter()
            produced = reports.files(data, fmt, "report", svgs=svgs if fmt != "json" else None)
            for rel, content in produced.items():
                (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                (out_dir / rel).write_bytes(content)
            own = time.perf_counter() - t
            total = build_s + own + (svg_s if fmt != "json" else 0)
            print(f"{fmt:5s} render {own:5.2f} s; end to end (build + SVG + render) {total:5.2f} s; "
                  f"{sum(len(c) for c in produced.values()) / 1e6:.2f} MB")
        if args.keep:
            print(f"reports written to {out_dir}")


if __name__ == "__main__":
    main()
