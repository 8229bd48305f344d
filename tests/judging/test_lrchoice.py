"""core.judging.lrchoice: the one learning-rate rule, on validation only, with its tie band."""

import math

import pytest

from lossdb.core.judging.lrchoice import choose, chosen_lrs, validation_metric


def _rows(table: dict[float, list[float]], label: str = "ce/softmax", metric: str = "val_accuracy",
          diverged: set[tuple[float, int]] = frozenset()) -> list[dict]:
    return [{"label": label, "lr": lr, metric: v, "test_accuracy": 1.0 - v,
             "status": "diverged" if (lr, seed) in diverged else "finished"}
            for lr, values in table.items() for seed, v in enumerate(values)]


def test_the_best_validation_rate_wins_never_the_test_one():
    rows = _rows({0.1: [0.80, 0.81, 0.79], 0.5: [0.90, 0.91, 0.89]})
    assert chosen_lrs(rows)["ce/softmax"].lr == 0.5


def test_a_rate_that_diverged_on_any_seed_scores_as_the_worst_on_that_seed():
    rows = _rows({0.5: [0.90, 0.90, 0.90], 2.0: [0.95, 0.95, 0.95]}, diverged={(2.0, 2)})
    assert chosen_lrs(rows)["ce/softmax"].lr == 0.5


def test_a_regression_metric_is_minimised():
    rows = _rows({0.1: [2.0, 2.1], 0.01: [1.0, 1.1]}, label="mse/linear", metric="val_rmse")
    assert chosen_lrs(rows)["mse/linear"].lr == 0.01


def test_rates_within_one_standard_error_are_tied_and_the_smaller_is_chosen():
    choice = choose({1.0: [0.90, 0.92, 0.88], 3.0: [0.905, 0.925, 0.885]}, "max")
    assert choice.tied == (1.0, 3.0) and choice.lr == 1.0 and choice.fragile


def test_a_clear_winner_has_no_ties():
    choice = choose({1.0: [0.80, 0.81, 0.79], 3.0: [0.90, 0.91, 0.89]}, "max")
    assert choice.tied == (3.0,) and not choice.fragile


def test_for_speed_the_fastest_of_the_tied_rates_is_chosen():
    choice = choose({1.0: [0.90, 0.92, 0.88], 3.0: [0.905, 0.925, 0.885]}, "max", speed={1.0: 12.0, 3.0: 4.0})
    assert choice.lr == 3.0


def test_calibration_claims_choose_on_validation_nll():
    rows = [{"val_nll": 0.3, "val_accuracy": 0.9}]
    assert validation_metric(rows, "nll") == ("val_nll", "min")
    assert validation_metric(rows, "accuracy") == ("val_accuracy", "max")


def test_no_finite_score_gives_no_choice():
    assert choose({1.0: [math.nan, math.nan]}, "max") is None


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode"):
        choose({1.0: [0.5]}, "best")
