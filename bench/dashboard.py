"""Dashboard benchmark: a synthetic database of 5,000 runs × 200 epochs × 12 metrics (12 M metric
rows); the Summary page and the Convergence chart of the largest experiment timed with AppTest, cold
(empty Streamlit caches; the verdicts computed, and read from core.cache as `lossdb run`
leaves them) and warm, and once in headless Chromium (verdict cache filled).

Run: python -m bench.dashboard [--db PATH] [--runs N] [--epochs N] [--no-browser]
The database is built once (a few minutes) and reused when it already holds the runs asked for.
Prints figures; asserts nothing. Targets: under 1 s warm and under 3 s cold for each.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

import lossdb.core as core
from lossdb.core.experiments.spec import arm_hash
from lossdb.core.store import NewRun, open_store

METRICS = ("train_loss", "val_loss", "test_loss", "train_accuracy", "val_accuracy", "test_accuracy",
           "val_nll", "test_nll", "test_brier", "test_ece", "grad_norm", "saturation")
ARMS = (("ce", "softmax"), ("mse", "softmax"), ("mse", "sigmoid"), ("mse", "linear"))
# experiment: (share of the runs, learning rates, the setting that varies between conditions)
EXPERIMENTS = {
    "convergence": (0.48, (0.1, 0.5, 2.0), ("init", ("glorot", "normal"))),
    "calibration": (0.24, (0.5,), ("dataset", ("digits", "wine"))),
    "label-noise": (0.18, (0.5,), ("label_noise", (0.0, 0.2, 0.4))),
    "margin": (0.10, (0.1, 0.5), ("dataset", ("digits",))),
}
APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
BATCH = 100


def synthetic_runs(experiment: str, n_runs: int, epochs: int, rng: np.random.Generator) -> list[NewRun]:
    """`n_runs` runs of one experiment: every arm × lr × condition, seeds filling the rest."""
    _, lrs, (key, values) = EXPERIMENTS[experiment]
    cells = [(arm, lr, v) for arm in ARMS for lr in lrs for v in values]
    seeds = max(1, n_runs // len(cells))
    now = datetime.now(UTC)
    t = np.arange(epochs + 1, dtype=np.float64)
    runs = []
    for (loss, head), lr, value in cells:
        speed = (8.0 if loss == "ce" else 25.0) / (1 + lr)
        data = {"dataset": value if key == "dataset" else "digits", "test_size": 0.2, "val_size": 0.2}
        if key == "label_noise":
            data["label_noise"] = value
        model = {"hidden": [30], "activation": "sigmoid", "init": value if key == "init" else "glorot"}
        train = {"optimizer": "sgd", "lr": lr, "batch_size": 10, "epochs": epochs}
        arm = {"experiment": experiment, "loss": loss, "head": head, "data": data, "model": model,
               "train": train}
        for seed in range(seeds):
            decay = np.exp(-t / (speed * rng.uniform(0.8, 1.2)))
            noise = rng.normal(0, 0.01, size=(len(METRICS), t.size))
            acc = np.clip(0.97 - 0.87 * decay + noise[3], 0, 1)
            series = {name: np.abs(2.3 * decay + 0.05 + noise[i]) for i, name in enumerate(METRICS)}
            series.update(train_accuracy=acc, val_accuracy=acc - 0.01, test_accuracy=acc - 0.02,
                          test_ece=np.abs(0.05 + 0.3 * decay + noise[9]),
                          saturation=np.clip(0.2 + 0.5 * decay + noise[11], 0, 1))
            config = {**arm, "label": f"{loss}/{head}", "seed": seed}
            runs.append(NewRun(
                experiment=experiment, arm_hash=arm_hash(arm), seed=seed, engine_version=core.ENGINE_VERSION,
                config=config, loss=loss, head=head, dataset=data["dataset"], lr=lr, status="finished",
                error=None, diverged_epoch=None, epochs=epochs, started_at=now, finished_at=now,
                wall_seconds=0.5, lossdb_version=core.__version__, numpy_version=np.__version__,
                python_version=sys.version.split()[0], git_commit=None, metrics=series))
    return runs


def build(db: Path, n_runs: int, epochs: int) -> None:
    """Fill `db` with about `n_runs` synthetic runs (reused when it already holds them)."""
    store = open_store(str(db))
    try:
        have = store.counts()["runs"]
        if have >= n_runs * 0.95:
            print(f"reusing {db}: {have} runs, {store.counts()['metric_rows']:,} metric rows")
            return
        rng = np.random.default_rng(0)
        start = time.perf_counter()
        for name, (share, _, _) in EXPERIMENTS.items():
            store.upsert_experiment(name, f"synthetic {name} runs for the dashboard benchmark", {})
            runs = synthetic_runs(name, int(n_runs * share), epochs, rng)
            for i in range(0, len(runs), BATCH):
                store.save_runs(runs[i:i + BATCH], replace=True)
            print(f"  {name}: {len(runs)} runs stored ({time.perf_counter() - start:.0f} s)", flush=True)
        c = store.counts()
        print(f"built {db}: {c['runs']} runs, {c['metric_rows']:,} metric rows in {time.perf_counter() - start:.0f} s")
    finally:
        store.close()


def apptest_timings(db: Path) -> dict[str, float]:
    """Seconds for the Summary page and the Convergence chart, cold (empty caches) and warm."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["LOSSDB_DB"] = str(db)
    out: dict[str, float] = {}

    def timed(at: AppTest) -> float:
        start = time.perf_counter()
        at.run(timeout=600)
        assert not at.exception, at.exception
        return time.perf_counter() - start

    cache = Path(tempfile.mkdtemp(prefix="lossdb-bench-cache-"))
    os.environ["LOSSDB_CACHE_DIR"] = ""  # verdicts computed: nothing kept on disk
    warmup = AppTest.from_file(str(APP), default_timeout=600)
    out["first run in a new process (imports included), verdicts computed"] = timed(warmup)
    st.cache_data.clear()
    st.cache_resource.clear()
    out["summary cold, verdicts computed"] = timed(AppTest.from_file(str(APP), default_timeout=600))
    os.environ["LOSSDB_CACHE_DIR"] = str(cache)  # verdicts kept (what `lossdb run` leaves behind)
    st.cache_data.clear()
    st.cache_resource.clear()
    fill = AppTest.from_file(str(APP), default_timeout=600)  # fills the cache, as `lossdb run` does; not counted
    timed(fill)
    fill.switch_page("app_pages/convergence.py")
    timed(fill)
    for page in ("summary", "convergence"):
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(str(APP), default_timeout=600)
        if page == "summary":
            out["summary cold, verdicts cached"] = timed(at)
        else:
            at.run(timeout=600)
            st.cache_data.clear()
            st.cache_resource.clear()
            at.switch_page("app_pages/convergence.py")
            out["convergence cold"] = timed(at)
        out[f"{page} warm"] = min(timed(at) for _ in range(3))
    return out


