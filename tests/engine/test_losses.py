"""Losses: gradients against central differences, known values, stability, dtypes and refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import expit, log_expit, log_softmax

from lossdb.core.engine import losses
from lossdb.core.errors import LossdbError, LossError
from lossdb.core.engine.losses import LOSSES, VALID_HEADS, evaluate, true_class_curve

PAIRS = [(loss, head) for loss in LOSSES for head in VALID_HEADS[loss]]
PAIR_IDS = [f"{loss}-{head}" for loss, head in PAIRS]
# Every pair with class labels, plus every pair that takes float targets.
CASES = [(loss, head, "labels") for loss, head in PAIRS] + [
    (loss, head, "targets") for loss, head in PAIRS if LOSSES[loss].accepts_floats(head)
]
CASE_IDS = [f"{loss}-{head}-{kind}" for loss, head, kind in CASES]
N, C = 6, 4


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


def make_y(kind: str, rng: np.random.Generator, n: int = N, c: int = C) -> np.ndarray:
    """Labels (n,) or targets (n, c) uniform in [0, 1]."""
    return rng.integers(0, c, size=n) if kind == "labels" else rng.uniform(size=(n, c))


def one_hot(y: np.ndarray, c: int) -> np.ndarray:
    return np.eye(c)[y] if y.ndim == 1 else y


def reference(
    loss: str,
    head: str,
    z: np.ndarray,
    y: np.ndarray,
    gamma: float = 2.0,
    q: float = 0.7,
    delta: float = 1.0,
) -> np.ndarray:
    """Per-sample loss written independently, one sample and one output at a time."""
    out = []
    for i, zi in enumerate(z):
        c = len(zi)
        t = one_hot(y, c)[i]
        yhat = {"softmax": np.exp(log_softmax(zi)), "sigmoid": expit(zi), "linear": zi}[head]
        d = yhat - t
        if loss == "mse":
            v = sum(dj * dj for dj in d) / c
        elif loss == "mae":
            v = sum(abs(dj) for dj in d) / c
        elif loss == "huber":
            v = (
                sum(0.5 * dj * dj if abs(dj) < delta else delta * (abs(dj) - delta / 2) for dj in d)
                / c
            )
        elif loss == "ce" and head == "sigmoid":
            v = (
                sum(
                    -tj * log_expit(zj) - (1 - tj) * log_expit(-zj)
                    for zj, tj in zip(zi, t, strict=True)
                )
                / c
            )
        elif loss == "hinge":
            v = sum(max(0.0, 1 - zi[y[i]] + zi[j]) for j in range(c) if j != y[i]) / c
        else:
            logp = log_softmax(zi)[y[i]]
            v = {
                "ce": -logp,
                "focal": -((1 - math.exp(logp)) ** gamma) * logp,
                "gce": (1 - math.exp(logp) ** q) / q,
            }[loss]
        out.append(v)
    return np.array(out)


def kink_distance(loss: str, head: str, z: np.ndarray, y: np.ndarray, delta: float = 1.0) -> float:
    """How far z is from the nearest point where the loss is not differentiable."""
    if loss in ("mae", "huber"):
        yhat = {"softmax": np.exp(log_softmax(z, axis=1)), "sigmoid": expit(z), "linear": z}[head]
        a = np.abs(yhat - one_hot(y, z.shape[1]))
        return float(np.min(a if loss == "mae" else np.abs(a - delta)))
    if loss == "hinge":
        margin = 1 - z[np.arange(len(y)), y][:, None] + z
        margin[np.arange(len(y)), y] = np.inf
        return float(np.min(np.abs(margin)))
    return np.inf


def smooth_z(
    loss: str,
    head: str,
    y: np.ndarray,
    rng: np.random.Generator,
    delta: float = 1.0,
    scale: float = 2.0,
) -> np.ndarray:
    """Random z (N, C) resampled until it is at least 1e-3 away from every kink."""
    for _ in range(1000):
        z = rng.normal(size=(len(y), C)) * scale
        if kink_distance(loss, head, z, y, delta) > 1e-3:
            return z
    raise AssertionError("no smooth point found")


def finite_difference_grad(
    loss: str, head: str, z: np.ndarray, y: np.ndarray, h: float = 1e-6, **params: float
) -> np.ndarray:
    """Central differences of each sample's loss; loss_i depends on row i only, so a column at a time."""
    grad = np.empty_like(z)
    for j in range(z.shape[1]):
        zp, zm = z.copy(), z.copy()
        zp[:, j] += h
        zm[:, j] -= h
        grad[:, j] = (
            evaluate(loss, head, zp, y, **params)[0] - evaluate(loss, head, zm, y, **params)[0]
        ) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-12))


