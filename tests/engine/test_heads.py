"""Output heads: values against scipy, stability, probabilities, and vjp against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit
from scipy.special import softmax as scipy_softmax

from lossdb.core.engine import heads
from lossdb.core.errors import LossdbError, LossError

EXTREME = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0], [-1000.0, -1000.0, -1000.0]])


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.mark.parametrize("head", heads.HEADS)
def test_apply_matches_scipy(head: str, rng: np.random.Generator) -> None:
    z = rng.normal(size=(5, 4)) * 3
    expected = {"softmax": scipy_softmax(z, axis=-1), "sigmoid": expit(z), "linear": z}[head]
    np.testing.assert_allclose(heads.apply(head, z), expected, rtol=1e-14, atol=1e-15)


def test_softmax_rows_sum_to_one_over_leading_axes(rng: np.random.Generator) -> None:
    y = heads.apply("softmax", rng.normal(size=(3, 5, 7)) * 10)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("head", heads.HEADS)
def test_apply_is_stable_and_keeps_dtype_at_large_logits(head: str, dtype: type) -> None:
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = heads.apply(head, EXTREME.astype(dtype))
    assert y.dtype == dtype
    assert np.all(np.isfinite(y))
    if head == "softmax":
        np.testing.assert_allclose(y[0], [1, 0, 0], atol=1e-30)
        np.testing.assert_allclose(y[2], [1 / 3] * 3, rtol=1e-6)
    if head == "sigmoid":
        np.testing.assert_allclose(y[0], [1, 0, 0.5], atol=1e-30)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("head", heads.HEADS)
def test_probabilities_sum_to_one_and_are_stable(
    head: str, dtype: type, rng: np.random.Generator
) -> None:
    z = np.concatenate([EXTREME, rng.normal(size=(6, 3)) * 5]).astype(dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = heads.probabilities(head, z)
    assert p.dtype == dtype
    assert np.all((p >= 0) & (p <= 1))
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-6)


def test_sigmoid_probabilities_are_normalised_sigmoids(rng: np.random.Generator) -> None:
    z = rng.normal(size=(5, 4)) * 3
    s = expit(z)
    np.testing.assert_allclose(
        heads.probabilities("sigmoid", z), s / s.sum(axis=1, keepdims=True), rtol=1e-13
    )


def test_sigmoid_probabilities_survive_all_sigmoids_underflowing() -> None:
    p = heads.probabilities("sigmoid", np.array([[-1000.0, -1001.0, -2000.0]]))
    np.testing.assert_allclose(
        p, [[1 / (1 + np.exp(-1)), np.exp(-1) / (1 + np.exp(-1)), 0]], rtol=1e-13
    )


def test_linear_probabilities_clip_and_renormalise() -> None:
    z = np.array([[0.5, 2.0, -1.0, 0.5], [-1.0, -2.0, 0.0, -0.5]])
    expected = np.array([[0.25, 0.5, 0.0, 0.25], [0.25, 0.25, 0.25, 0.25]])
    np.testing.assert_allclose(heads.probabilities("linear", z), expected)


def test_softmax_probabilities_equal_apply(rng: np.random.Generator) -> None:
    z = rng.normal(size=(4, 3))
    np.testing.assert_array_equal(heads.probabilities("softmax", z), heads.apply("softmax", z))


def test_softmax_with_log_matches_scipy(rng: np.random.Generator) -> None:
    from scipy.special import log_softmax

    z = np.concatenate([EXTREME, rng.normal(size=(4, 3)) * 5])
    p, logp = heads.softmax_with_log(z)
    np.testing.assert_allclose(p, scipy_softmax(z, axis=1), rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(logp, log_softmax(z, axis=1), rtol=1e-13)


@pytest.mark.parametrize("head", heads.HEADS)
def test_vjp_matches_finite_differences_of_apply(head: str, rng: np.random.Generator) -> None:
    z = rng.normal(size=(4, 5)) * 2
    g = rng.normal(size=z.shape)
    analytic = heads.vjp(head, heads.apply(head, z), g)
    h = 1e-6
    numeric = np.empty_like(z)
    for j in range(z.shape[1]):
        zp, zm = z.copy(), z.copy()
        zp[:, j] += h
        zm[:, j] -= h
        diff = heads.apply(head, zp) - heads.apply(head, zm)
        numeric[:, j] = (diff * g).sum(axis=1) / (2 * h)
    assert np.max(np.abs(analytic - numeric)) / np.max(np.abs(numeric)) < 1e-6


@pytest.mark.parametrize("call", ["apply", "probabilities", "vjp"])
def test_unknown_head_is_refused_with_the_valid_heads(call: str) -> None:
    z = np.zeros((2, 3))
    args = ("tanh", z, z) if call == "vjp" else ("tanh", z)
    with pytest.raises(LossError, match="valid heads: softmax, sigmoid, linear") as info:
        getattr(heads, call)(*args)
    assert isinstance(info.value, LossdbError)
    assert "'tanh'" in str(info.value)


@pytest.mark.parametrize("c", [1, 2, 64, 65, 300])
def test_softmax_matches_scipy_for_any_number_of_classes(c: int, rng: np.random.Generator) -> None:
    z = rng.normal(size=(7, c)) * 10
    np.testing.assert_allclose(heads.softmax(z), scipy_softmax(z, axis=-1), rtol=1e-13, atol=1e-300)