def browser_timings(db: Path) -> dict[str, float]:
    """Seconds until the Summary table and a rendered chart show in Chromium, then Convergence's chart."""
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([str(Path(sys.executable).parent / "lossdb"), "dashboard", "--db", str(db), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              cwd=Path(__file__).resolve().parents[1])
    out: dict[str, float] = {}
    try:
        wait_for(port)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
            page = browser.new_page(viewport={"width": 1500, "height": 1400})
            start = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("[data-testid='stDataFrame']", timeout=600_000)
            out["browser summary table visible (page load)"] = time.perf_counter() - start
            page.wait_for_selector(CHART, timeout=600_000)
            out["browser summary with its chart (page load)"] = time.perf_counter() - start
            for label, link in (("browser convergence cold (sidebar click)", "Convergence"),
                                ("browser summary warm (sidebar click)", "Summary"),
                                ("browser convergence warm (sidebar click)", "Convergence")):
                out[label] = click_and_wait(page, link)
            start = time.perf_counter()  # a second visit: the server has imported everything once
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("[data-testid='stDataFrame']", timeout=600_000)
            out["browser summary table visible (navigation, server warm)"] = time.perf_counter() - start
            page.wait_for_selector(".vega-embed svg, .vega-embed canvas", timeout=600_000)
            time.sleep(2)
            shot = Path("test-artifacts") / "bench-summary.png"
            shot.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot: {shot}")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return out


CHART = ".vega-embed svg, .vega-embed canvas"
WATCH = """() => { const app = document.querySelector("[data-testid='stApp']"); window.__runs = 0;
  new MutationObserver(() => { if (app.getAttribute("data-test-script-state") === "notRunning")
  window.__runs++; }).observe(app, {attributes: true}); }"""


def click_and_wait(page, link: str) -> float:
    """Seconds from clicking a sidebar link until its page's script finished and a chart shows."""
    page.evaluate(WATCH)
    start = time.perf_counter()
    page.get_by_role("link", name=link).click()
    page.wait_for_function("window.__runs > 0", timeout=600_000)
    page.wait_for_selector(CHART, timeout=600_000)
    return time.perf_counter() - start


def wait_for(port: int, timeout: float = 60.0) -> None:
    """Block until Streamlit answers its health check on `port`."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def main() -> None:
    """Build (or reuse) the synthetic database and print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/lossdb-bench-dashboard.db"))
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    build(args.db, args.runs, args.epochs)
    figures = apptest_timings(args.db)
    if not args.no_browser:
        figures |= browser_timings(args.db)
    print(f"\n{'measurement':<48} seconds   (targets: warm < 1 s, cold < 3 s)")
    for name, seconds in figures.items():
        print(f"{name:<48} {seconds:7.2f}")


if __name__ == "__main__":
    main()