# ---------------------------------------------------------------- registry


def test_registry_holds_the_stable_names() -> None:
    assert list(LOSSES) == ["mse", "ce", "mae", "huber", "hinge", "focal", "gce"]


def test_valid_heads_are_as_documented() -> None:
    assert VALID_HEADS == {
        "mse": ("softmax", "sigmoid", "linear"),
        "ce": ("softmax", "sigmoid"),
        "mae": ("softmax", "sigmoid", "linear"),
        "huber": ("softmax", "sigmoid", "linear"),
        "hinge": ("linear",),
        "focal": ("softmax",),
        "gce": ("softmax",),
    }


@pytest.mark.parametrize("name", list(LOSSES))
def test_every_loss_states_its_formula_and_name(name: str) -> None:
    loss = LOSSES[name]
    assert loss.name == name
    assert loss.__doc__ and "=" in loss.__doc__
    assert loss.accepts_labels


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize(("loss", "head", "kind"), CASES, ids=CASE_IDS)
def test_gradient_matches_finite_differences(
    loss: str, head: str, kind: str, rng: np.random.Generator
) -> None:
    y = make_y(kind, rng)
    z = smooth_z(loss, head, y, rng)
    _, grad = evaluate(loss, head, z, y)
    assert relative_error(grad, finite_difference_grad(loss, head, z, y)) < 1e-6


PARAM_CASES = {
    "focal-gamma-0": ("focal", {"gamma": 0.0}),
    "focal-gamma-0.5": ("focal", {"gamma": 0.5}),
    "focal-gamma-3": ("focal", {"gamma": 3.0}),
    "focal-alpha": ("focal", {"alpha": np.array([0.25, 1.0, 2.0, 0.5])}),
    "gce-q-0.1": ("gce", {"q": 0.1}),
    "gce-q-1": ("gce", {"q": 1.0}),
    "huber-delta-0.1": ("huber", {"delta": 0.1}),
    "huber-delta-3": ("huber", {"delta": 3.0}),
}


@pytest.mark.parametrize(("loss", "params"), list(PARAM_CASES.values()), ids=list(PARAM_CASES))
def test_gradient_matches_finite_differences_for_non_default_parameters(
    loss: str, params: dict, rng: np.random.Generator
) -> None:
    head = VALID_HEADS[loss][-1]  # linear for huber: residuals on both sides of δ
    y = make_y("labels", rng)
    z = smooth_z(loss, head, y, rng, delta=params.get("delta", 1.0), scale=3.0)
    _, grad = evaluate(loss, head, z, y, **params)
    assert relative_error(grad, finite_difference_grad(loss, head, z, y, **params)) < 1e-6


@pytest.mark.parametrize(
    ("loss", "head"), [("ce", "softmax"), ("focal", "softmax"), ("gce", "softmax")]
)
def test_gradient_is_accurate_when_the_true_class_is_nearly_certain(loss: str, head: str) -> None:
    z = np.array([[12.0, 0.0, -1.0], [0.0, 9.0, 1.0]])
    y = np.array([0, 1])
    _, grad = evaluate(loss, head, z, y)
    assert relative_error(grad, finite_difference_grad(loss, head, z, y, h=1e-4)) < 1e-6


