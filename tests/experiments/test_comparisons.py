"""A user's [[comparisons]]: parsed with their defaults, the default ones, stored and read back."""

from __future__ import annotations

import json

import pytest

from lossdb.core.experiments import spec as ex
from lossdb.core.engine import series
from lossdb.core.experiments.comparisons import Comparison, comparisons_of
from lossdb.core.data.prepare import DataSpec
from lossdb.core.engine.nets import NetSpec
from lossdb.core.engine.optim import OptimSpec
from lossdb.core.engine.train import ModelSpec, StackSpec, train_stack

ARMS = """
[experiment]
name = "mine"
[data]
dataset = "{dataset}"
[train]
epochs = 2
seeds = 2
[[arms]]
loss = "{first}"
head = "{head}"
[[arms]]
loss = "focal"
head = "softmax"
gamma = 2
label = "focal"
[[arms]]
loss = "mse"
head = "{head}"
"""


def experiment(comparisons: str = "", dataset: str = "iris", first: str = "ce", head: str = "softmax"):
    """An iris experiment with arms ce/softmax, focal and mse/softmax, and the given comparisons."""
    return ex.parse(ARMS.format(dataset=dataset, first=first, head=head) + comparisons, "mine.toml")


def test_a_declared_comparison_keeps_every_value_it_sets():
    exp = experiment("""
[[comparisons]]
name = "focal-beats-ce"
claim = "Focal loss gives better balanced accuracy than CE on my data"
favoured = "focal"
other = "ce/softmax"
metric = "test_balanced_accuracy"
at = "best"
better = "higher"
min_effect = 0.02
""")
    assert exp.comparisons[0] == Comparison(
        "focal-beats-ce", "Focal loss gives better balanced accuracy than CE on my data", "focal",
        "ce/softmax", "test_balanced_accuracy", "best", "higher", 0.02, ratio=False)
    assert [c.declared for c in exp.comparisons] == [True, False]  # mse/softmax: the default


def test_an_arm_in_no_declared_comparison_is_compared_with_the_first_by_default():
    exp = experiment('[[comparisons]]\nfavoured = "focal"\nother = "ce/softmax"\n')
    (mse,) = [c for c in exp.comparisons if not c.declared]
    assert (mse.favoured, mse.other, mse.metric, mse.at, mse.min_effect) == (
        "mse/softmax", "ce/softmax", "test_accuracy", "final", 0.01)


def test_a_first_arm_in_no_declared_comparison_is_compared_with_the_second():
    exp = experiment('[[comparisons]]\nfavoured = "mse/softmax"\nother = "focal"\n')
    assert [(c.favoured, c.other, c.declared) for c in exp.comparisons] == [
        ("mse/softmax", "focal", True), ("ce/softmax", "focal", False)]


def test_a_default_comparison_never_takes_a_declared_name():
    exp = experiment('[[comparisons]]\nname = "mse/softmax-vs-ce/softmax"\nfavoured = "focal"\n'
                     'other = "ce/softmax"\n')
    assert [c.name for c in exp.comparisons] == ["mse/softmax-vs-ce/softmax", "mse/softmax-vs-ce/softmax-default"]


def test_the_default_comparison_of_an_undeclared_arm_is_judged(tmp_path):
    from typer.testing import CliRunner

    from lossdb.cli.main import app

    toml = tmp_path / "mine.toml"
    toml.write_text(ARMS.format(dataset="iris", first="ce", head="softmax").replace("epochs = 3", "epochs = 2")
                    + '[[comparisons]]\nfavoured = "focal"\nother = "ce/softmax"\n')
    db = str(tmp_path / "m.db")
    assert CliRunner().invoke(app, ["run", "-c", str(toml), "--seeds", "2", "--epochs", "2", "--db", db]).exit_code == 0
    result = CliRunner().invoke(app, ["compare", "-e", "mine", "--format", "json", "--db", db])
    rows = {r["claim"]: r for r in json.loads(result.output)}
    assert rows["mine:mse/softmax-vs-ce/softmax"]["arms"] == ["mse/softmax", "ce/softmax"]
    assert rows["mine:mse/softmax-vs-ce/softmax"]["n"] == 2


