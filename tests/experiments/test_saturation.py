"""The `saturation` experiment reproduces the neuron of Nielsen's chapter 3 exactly, epoch by epoch.

The book: a = σ(w·1 + b), target 0, quadratic cost C = (a − y)²/2 or cross-entropy, gradient
descent at learning rate 0.15. The trajectories below are computed by hand in float64, independently
of lossdb's losses, heads and optimiser, and compared with what `lossdb run saturation` stored.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from typer.testing import CliRunner

from lossdb.cli import main as cli_main
from lossdb.core.store import open_store

BOOK_LR = 0.15
EPOCHS = 300
STARTS = [(0.6, 0.9), (2.0, 2.0)]


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def book_neuron(w: float, b: float, cost: str) -> dict[str, np.ndarray]:
    """Nielsen's neuron by hand: outputs a and the book's ∂C/∂z for epochs 0..300 (0 = the start)."""
    x, y = 1.0, 0.0
    outputs, grads = [], []
    for _ in range(EPOCHS + 1):
        a = _sigmoid(w * x + b)
        dc_dz = (a - y) * a * (1 - a) if cost == "quadratic" else a - y  # C = (a−y)²/2, or CE
        outputs.append(a)
        grads.append(dc_dz)
        w -= BOOK_LR * dc_dz * x
        b -= BOOK_LR * dc_dz
    return {"output": np.array(outputs), "dc_dz": np.array(grads)}


@pytest.fixture(scope="module")
def saturation_curves(tmp_path_factory) -> dict[tuple[str, float, float], dict[str, np.ndarray]]:
    """The stored per-epoch metrics of a real `lossdb run saturation`, by (loss, w, b)."""
    db = tmp_path_factory.mktemp("saturation") / "lossdb.db"
    result = CliRunner().invoke(cli_main.app, ["run", "saturation", "--preset", "full", "--db", str(db)])
    assert result.exit_code == 0, result.output
    with open_store(str(db)) as store:
        runs = store.list_runs(experiment="saturation")
        frame = store.metrics_frame([r.id for r in runs])
    out = {}
    for r in runs:
        m = r.config["model"]
        mine = frame[frame["run_id"] == r.id]
        out[(r.loss, m["w"], m["b"])] = {name: g.sort_values("epoch")["value"].to_numpy()
                                         for name, g in mine.groupby("name")}
    return out


@pytest.mark.parametrize("w, b", STARTS, ids=["w0.6-b0.9", "w2-b2"])
def test_mse_at_half_the_rate_follows_the_books_quadratic_cost_epoch_by_epoch(saturation_curves, w, b):
    stored = saturation_curves[("mse", w, b)]["output"]
    np.testing.assert_allclose(stored, book_neuron(w, b, "quadratic")["output"], rtol=1e-10, atol=0)


@pytest.mark.parametrize("w, b", STARTS, ids=["w0.6-b0.9", "w2-b2"])
def test_cross_entropy_follows_the_books_trajectory_epoch_by_epoch(saturation_curves, w, b):
    stored = saturation_curves[("ce", w, b)]["output"]
    np.testing.assert_allclose(stored, book_neuron(w, b, "cross-entropy")["output"], rtol=1e-10, atol=0)


@pytest.mark.parametrize("w, b", STARTS, ids=["w0.6-b0.9", "w2-b2"])
def test_stored_mse_gradient_is_twice_the_books_quadratic_cost_gradient(saturation_curves, w, b):
    stored = saturation_curves[("mse", w, b)]["dloss_dz"]
    np.testing.assert_allclose(stored, 2 * book_neuron(w, b, "quadratic")["dc_dz"], rtol=1e-10, atol=0)


@pytest.mark.parametrize("w, b", STARTS, ids=["w0.6-b0.9", "w2-b2"])
def test_stored_cross_entropy_gradient_is_the_books_a_minus_y(saturation_curves, w, b):
    stored = saturation_curves[("ce", w, b)]["dloss_dz"]
    np.testing.assert_allclose(stored, book_neuron(w, b, "cross-entropy")["dc_dz"], rtol=1e-10, atol=0)


def test_saturated_quadratic_neuron_barely_moves_for_100_epochs_while_cross_entropy_drops(saturation_curves):
    quadratic = saturation_curves[("mse", 2.0, 2.0)]["output"]
    ce = saturation_curves[("ce", 2.0, 2.0)]["output"]
    assert quadratic[0] == pytest.approx(0.982, abs=1e-3)
    assert quadratic[:101].min() > 0.96  # the book: "learning starts much more slowly"
    assert ce[30] < 0.5 and ce[100] < 0.05