# ---------------------------------------------------------------- known values


@pytest.mark.parametrize(("loss", "head", "kind"), CASES, ids=CASE_IDS)
def test_values_match_an_independent_reference(
    loss: str, head: str, kind: str, rng: np.random.Generator
) -> None:
    y = make_y(kind, rng)
    z = rng.normal(size=(N, C)) * 3
    value, _ = evaluate(loss, head, z, y)
    np.testing.assert_allclose(value, reference(loss, head, z, y), rtol=1e-12, atol=1e-14)


HAND = [
    ("ce", "softmax", [[0.0, 0.0]], [0], math.log(2)),
    ("ce", "sigmoid", [[0.0]], [[1.0]], math.log(2)),
    ("ce", "sigmoid", [[0.0, 2.0]], [[0.5, 1.0]], (math.log(2) + math.log1p(math.exp(-2))) / 2),
    ("mse", "linear", [[1.0, 0.0]], [1], 1.0),
    ("mse", "softmax", [[0.0, 0.0]], [0], 0.25),
    ("mae", "linear", [[0.5, -1.0, 2.0]], [[0.0, 0.0, 0.0]], 3.5 / 3),
    ("huber", "linear", [[0.5, 3.0]], [[0.0, 0.0]], (0.125 + 2.5) / 2),
    ("hinge", "linear", [[1.0, 2.0, 0.0]], [0], 2 / 3),
    ("hinge", "linear", [[3.0, 1.0, 0.5]], [0], 0.0),
    ("focal", "softmax", [[0.0, 0.0]], [0], 0.25 * math.log(2)),
    ("gce", "softmax", [[0.0, 0.0]], [1], (1 - 0.5**0.7) / 0.7),
]


@pytest.mark.parametrize(
    ("loss", "head", "z", "y", "expected"),
    HAND,
    ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(HAND)],
)
def test_small_cases_match_hand_computed_values(
    loss: str, head: str, z: list, y: list, expected: float
) -> None:
    value, _ = evaluate(loss, head, np.array(z), np.array(y))
    assert value.shape == (1,)
    assert value[0] == pytest.approx(expected, rel=1e-12)


def test_hinge_gradient_counts_the_violated_margins() -> None:
    _, grad = evaluate("hinge", "linear", np.array([[1.0, 2.0, 0.5, -3.0]]), np.array([0]))
    np.testing.assert_allclose(grad, [[-2 / 4, 1 / 4, 1 / 4, 0.0]])


def test_mae_gradient_is_zero_where_output_equals_target() -> None:
    _, grad = evaluate("mae", "linear", np.array([[0.5, 1.0]]), np.array([[0.5, 0.0]]))
    np.testing.assert_array_equal(grad, [[0.0, 0.5]])


def test_ce_softmax_gradient_is_probabilities_minus_one_hot(rng: np.random.Generator) -> None:
    z, y = rng.normal(size=(N, C)), make_y("labels", rng)
    _, grad = evaluate("ce", "softmax", z, y)
    np.testing.assert_allclose(
        grad, np.exp(log_softmax(z, axis=1)) - one_hot(y, C), rtol=1e-13, atol=1e-16
    )


# ---------------------------------------------------------------- stability