def test_an_omitted_name_claim_metric_at_better_and_min_effect_take_their_defaults():
    (c, _mse) = experiment('[[comparisons]]\nfavoured = "focal"\nother = "ce/softmax"\n').comparisons
    assert (c.name, c.metric, c.at, c.better, c.min_effect, c.ratio) == (
        "focal-vs-ce/softmax", "test_accuracy", "final", "higher", 0.01, False)
    assert c.claim == "focal gives higher test_accuracy than ce/softmax at the end."


def test_epochs_to_a_threshold_is_fewer_epochs_better_and_a_ratio():
    (c, _mse) = experiment('[[comparisons]]\nfavoured = "focal"\nother = "ce/softmax"\nat = "epochs_to:0.9"\n').comparisons
    assert (c.at, c.threshold, c.better, c.ratio, c.min_effect, c.below) == (
        ("epochs_to", 0.9), 0.9, "lower", True, 1.1, False)


def test_epochs_to_on_a_lower_is_better_metric_counts_epochs_until_it_falls_below():
    (c, _mse) = experiment('[[comparisons]]\nfavoured = "focal"\nother = "ce/softmax"\n'
                      'metric = "test_loss"\nat = "epochs_to:0.5"\n').comparisons
    assert c.below and c.claim == "focal reaches test_loss ≤ 0.5 in fewer epochs than ce/softmax."


def test_a_loss_or_rmse_is_compared_as_a_ratio_by_default():
    (c, _mse) = experiment('[[comparisons]]\nfavoured = "focal"\nother = "ce/softmax"\nmetric = "test_nll"\n').comparisons
    assert (c.better, c.ratio, c.min_effect) == ("lower", True, 1.05)


def test_without_comparisons_every_arm_is_compared_with_the_first_on_test_accuracy():
    names = [(c.favoured, c.other, c.metric, c.better, c.ratio, c.declared) for c in experiment().comparisons]
    assert names == [("focal", "ce/softmax", "test_accuracy", "higher", False, False),
                     ("mse/softmax", "ce/softmax", "test_accuracy", "higher", False, False)]


def test_without_comparisons_a_regression_experiment_compares_test_rmse_as_a_ratio():
    text = ARMS.split("[[arms]]")[0].format(dataset="diabetes") + \
        '[[arms]]\nloss = "mse"\nhead = "linear"\n[[arms]]\nloss = "mae"\nhead = "linear"\n'
    (c,) = ex.parse(text, "r.toml").comparisons
    assert (c.favoured, c.other, c.metric, c.better, c.ratio, c.min_effect) == (
        "mae/linear", "mse/linear", "test_rmse", "lower", True, 1.05)


def test_catalogue_experiments_have_no_comparisons_and_store_their_definition_unchanged():
    for exp in ex.catalogue().values():
        assert exp.comparisons == () and exp.spec == exp.raw


def test_the_stored_spec_gives_back_the_same_comparisons():
    exp = experiment('[[comparisons]]\nfavoured = "focal"\nother = "ce/softmax"\nat = "epochs_to:0.9"\n')
    assert comparisons_of(exp.spec) == exp.comparisons
    assert comparisons_of(experiment().spec) == experiment().comparisons
    assert comparisons_of({"experiment": {"name": "old"}}) == ()


def _stored_names(data: DataSpec, head: str) -> set[str]:
    loss = "mse" if head == "linear" else "ce"
    spec = StackSpec(data=data, net=NetSpec(0, 0, hidden=(4,)), optim=OptimSpec("sgd"), epochs=1,
                     batch_size=None, models=(ModelSpec(loss, head, 0.1, 0),), dtype="float64")
    return set(train_stack(spec)[0].metrics)


@pytest.mark.parametrize(("data", "head", "task"), [
    (DataSpec("iris"), "softmax", "classification"),
    (DataSpec("iris"), "linear", "classification"),
    (DataSpec("blobs", n_samples=60, imbalance=5), "softmax", "classification"),
    (DataSpec("sine", n_samples=40), "linear", "regression"),
    (DataSpec("sine", n_samples=40), "sigmoid", "regression"),
    (DataSpec("neuron"), "sigmoid", "regression"),
], ids=["softmax", "linear head", "imbalanced", "regression", "regression sigmoid", "neuron"])
def test_series_stored_names_exactly_what_the_trainer_records(data: DataSpec, head: str, task: str):
    expected = series.stored(task, head, imbalanced=data.imbalance != 1, neuron=data.dataset == "neuron")
    assert _stored_names(data, head) == expected