WRONG = np.array([[1000.0, -1000.0, 0.0]])  # the true class (1) at −1000, another at +1000
RIGHT = -WRONG
# (loss, head) → (loss at WRONG, loss at RIGHT), true class 1, from the limits by hand.
LIMITS = {
    ("mse", "softmax"): (2 / 3, 0.0),
    ("mse", "sigmoid"): (2.25 / 3, 0.25 / 3),
    ("mse", "linear"): ((1000**2 + 1001**2) / 3, (1000**2 + 999**2) / 3),
    ("ce", "softmax"): (2000.0, 0.0),
    ("ce", "sigmoid"): ((2000 + math.log(2)) / 3, math.log(2) / 3),
    ("mae", "softmax"): (2 / 3, 0.0),
    ("mae", "sigmoid"): (2.5 / 3, 0.5 / 3),
    ("mae", "linear"): (2001 / 3, 1999 / 3),
    ("huber", "softmax"): (1 / 3, 0.0),
    ("huber", "sigmoid"): (1.125 / 3, 0.125 / 3),
    ("huber", "linear"): ((999.5 + 1000.5) / 3, (999.5 + 998.5) / 3),
    ("hinge", "linear"): ((2001 + 1001) / 3, 0.0),
    ("focal", "softmax"): (2000.0, 0.0),
    ("gce", "softmax"): (1 / 0.7, 0.0),
}


def test_limits_cover_every_pair() -> None:
    assert sorted(LIMITS) == sorted(PAIRS)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("loss", "head"), PAIRS, ids=PAIR_IDS)
def test_values_and_gradients_are_finite_with_correct_limits_at_huge_logits(
    loss: str, head: str, dtype: type
) -> None:
    for z, expected in zip((WRONG, RIGHT), LIMITS[(loss, head)], strict=True):
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            value, grad = evaluate(loss, head, z.astype(dtype), np.array([1]))
        assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
        assert value[0] == pytest.approx(expected, rel=1e-6, abs=1e-6)
        bound = 1000.0 if (loss, head) in {("mse", "linear")} else 1.0
        assert np.max(np.abs(grad)) <= bound


@pytest.mark.parametrize(("loss", "head"), [("ce", "softmax"), ("focal", "softmax")])
def test_softmax_losses_give_probabilities_minus_one_hot_when_confidently_wrong(
    loss: str, head: str
) -> None:
    _, grad = evaluate(loss, head, WRONG, np.array([1]))
    np.testing.assert_allclose(grad, [[1.0, -1.0, 0.0]], atol=1e-12)


@pytest.mark.parametrize(("loss", "head"), PAIRS, ids=PAIR_IDS)
def test_a_certain_right_answer_costs_positive_zero(loss: str, head: str) -> None:
    z = np.array([[50.0, -50.0, -50.0]]) if head != "linear" else np.array([[1.0, 0.0, 0.0]])
    if loss == "hinge":
        z = np.array([[2.0, 0.0, 0.0]])
    value, _ = evaluate(loss, head, z, np.array([0]))
    assert value[0] == pytest.approx(0.0, abs=1e-20)
    assert not np.signbit(value[0])


# ---------------------------------------------------------------- dtypes


@pytest.mark.parametrize(("loss", "head", "kind"), CASES, ids=CASE_IDS)
def test_float32_agrees_with_float64(
    loss: str, head: str, kind: str, rng: np.random.Generator
) -> None:
    y = make_y(kind, rng, n=64)
    z = rng.normal(size=(64, C)) * 3
    v64, g64 = evaluate(loss, head, z, y)
    v32, g32 = evaluate(
        loss, head, z.astype(np.float32), y.astype(np.float32) if kind == "targets" else y
    )
    assert v32.dtype == np.float32 and g32.dtype == np.float32
    assert v64.dtype == np.float64 and g64.dtype == np.float64
    # A float32 rounding may cross a kink: compare gradients only in rows away from every kink.
    mask = np.broadcast_to(_row_mask(loss, head, z, y)[:, None], z.shape)
    np.testing.assert_allclose(v32, v64, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g32[mask], g64[mask], rtol=1e-5, atol=1e-6)


def _row_mask(loss: str, head: str, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Rows at least 1e-4 away from every kink."""
    return np.array(
        [kink_distance(loss, head, z[i : i + 1], y[i : i + 1]) > 1e-4 for i in range(len(z))]
    )


@pytest.mark.parametrize(("loss", "head", "kind"), CASES, ids=CASE_IDS)
def test_inputs_are_not_modified(loss: str, head: str, kind: str, rng: np.random.Generator) -> None:
    y, z = make_y(kind, rng), rng.normal(size=(N, C))
    y0, z0 = y.copy(), z.copy()
    evaluate(loss, head, z, y)
    np.testing.assert_array_equal(z, z0)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.parametrize(("loss", "head"), PAIRS, ids=PAIR_IDS)
def test_empty_batch_gives_empty_outputs(loss: str, head: str) -> None:
    value, grad = evaluate(loss, head, np.zeros((0, 3), np.float32), np.zeros(0, int))
    assert value.shape == (0,) and grad.shape == (0, 3) and grad.dtype == np.float32


# ---------------------------------------------------------------- parameters and weights


@pytest.mark.parametrize(("loss", "head"), PAIRS, ids=PAIR_IDS)
def test_class_weights_scale_loss_and_gradient_per_sample(
    loss: str, head: str, rng: np.random.Generator
) -> None:
    z, y = rng.normal(size=(N, C)), make_y("labels", rng)
    w = np.array([0.5, 2.0, 0.0, 3.0])
    v, g = evaluate(loss, head, z, y)
    vw, gw = evaluate(loss, head, z, y, class_weights=w)
    np.testing.assert_allclose(vw, w[y] * v, rtol=1e-14)
    np.testing.assert_allclose(gw, w[y][:, None] * g, rtol=1e-14)


def test_focal_alpha_scales_loss_and_gradient_per_sample(rng: np.random.Generator) -> None:
    z, y = rng.normal(size=(N, C)), make_y("labels", rng)
    alpha = np.array([0.25, 1.0, 2.0, 0.5])
    v, g = evaluate("focal", "softmax", z, y)
    va, ga = evaluate("focal", "softmax", z, y, alpha=alpha)
    np.testing.assert_allclose(va, alpha[y] * v, rtol=1e-14)
    np.testing.assert_allclose(ga, alpha[y][:, None] * g, rtol=1e-14)


def test_focal_with_gamma_zero_equals_ce(rng: np.random.Generator) -> None:
    z, y = rng.normal(size=(N, C)) * 3, make_y("labels", rng)
    for a, b in zip(
        evaluate("focal", "softmax", z, y, gamma=0.0), evaluate("ce", "softmax", z, y), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_gce_at_q_one_equals_one_minus_p_true(rng: np.random.Generator) -> None:
    z, y = rng.normal(size=(N, C)) * 3, make_y("labels", rng)
    p_true = np.exp(log_softmax(z, axis=1))[np.arange(N), y]
    value, grad = evaluate("gce", "softmax", z, y, q=1.0)
    np.testing.assert_allclose(value, 1 - p_true, rtol=1e-13)
    assert np.all(np.isfinite(grad))


def test_gce_approaches_one_minus_p_true_as_q_tends_to_one(rng: np.random.Generator) -> None:
    z, y = rng.normal(size=(N, C)) * 3, make_y("labels", rng)
    p_true = np.exp(log_softmax(z, axis=1))[np.arange(N), y]
    value, _ = evaluate("gce", "softmax", z, y, q=1 - 1e-9)
    np.testing.assert_allclose(value, 1 - p_true, rtol=1e-7)


def test_gce_approaches_ce_as_q_tends_to_zero(rng: np.random.Generator) -> None:
    z, y = rng.normal(size=(N, C)), make_y("labels", rng)
    value, _ = evaluate("gce", "softmax", z, y, q=1e-8)
    np.testing.assert_allclose(value, evaluate("ce", "softmax", z, y)[0], rtol=1e-6)


def test_unused_parameters_are_ignored(rng: np.random.Generator) -> None:
    z, y = rng.normal(size=(N, C)), make_y("labels", rng)
    a = evaluate("mse", "softmax", z, y)
    b = evaluate("mse", "softmax", z, y, gamma=5.0, q=0.2, delta=0.5)
    np.testing.assert_array_equal(a[0], b[0])


# ---------------------------------------------------------------- refusals

Z = np.zeros((2, 3))
LABELS = np.array([0, 2])
REFUSALS = {
    "unknown-loss": (
        ("nll", "softmax", Z, LABELS),
        {},
        "valid losses: mse, ce, mae, huber, hinge, focal, gce",
    ),
    "unknown-head": (("mse", "tanh", Z, LABELS), {}, "valid heads: softmax, sigmoid, linear"),
    "hinge-softmax": (("hinge", "softmax", Z, LABELS), {}, "valid heads for hinge: linear"),
    "ce-linear": (("ce", "linear", Z, LABELS), {}, "valid heads for ce: softmax, sigmoid"),
    "focal-sigmoid": (("focal", "sigmoid", Z, LABELS), {}, "valid heads for focal: softmax"),
    "targets-for-hinge": (("hinge", "linear", Z, Z), {}, "ce (sigmoid)"),
    "targets-for-ce-softmax": (("ce", "softmax", Z, Z), {}, "needs class labels"),
    "float-labels": (("mse", "linear", Z, np.array([0.0, 1.0])), {}, "integer array"),
    "label-too-large": (("ce", "softmax", Z, np.array([0, 3])), {}, "0..2"),
    "label-negative": (("ce", "softmax", Z, np.array([-1, 0])), {}, "0..2"),
    "labels-wrong-length": (("ce", "softmax", Z, np.array([0, 1, 2])), {}, "(2,)"),
    "targets-wrong-shape": (("mse", "linear", Z, np.zeros((2, 4))), {}, "(2, 3)"),
    "z-one-dimensional": (("mse", "linear", np.zeros(3), LABELS), {}, "(n, c)"),
    "z-integer": (("mse", "linear", np.zeros((2, 3), int), LABELS), {}, "float32 or float64"),
    "bce-targets-outside-unit": (("ce", "sigmoid", Z, np.full((2, 3), 1.5)), {}, "[0, 1]"),
    "negative-gamma": (("focal", "softmax", Z, LABELS), {"gamma": -1.0}, "≥ 0"),
    "q-zero": (("gce", "softmax", Z, LABELS), {"q": 0.0}, "(0, 1]"),
    "q-above-one": (("gce", "softmax", Z, LABELS), {"q": 1.5}, "(0, 1]"),
    "gamma-not-a-number": (("focal", "softmax", Z, LABELS), {"gamma": "two"}, "number"),
    "delta-infinite": (
        ("huber", "linear", Z, LABELS),
        {"delta": float("inf")},
        "finite number > 0",
    ),
    "q-nan": (("gce", "softmax", Z, LABELS), {"q": float("nan")}, "(0, 1]"),
    "weights-nan": (
        ("ce", "softmax", Z, LABELS),
        {"class_weights": np.array([1.0, np.nan, 1.0])},
        "≥ 0",
    ),
    "targets-complex": (("mse", "linear", Z, Z.astype(complex)), {}, "real numbers"),
    "delta-zero": (("huber", "linear", Z, LABELS), {"delta": 0.0}, "> 0"),
    "weights-wrong-length": (("ce", "softmax", Z, LABELS), {"class_weights": np.ones(2)}, "(3,)"),
    "weights-negative": (
        ("ce", "softmax", Z, LABELS),
        {"class_weights": np.array([1.0, -1.0, 1.0])},
        "≥ 0",
    ),
    "weights-with-targets": (
        ("mse", "linear", Z, Z),
        {"class_weights": np.ones(3)},
        "class labels",
    ),
    "alpha-wrong-length": (("focal", "softmax", Z, LABELS), {"alpha": np.ones(4)}, "(3,)"),
}


@pytest.mark.parametrize(("args", "kwargs", "valid"), list(REFUSALS.values()), ids=list(REFUSALS))
def test_invalid_input_is_refused_with_the_valid_options(
    args: tuple, kwargs: dict, valid: str
) -> None:
    with pytest.raises(LossError) as info:
        evaluate(*args, **kwargs)
    message = str(info.value)
    assert isinstance(info.value, LossdbError)
    assert valid in message
    assert "\n" not in message and message.count(";") <= 2


def test_invalid_pair_message_names_both_the_loss_and_the_head() -> None:
    with pytest.raises(
        LossError,
        match="loss 'hinge' does not work with head 'softmax'; valid heads for hinge: linear",
    ):
        evaluate("hinge", "softmax", Z, LABELS)


# ---------------------------------------------------------------- true-class curves

P = np.array([1e-6, 1e-3, 0.1, 0.5, 0.9, 1.0])


def test_ce_curve_is_minus_log_p() -> None:
    value, _ = true_class_curve("ce", "softmax", P)
    np.testing.assert_allclose(value, -np.log(P), rtol=1e-12, atol=1e-12)


def test_ce_curve_is_zero_at_certainty() -> None:
    value, grad_norm = true_class_curve("ce", "softmax", np.array([1.0]))
    assert value[0] == pytest.approx(0.0, abs=1e-12) and grad_norm[0] == pytest.approx(
        0.0, abs=1e-12
    )


def test_ce_curve_gradient_norm_is_closed_form() -> None:
    _, grad_norm = true_class_curve("ce", "softmax", P, n_classes=10)
    np.testing.assert_allclose(grad_norm, (1 - P) * np.sqrt(10 / 9), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("head", VALID_HEADS["mse"])
def test_mse_curve_is_bounded_by_its_closed_form(head: str) -> None:
    # ŷ = (p, (1−p)/(c−1), …): mse = [(1−p)² + (1−p)²/(c−1)]/c = (1−p)²/(c−1) ≤ 1/(c−1).
    value, _ = true_class_curve("mse", head, P, n_classes=5)
    np.testing.assert_allclose(value, (1 - P) ** 2 / 4, rtol=1e-9, atol=1e-14)
    assert np.all(value <= 1 / 4)


@pytest.mark.parametrize("head", VALID_HEADS["mae"])
def test_mae_curve_is_closed_form(head: str) -> None:
    value, _ = true_class_curve("mae", head, P, n_classes=5)
    np.testing.assert_allclose(value, 2 * (1 - P) / 5, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize(("loss", "head"), PAIRS, ids=PAIR_IDS)
def test_curves_are_finite_down_to_tiny_probabilities(loss: str, head: str) -> None:
    p = np.geomspace(1e-6, 1.0, 25)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value, grad_norm = true_class_curve(loss, head, p)
    assert value.shape == grad_norm.shape == (25,)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad_norm))


def test_curve_goes_through_evaluate_with_its_parameters() -> None:
    value, _ = true_class_curve("focal", "softmax", np.array([0.2]), n_classes=3, gamma=0.0)
    assert value[0] == pytest.approx(-math.log(0.2), rel=1e-12)


@pytest.mark.parametrize(("p", "n_classes", "valid"), [([1.5], 10, "[0, 1]"), ([0.5], 1, "≥ 2")])
def test_curve_refuses_impossible_inputs(p: list, n_classes: int, valid: str) -> None:
    with pytest.raises(LossError, match=valid.replace("[", r"\[").replace("]", r"\]")):
        true_class_curve("ce", "softmax", np.array(p), n_classes=n_classes)


def test_losses_module_exposes_params_defaults() -> None:
    assert dict(losses.LOSSES["focal"].params) == {"gamma": 2.0, "alpha": None}
    assert dict(losses.LOSSES["gce"].params) == {"q": 0.7}
    assert dict(losses.LOSSES["huber"].params) == {"delta": 1.0}
